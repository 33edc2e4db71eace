/**
 * Shell completion scripts, generated from the same command/option table the parser uses (lib/cli.ts),
 * so a new command or option completes without touching this file.
 *
 * Every script completes: commands (with their summaries where the shell shows them), options per
 * command, option choices (--format, --prompt...), positional choices (completions SHELL, help CMD),
 * the program after `exec`, file names for file options, and AWS profile names for --profile/--target,
 * read when completing from $AWS_CONFIG_FILE / $AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/...).
 */
import { COMMANDS, type CommandSpec, GLOBAL_OPTIONS, type OptionSpec } from "./cli.ts";

export const COMPLETION_SHELLS = ["bash", "zsh", "fish", "powershell"] as const;
export type CompletionShell = typeof COMPLETION_SHELLS[number];

export interface CompletionTable {
  commands: CommandSpec[];
  globalOptions: OptionSpec[];
}

export function isCompletionShell(name: string): name is CompletionShell {
  return (COMPLETION_SHELLS as readonly string[]).includes(name);
}

/** parseArgv handles --version / -V itself (it is not in the table), and only before a command. */
const VERSION_OPTION: OptionSpec = {
  name: "version",
  short: "V",
  type: "boolean",
  help: "print the version",
};

/** What the value of an option or a positional completes to. */
type ValueKind =
  | { kind: "none" }
  | { kind: "choices"; choices: string[] }
  | { kind: "profiles" }
  | { kind: "files" }
  | { kind: "commands" }
  | { kind: "programs" };

function optionValueKind(option: OptionSpec): ValueKind {
  if (option.choices?.length) return { kind: "choices", choices: option.choices };
  if (option.complete === "profiles") return { kind: "profiles" };
  if (option.complete === "files") return { kind: "files" };
  return { kind: "none" };
}

function positionalKind(command: CommandSpec): ValueKind {
  if (command.positionalChoices?.length) {
    return { kind: "choices", choices: command.positionalChoices };
  }
  if (command.positionalComplete === "commands") return { kind: "commands" };
  if (command.positionalComplete === "programs") return { kind: "programs" };
  return { kind: "none" };
}

/** Every spelling of an option: --long, --alias..., -s. */
function spellings(option: OptionSpec): string[] {
  return [
    `--${option.name}`,
    ...(option.aliases ?? []).map((a) => `--${a}`),
    ...(option.short ? [`-${option.short}`] : []),
  ];
}

function longSpellings(option: OptionSpec): string[] {
  return spellings(option).filter((s) => s.startsWith("--"));
}

/** Options that take a value, across the whole table: the scripts skip their values to find the command. */
function valueOptions(table: CompletionTable): OptionSpec[] {
  const all = [...table.globalOptions, ...table.commands.flatMap((c) => c.options)];
  const seen = new Set<string>();
  return all.filter((o) => o.type === "string" && !seen.has(o.name) && seen.add(o.name));
}

/** Commands whose positionals are a command line of their own (exec). */
function programCommands(table: CompletionTable): string[] {
  return table.commands.filter((c) => c.positionalComplete === "programs").map((c) => c.name);
}

/**
 * awk program printing the profile names in an AWS file: with `config=1`, `[profile x]` → x and
 * `[default]` → default (other sections, such as sso-session, are not profiles); else every `[x]`.
 * No single quote inside, so each shell can embed it in its own single-quoted string.
 */
const PROFILES_AWK = [
  "/^[ \\t]*\\[/ {",
  '  name = $0; sub(/^[ \\t]*\\[[ \\t]*/, "", name)',
  '  if (index(name, "]") == 0) next',
  '  sub(/[ \\t]*\\].*$/, "", name)',
  '  if (config == 1) { if (name ~ /^profile[ \\t]/) { sub(/^profile[ \\t]+/, "", name); print name }',
  '    else if (name == "default") print name }',
  '  else if (name != "") print name',
  "}",
].join("\n");

// ---------------------------------------------------------------- quoting, one per shell

/** POSIX single quotes (bash, zsh). */
function shQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** fish single quotes: only \\ and \' are special. */
function fishQuote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** PowerShell single quotes: ' doubles. */
function psQuote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Text inside a zsh _arguments description `[...]` or a _describe `name:description` item. */
function zshDescription(text: string): string {
  return text.replace(/([\\\[\]:])/g, "\\$1");
}

/** One line: descriptions are shown on one line in every shell. */
function flat(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

// ---------------------------------------------------------------- bash

function bashScript(table: CompletionTable): string {
  const valueOpts = valueOptions(table);
  const programs = programCommands(table);
  const words = (list: string[]) => list.map(shQuote).join(" ");
  const optionsWords = (options: OptionSpec[]) => words(options.flatMap(longSpellings));

  // One case branch per distinct action, so free-text options share one "offer nothing" branch.
  const patternsByAction = new Map<string, string[]>();
  for (const option of valueOpts) {
    const kind = optionValueKind(option);
    let action: string;
    switch (kind.kind) {
      case "choices":
        action = `__mfa_reply "$prefix" "$cur" ${words(kind.choices)}`;
        break;
      case "profiles":
        action = '__mfa_reply_lines "$prefix" "$cur" "$(__mfa_profiles)"';
        break;
      case "files":
        action = '__mfa_reply_files "$prefix" "$cur"';
        break;
      default:
        action = ":"; // free text (an ARN, a code...): nothing to offer
    }
    patternsByAction.set(action, [...(patternsByAction.get(action) ?? []), ...spellings(option)]);
  }
  const valueCases = [...patternsByAction].map(([action, patterns]) =>
    `      ${patterns.join(" | ")}) ${action}; return 0 ;;`
  );

  const commandOptionCases = table.commands
    .filter((c) => c.options.length)
    .map((c) => `      ${shQuote(c.name)}) options+=(${optionsWords(c.options)}) ;;`);

  const positionalCases = table.commands.flatMap((c) => {
    const kind = positionalKind(c);
    const name = shQuote(c.name);
    const first = c.positionals === "one" ? "((npos == 0)) && " : "";
    switch (kind.kind) {
      case "choices":
        return [`    ${name}) ${first}__mfa_reply "" "$cur" ${words(kind.choices)} ;;`];
      case "commands":
        return [`    ${name}) ${first}__mfa_reply "" "$cur" "\${commands[@]}" ;;`];
      case "programs":
        return [`    ${name}) __mfa_complete_program "$COMP_CWORD" ;;`];
      default:
        return [];
    }
  });

  return `# bash completion for mfa (generated by \`mfa completions bash\`).
# Load it with: eval "$(mfa completions bash)"   (in ~/.bashrc)
# or save it:   mfa completions bash > ~/.local/share/bash-completion/completions/mfa

# AWS profile names, one a line, read now from the files the AWS CLI would read.
__mfa_profiles() {
  local config="\${AWS_CONFIG_FILE:-$HOME/.aws/config}"
  local credentials="\${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"
  local program=${shQuote(PROFILES_AWK)}
  {
    [ -r "$config" ] && awk -v config=1 "$program" "$config"
    [ -r "$credentials" ] && awk -v config=0 "$program" "$credentials"
  } 2>/dev/null | sort -u
}

# __mfa_reply PREFIX CUR WORD...: COMPREPLY = PREFIX+WORD for each WORD starting with CUR.
__mfa_reply() {
  local prefix="$1" cur="$2" word
  shift 2
  COMPREPLY=()
  for word in "$@"; do
    [[ $word == "$cur"* ]] && COMPREPLY+=("$prefix$word")
  done
  return 0
}

# Like __mfa_reply, the words given one a line (profile names may hold spaces).
__mfa_reply_lines() {
  local prefix="$1" cur="$2" line
  local -a lines=()
  while IFS= read -r line; do
    [ -n "$line" ] && lines+=("$line")
  done <<<"$3"
  __mfa_reply "$prefix" "$cur" \${lines[@]+"\${lines[@]}"}
}

# __mfa_reply_compgen ARGS...: COMPREPLY = the lines \`compgen ARGS...\` prints (no word splitting).
__mfa_reply_compgen() {
  local line
  COMPREPLY=()
  while IFS= read -r line; do
    COMPREPLY+=("$line")
  done < <(compgen "$@" 2>/dev/null)
  return 0
}

__mfa_reply_files() {
  __mfa_reply_compgen -P "$1" -f -- "$2"
  compopt -o filenames 2>/dev/null
  return 0
}

# The command line after exec: the program name, then that program's own completion.
__mfa_complete_program() {
  local start="$1"
  if declare -F _command_offset >/dev/null 2>&1; then
    _command_offset "$start"
  elif ((COMP_CWORD == start)); then
    __mfa_reply_compgen -c -- "\${COMP_WORDS[COMP_CWORD]}"
  else
    __mfa_reply_files "" "\${COMP_WORDS[COMP_CWORD]}"
  fi
}

_mfa() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" prefix="" command="" word i
  local npos=0 program="" dashdash=""
  local -a commands=(${words(table.commands.map((c) => c.name))})
  local -a options=(${optionsWords(table.globalOptions)})
  COMPREPLY=()
  ((COMP_CWORD > 0)) && prev="\${COMP_WORDS[COMP_CWORD - 1]}"
  # --opt=value: bash may split it into "--opt" "=" "value" (COMP_WORDBREAKS) or keep one word.
  if [[ $cur == "=" ]]; then
    cur=""
  elif [[ $prev == "=" ]]; then
    prev="\${COMP_WORDS[COMP_CWORD - 2]}"
  elif [[ $cur == --*=* ]]; then
    prev="\${cur%%=*}"
    prefix="$prev="
    cur="\${cur#*=}"
  fi

  # Find the command (the first word that is neither an option nor an option's value).
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in
      --)
        if [[ " ${programs.join(" ")} " == *" $command "* && -n $command ]]; then
          program=$((i + 1))
        else
          dashdash=1
        fi
        break
        ;;
      --*=* | =) ;;
      ${valueOpts.flatMap(spellings).join(" | ")})
        if [[ \${COMP_WORDS[i + 1]-} == "=" ]]; then i=$((i + 2)); else i=$((i + 1)); fi
        ;;
      -*) ;;
      *)
        if [[ -z $command ]]; then
          command="$word"
        elif [[ " ${programs.join(" ")} " == *" $command "* ]]; then
          program=$i
          break
        else
          npos=$((npos + 1))
        fi
        ;;
    esac
  done

  if [[ -n $program ]]; then
    __mfa_complete_program "$program"
    return 0
  fi
  [[ -n $dashdash ]] && return 0

  if [[ -n $prefix || $prev == -* ]]; then
    case "$prev" in
${valueCases.join("\n")}
    esac
  fi

  if [[ $cur == -* ]]; then
    case "$command" in
${commandOptionCases.join("\n")}
      "") options+=(${optionsWords([VERSION_OPTION])}) ;;
    esac
    __mfa_reply "" "$cur" "\${options[@]}"
    return 0
  fi

  if [[ -z $command ]]; then
    __mfa_reply "" "$cur" "\${commands[@]}"
    return 0
  fi
  case "$command" in
${positionalCases.join("\n")}
  esac
  return 0
}

complete -F _mfa mfa
`;
}

// ---------------------------------------------------------------- zsh

function zshOptionSpecs(options: OptionSpec[]): string[] {
  return options.flatMap((option) => {
    const all = spellings(option);
    const exclusion = `(${all.join(" ")})`;
    const help = `[${zshDescription(flat(option.help))}]`;
    let argument = "";
    if (option.type === "string") {
      const kind = optionValueKind(option);
      const message = (option.valueName ?? "value").replace(/:/g, "");
      let action = " ";
      if (kind.kind === "choices") action = `(${kind.choices.join(" ")})`;
      if (kind.kind === "profiles") action = "__mfa_complete_profiles";
      if (kind.kind === "files") action = "_files";
      argument = `:${message}:${action}`;
    }
    return all.map((spelling) => {
      // --long=: value after "=" or in the next word; -s+: value attached or in the next word.
      const suffix = option.type === "string" ? (spelling.startsWith("--") ? "=" : "+") : "";
      return shQuote(`${exclusion}${spelling}${suffix}${help}${argument}`);
    });
  });
}

function zshScript(table: CompletionTable): string {
  const commandItems = table.commands.map((c) =>
    `    ${shQuote(`${zshDescription(c.name)}:${flat(c.summary)}`)}`
  );
  const commandCases = table.commands.map((c) => {
    const specs = ["$global_options", ...zshOptionSpecs(c.options)];
    const kind = positionalKind(c);
    const rest = c.positionals === "rest";
    if (kind.kind === "choices") specs.push(shQuote(`1:argument:(${kind.choices.join(" ")})`));
    if (kind.kind === "commands") specs.push(shQuote("1:command:__mfa_commands"));
    if (kind.kind === "programs") {
      specs.push(shQuote("(-)1:program:_command_names -e"), shQuote("*::arguments:_normal"));
    } else if (rest) {
      specs.push(shQuote("*:argument:_files"));
    }
    return `        ${shQuote(c.name)}) _arguments -s -S ${specs.join(" ")} && ret=0 ;;`;
  });

  return `#compdef mfa
# zsh completion for mfa (generated by \`mfa completions zsh\`).
# Load it with: eval "$(mfa completions zsh)"   (in ~/.zshrc, after compinit)
# or save it as _mfa in a directory of $fpath.

# AWS profile names, one a line, read now from the files the AWS CLI would read.
__mfa_profiles() {
  local config="\${AWS_CONFIG_FILE:-$HOME/.aws/config}"
  local credentials="\${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"
  local program=${shQuote(PROFILES_AWK)}
  {
    [[ -r $config ]] && awk -v config=1 "$program" "$config"
    [[ -r $credentials ]] && awk -v config=0 "$program" "$credentials"
  } 2>/dev/null | sort -u
}

__mfa_complete_profiles() {
  local expl
  local -a profiles
  profiles=(\${(f)"$(__mfa_profiles)"})
  _wanted profiles expl 'AWS profile' compadd -a profiles
}

__mfa_commands() {
  local -a commands
  commands=(
${commandItems.join("\n")}
  )
  _describe -t commands 'mfa command' commands
}

_mfa() {
  local curcontext="$curcontext" state state_descr line ret=1
  typeset -A opt_args
  local -a global_options
  global_options=(
${zshOptionSpecs(table.globalOptions).map((s) => `    ${s}`).join("\n")}
  )
  _arguments -C -s -S $global_options \\
    ${zshOptionSpecs([VERSION_OPTION]).map((s) => s.replace(/^'\(/, "'(- : ")).join(" ")} \\
    ': :->command' '*:: :->arguments' && ret=0
  case $state in
    command)
      __mfa_commands && ret=0
      ;;
    arguments)
      curcontext="\${curcontext%:*:*}:mfa-$words[1]:"
      case $words[1] in
${commandCases.join("\n")}
        *) _arguments -s -S $global_options && ret=0 ;;
      esac
      ;;
  esac
  return ret
}

if [[ $funcstack[1] == _mfa ]]; then
  _mfa "$@"
else
  compdef _mfa mfa
fi
`;
}

// ---------------------------------------------------------------- fish

function fishOptionLine(option: OptionSpec, condition: string): string {
  const parts = ["complete -c mfa", `-n ${fishQuote(condition)}`];
  if (option.short) parts.push(`-s ${option.short}`);
  for (const long of [option.name, ...(option.aliases ?? [])]) parts.push(`-l ${long}`);
  if (option.type === "string") {
    const kind = optionValueKind(option);
    if (kind.kind === "files") parts.push("-r -F");
    else parts.push("-x");
    if (kind.kind === "choices") parts.push(`-a ${fishQuote(kind.choices.join(" "))}`);
    if (kind.kind === "profiles") parts.push(`-a ${fishQuote("(__mfa_profile_items)")}`);
  }
  parts.push(`-d ${fishQuote(flat(option.help))}`);
  return parts.join(" ");
}

function fishScript(table: CompletionTable): string {
  const valueOpts = valueOptions(table).flatMap(spellings);
  const lines: string[] = [];
  for (const c of table.commands) {
    lines.push(
      `complete -c mfa -n __mfa_no_command -a ${fishQuote(c.name)} -d ${
        fishQuote(flat(c.summary))
      }`,
    );
  }
  for (const o of table.globalOptions) lines.push(fishOptionLine(o, "__mfa_options_apply"));
  lines.push(fishOptionLine(VERSION_OPTION, "__mfa_no_command"));
  for (const c of table.commands) {
    for (const o of c.options) {
      lines.push(fishOptionLine(o, `__mfa_options_apply; and __mfa_using_command ${c.name}`));
    }
    const kind = positionalKind(c);
    const when = c.positionals === "one"
      ? `__mfa_positionals_are ${c.name} 0`
      : `__mfa_using_command ${c.name}`;
    if (kind.kind === "choices") {
      lines.push(`complete -c mfa -n ${fishQuote(when)} -a ${fishQuote(kind.choices.join(" "))}`);
    }
    if (kind.kind === "commands") {
      for (const target of table.commands) {
        lines.push(
          `complete -c mfa -n ${fishQuote(when)} -a ${fishQuote(target.name)} -d ${
            fishQuote(flat(target.summary))
          }`,
        );
      }
    }
    if (kind.kind === "programs") {
      lines.push(
        `complete -c mfa -n ${fishQuote(`__mfa_using_command ${c.name}`)} -a ${
          fishQuote("(__mfa_complete_program)")
        }`,
      );
    }
  }

  return `# fish completion for mfa (generated by \`mfa completions fish\`).
# Save it: mfa completions fish > ~/.config/fish/completions/mfa.fish

# AWS profile names, one a line, read now from the files the AWS CLI would read.
function __mfa_profiles
    set -l config ~/.aws/config
    test -n "$AWS_CONFIG_FILE"; and set config $AWS_CONFIG_FILE
    set -l credentials ~/.aws/credentials
    test -n "$AWS_SHARED_CREDENTIALS_FILE"; and set credentials $AWS_SHARED_CREDENTIALS_FILE
    set -l program ${fishQuote(PROFILES_AWK)}
    begin
        test -r "$config"; and awk -v config=1 "$program" "$config"
        test -r "$credentials"; and awk -v config=0 "$program" "$credentials"
    end 2>/dev/null | sort -u
end

# The same, each with a description (else fish shows the option's help beside every name).
function __mfa_profile_items
    for name in (__mfa_profiles)
        printf '%s\\tAWS profile\\n' $name
    end
end

# The words before the cursor that are neither options nor option values: the command, then its
# arguments; after "--" every word, behind a "--" marker.
function __mfa_words
    set -l tokens
    # fish 3.8+ has -x (expanded tokens) and deprecates -o.
    if commandline -x >/dev/null 2>&1
        set tokens (commandline -xpc)
    else
        set tokens (commandline -opc)
    end
    set -e tokens[1]
    set -l skip 0
    set -l dashdash 0
    for token in $tokens
        if test $dashdash = 1
            printf '%s\\n' $token
            continue
        end
        if test $skip = 1
            set skip 0
            continue
        end
        switch $token
            case '--'
                set dashdash 1
                printf '%s\\n' --
            case ${valueOpts.map(fishQuote).join(" ")}
                set skip 1
            case '-*'
            case '*'
                printf '%s\\n' $token
        end
    end
end

function __mfa_no_command
    set -l words (__mfa_words)
    test (count $words) -eq 0
end

# __mfa_using_command NAME: the command is NAME.
function __mfa_using_command
    set -l words (__mfa_words)
    test "$words[1]" = "$argv[1]"
end

# __mfa_positionals_are NAME N: the command is NAME and N arguments follow it.
function __mfa_positionals_are
    set -l words (__mfa_words)
    test "$words[1]" = "$argv[1]"; and test (count $words) -eq (math $argv[2] + 1)
end

# mfa's options apply until the command line of a program (exec) begins.
function __mfa_options_apply
    set -l words (__mfa_words)
    not contains -- "$words[1]" ${programCommands(table).map(fishQuote).join(" ")}
    or test (count $words) -eq 1
end

# After exec: complete the program's own command line.
function __mfa_complete_program
    set -l words (__mfa_words)
    set -e words[1]
    test "$words[1]" = --; and set -e words[1]
    set -l line (string escape -- $words) (commandline -ct)
    complete -C (string join -- ' ' $line)
end

complete -c mfa -f
${lines.join("\n")}
`;
}

// ---------------------------------------------------------------- powershell

function psValue(kind: ValueKind): string {
  switch (kind.kind) {
    case "choices":
      return `@(${kind.choices.map(psQuote).join(", ")})`;
    case "none":
      return psQuote("text");
    default:
      return psQuote(kind.kind);
  }
}

function psOptions(options: OptionSpec[]): string {
  const items = options.map((o) => {
    const value = o.type === "string" ? psValue(optionValueKind(o)) : "$null";
    const names = `@(${spellings(o).map(psQuote).join(", ")})`;
    return `        @{ Names = ${names}; Value = ${value}; Help = ${
      psQuote(flat(o.help) || o.name)
    } }`;
  });
  return `@(\n${items.join("\n")}\n    )`;
}

function powershellScript(table: CompletionTable): string {
  const commandEntries = table.commands.map((c) =>
    `        ${psQuote(c.name)} = ${psQuote(flat(c.summary) || c.name)}`
  );
  const commandOptions = table.commands.filter((c) => c.options.length).map((c) =>
    `    $commandOptions[${psQuote(c.name)}] = ${psOptions(c.options)}`
  );
  const positionals = table.commands.filter((c) => positionalKind(c).kind !== "none").map((c) =>
    `        ${psQuote(c.name)} = @{ Value = ${psValue(positionalKind(c))}; One = $${
      c.positionals === "one" ? "true" : "false"
    } }`
  );

  return `# PowerShell completion for mfa (generated by \`mfa completions powershell\`).
# Load it (e.g. in $PROFILE): mfa completions powershell | Out-String | Invoke-Expression

Register-ArgumentCompleter -Native -CommandName 'mfa', 'mfa.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commands = [ordered]@{
${commandEntries.join("\n")}
    }
    $globalOptions = ${psOptions(table.globalOptions)}
    $versionOption = ${psOptions([VERSION_OPTION])}
    $commandOptions = @{}
${commandOptions.join("\n")}
    $positionals = @{
${positionals.join("\n")}
    }

    # AWS profile names, read now from the files the AWS CLI would read.
    function Get-MfaProfiles {
        $config = if ($env:AWS_CONFIG_FILE) { $env:AWS_CONFIG_FILE } else { Join-Path (Join-Path $HOME '.aws') 'config' }
        $credentials = if ($env:AWS_SHARED_CREDENTIALS_FILE) { $env:AWS_SHARED_CREDENTIALS_FILE } else { Join-Path (Join-Path $HOME '.aws') 'credentials' }
        $names = @()
        if (Test-Path -LiteralPath $config -PathType Leaf) {
            foreach ($line in Get-Content -LiteralPath $config -ErrorAction SilentlyContinue) {
                if ($line -match '^\\s*\\[\\s*profile\\s+([^\\]]*?)\\s*\\]') { $names += $Matches[1] }
                elseif ($line -match '^\\s*\\[\\s*(default)\\s*\\]') { $names += $Matches[1] }
            }
        }
        if (Test-Path -LiteralPath $credentials -PathType Leaf) {
            foreach ($line in Get-Content -LiteralPath $credentials -ErrorAction SilentlyContinue) {
                if ($line -match '^\\s*\\[\\s*([^\\]]*?)\\s*\\]') { if ($Matches[1]) { $names += $Matches[1] } }
            }
        }
        $names | Sort-Object -Unique
    }

    function New-MfaResult([string]$text, [string]$type, [string]$tip) {
        if (-not $tip) { $tip = $text }
        [System.Management.Automation.CompletionResult]::new($text, $text, $type, $tip)
    }

    # prefix: "--opt=" when completing a value given as --opt=value.
    function Get-MfaValues($value, [string]$word, [string]$prefix) {
        if ($value -is [array]) {
            $value | Where-Object { $_.StartsWith($word) } | ForEach-Object { New-MfaResult "$prefix$_" 'ParameterValue' $_ }
        } elseif ($value -eq 'profiles') {
            Get-MfaProfiles | Where-Object { $_.StartsWith($word) } | ForEach-Object { New-MfaResult "$prefix$_" 'ParameterValue' 'AWS profile' }
        } elseif ($value -eq 'files') {
            [System.Management.Automation.CompletionCompleters]::CompleteFilename($word)
        } elseif ($value -eq 'commands') {
            $commands.Keys | Where-Object { $_.StartsWith($word) } | ForEach-Object { New-MfaResult $_ 'ParameterValue' $commands[$_] }
        } elseif ($value -eq 'programs') {
            [System.Management.Automation.CompletionCompleters]::CompleteCommand($word)
        }
    }

    function Find-MfaOption([string]$name, $options) {
        foreach ($option in $options) { if ($option.Names -ccontains $name) { return $option } }
        return $null
    }

    $allOptions = @($globalOptions) + @($commandOptions.Values | ForEach-Object { $_ })
    # The words before the one being completed (the first is mfa itself).
    $words = @($commandAst.CommandElements | Where-Object { $_.Extent.EndOffset -lt $cursorPosition } | ForEach-Object { $_.ToString() })
    $command = $null
    $npos = 0
    $programStart = -1
    $expectValue = $null
    for ($i = 1; $i -lt $words.Count; $i++) {
        $word = $words[$i]
        if ($null -ne $expectValue) { $expectValue = $null; continue }
        if ($word -eq '--') {
            if ($command -and $positionals[$command] -and $positionals[$command].Value -eq 'programs') { $programStart = $i + 1; break }
            return
        }
        if ($word.StartsWith('-')) {
            if ($word.Contains('=')) { continue }
            $option = Find-MfaOption $word $allOptions
            if ($option -and $null -ne $option.Value) { $expectValue = $option }
            continue
        }
        if (-not $command) { $command = $word; continue }
        if ($positionals[$command] -and $positionals[$command].Value -eq 'programs') { $programStart = $i; break }
        $npos++
    }

    if ($null -eq $expectValue -and $command -and $positionals[$command] -and $positionals[$command].Value -eq 'programs' -and -not $wordToComplete.StartsWith('-')) {
        if ($programStart -lt 0) { $programStart = $words.Count }
    }
    if ($programStart -ge 0) {
        # The program's name, then its arguments (file names: PowerShell has no way to ask its completer).
        if ($programStart -ge $words.Count) { return Get-MfaValues 'programs' $wordToComplete '' }
        return [System.Management.Automation.CompletionCompleters]::CompleteFilename($wordToComplete)
    }
    if ($null -ne $expectValue) {
        return Get-MfaValues $expectValue.Value $wordToComplete ''
    }
    if ($wordToComplete -match '^(--[^=]+)=(.*)$') {
        $option = Find-MfaOption $Matches[1] $allOptions
        if ($option -and $null -ne $option.Value) { return Get-MfaValues $option.Value $Matches[2] "$($Matches[1])=" }
        return
    }
    if ($wordToComplete.StartsWith('-')) {
        $options = @($globalOptions)
        if ($command -and $commandOptions[$command]) { $options += $commandOptions[$command] }
        if (-not $command) { $options += $versionOption }
        foreach ($option in $options) {
            foreach ($name in $option.Names) {
                if ($name.StartsWith('--') -and $name.StartsWith($wordToComplete)) { New-MfaResult $name 'ParameterName' $option.Help }
            }
        }
        return
    }
    if (-not $command) {
        return Get-MfaValues 'commands' $wordToComplete ''
    }
    $positional = $positionals[$command]
    if ($positional -and (-not $positional.One -or $npos -eq 0)) {
        return Get-MfaValues $positional.Value $wordToComplete ''
    }
}
`;
}

const GENERATORS: Record<CompletionShell, (table: CompletionTable) => string> = {
  bash: bashScript,
  zsh: zshScript,
  fish: fishScript,
  powershell: powershellScript,
};

/** The completion script for one shell, from the parser's table (the real one unless a test passes another). */
export function completionScript(
  shell: CompletionShell,
  table: CompletionTable = { commands: COMMANDS, globalOptions: GLOBAL_OPTIONS },
): string {
  return GENERATORS[shell](table);
}
