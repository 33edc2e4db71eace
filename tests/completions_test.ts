/**
 * Completion scripts: generated from the parser's table, loaded into the real shells, asked to
 * complete real command lines. A shell that is not installed is skipped.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";
import { COMMANDS, type CommandSpec, findCommand, GLOBAL_OPTIONS, parseArgv } from "../lib/cli.ts";
import { run } from "../lib/commands/completions.ts";
import type { CommandContext } from "../lib/commands/types.ts";
import {
  COMPLETION_SHELLS,
  completionScript,
  type CompletionShell,
  type CompletionTable,
} from "../lib/completions.ts";
import { MfaError } from "../lib/errors.ts";
import { which } from "./programs.ts";

const has = (program: string) => which(program) !== undefined;

const WINDOWS = Deno.build.os === "windows";
// bash/zsh/fish are tested where they are the user's shells; Git Bash on Windows is not one.
const HAS = {
  bash: !WINDOWS && has("bash"),
  zsh: !WINDOWS && has("zsh"),
  fish: !WINDOWS && has("fish"),
  pwsh: has("pwsh"),
};

const CONFIG = `[default]
region = eu-west-1
[profile work]
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[sso-session corp]
sso_region = us-east-1
[services local]
[profile dev ops]
`;
const CREDENTIALS = `[work-long-term]
aws_access_key_id = AKIAEXAMPLE
[personal]
`;
const PROFILES = ["default", "dev ops", "personal", "work", "work-long-term"];

interface Fixture {
  dir: string;
  env: Record<string, string>;
  script(shell: CompletionShell, table?: CompletionTable): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A temp HOME with AWS files, and the scripts written into it. */
async function fixture(): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "mfa-completions-" });
  await Deno.mkdir(`${dir}/aws`);
  await Deno.writeTextFile(`${dir}/aws/config`, CONFIG);
  await Deno.writeTextFile(`${dir}/aws/credentials`, CREDENTIALS);
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: dir,
    XDG_CONFIG_HOME: `${dir}/.config`,
    XDG_DATA_HOME: `${dir}/.local/share`,
    AWS_CONFIG_FILE: `${dir}/aws/config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/aws/credentials`,
    TERM: "dumb",
    LANG: "C.UTF-8",
  };
  return {
    dir,
    env,
    async script(shell, table) {
      const path = `${dir}/mfa.${shell === "powershell" ? "ps1" : shell}`;
      await Deno.writeTextFile(path, completionScript(shell, table));
      return path;
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program with exactly `env` (or, with inherit, the test's environment plus `env`); killed
 * after 30 s so a hung shell fails the test instead of hanging CI.
 */
async function spawn(
  program: string,
  args: string[],
  env: Record<string, string>,
  inherit = false,
): Promise<Output> {
  const child = new Deno.Command(program, {
    args,
    env,
    clearEnv: !inherit,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 30_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function lines(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l !== "");
}

// ------------------------------------------------------------------ generated from the table

Deno.test("completions: the SHELL choices in the table are the shells we generate for", () => {
  assertEquals(findCommand("completions")?.positionalChoices, [...COMPLETION_SHELLS]);
});

Deno.test("completions: every script names every command and every long option of the table", () => {
  for (const shell of COMPLETION_SHELLS) {
    const text = completionScript(shell);
    for (const command of COMMANDS) {
      assertStringIncludes(text, command.name, `${shell}: ${command.name}`);
      for (const option of command.options) assertStringIncludes(text, option.name, shell);
    }
    for (const option of GLOBAL_OPTIONS) {
      for (const name of [option.name, ...(option.aliases ?? [])]) {
        assertStringIncludes(text, name, `${shell}: --${name}`);
      }
      for (const choice of option.choices ?? []) assertStringIncludes(text, choice, shell);
    }
  }
});

/** A table with a command and options that exist nowhere else: proves nothing is hard-coded. */
const MADE_UP_COMMAND: CommandSpec = {
  name: "frobnicate",
  summary: "a command that only this test knows",
  usage: "mfa frobnicate",
  options: [
    {
      name: "wibble",
      type: "string",
      valueName: "W",
      choices: ["alpha", "beta"],
      help: "it's a [test] option: with 'quotes' and $dollars",
    },
  ],
  examples: [],
  positionals: "one",
  positionalChoices: ["left", "right"],
};
const MADE_UP_TABLE: CompletionTable = {
  commands: [...COMMANDS, MADE_UP_COMMAND],
  globalOptions: [...GLOBAL_OPTIONS, {
    name: "zap-profile",
    type: "string",
    complete: "profiles",
    help: "a global option only this test knows",
  }],
};

Deno.test("completions: the command module prints the script for a known shell", async () => {
  const ctx = { args: parseArgv(["completions", "zsh"]) } as unknown as CommandContext;
  const result = await run(ctx);
  assertEquals(result.stdout, completionScript("zsh"));
  assertEquals(result.exitCode ?? 0, 0);
});

Deno.test("completions: an unknown or missing shell is a usage error naming the shells", async () => {
  for (const argv of [["completions", "tcsh"], ["completions"]]) {
    const ctx = { args: parseArgv(argv) } as unknown as CommandContext;
    const err = await assertRejects(() => run(ctx));
    assert(err instanceof MfaError, String(err));
    assertEquals(err.exitCode, 2);
    const text = `${err.message} ${err.hint}`;
    for (const shell of COMPLETION_SHELLS) assertStringIncludes(text, shell);
  }
});

// ------------------------------------------------------------------ bash

/** Calls _mfa with COMP_WORDS = words (the last one is being completed); returns COMPREPLY. */
async function bashComplete(f: Fixture, script: string, words: string[]): Promise<string[]> {
  const program = 'source "$1" || exit 9; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); ' +
    'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _mfa; printf "%s\\n" "${COMPREPLY[@]}"';
  const out = await spawn("bash", [
    "--norc",
    "--noprofile",
    "-c",
    program,
    "bash",
    script,
    ...words,
  ], f.env);
  assertEquals(out.stderr, "", `bash stderr for ${words.join(" ")}`);
  assertEquals(out.code, 0);
  return lines(out.stdout);
}

Deno.test({
  name: "completions: bash loads the script and completes commands, options, choices, profiles",
  ignore: !HAS.bash,
  async fn() {
    await using f = await fixture();
    const script = await f.script("bash");
    const loaded = await spawn("bash", [
      "--norc",
      "-c",
      'source "$1" && complete -p mfa',
      "bash",
      script,
    ], f.env);
    assertEquals(loaded.stderr, "");
    assertStringIncludes(loaded.stdout, "-F _mfa mfa");

    const complete = (...words: string[]) => bashComplete(f, script, words);
    assertEquals((await complete("mfa", "cl")).sort(), ["claude-export", "clear"]);
    assertEquals(await complete("mfa", "--profile", ""), PROFILES);
    assertEquals(await complete("mfa", "-p", "w"), ["work", "work-long-term"]);
    // --profile=w as bash splits it (COMP_WORDBREAKS holds "=") and as one word.
    assertEquals(await complete("mfa", "--profile", "=", "w"), ["work", "work-long-term"]);
    assertEquals(await complete("mfa", "--profile=w"), [
      "--profile=work",
      "--profile=work-long-term",
    ]);
    assertEquals(await complete("mfa", "exports", "--profile", "dev", "--format", "p"), [
      "powershell",
    ]);
    assertEquals(await complete("mfa", "--prompt", "t"), ["terminal"]);
    assertEquals(await complete("mfa", "update-profile", "--ta"), ["--target"]);
    assertEquals(await complete("mfa", "update-profile", "--target", "pe"), ["personal"]);
    assertEquals(await complete("mfa", "completions", ""), [...COMPLETION_SHELLS]);
    assertEquals(await complete("mfa", "completions", "bash", ""), []);
    assertEquals((await complete("mfa", "help", "ex")).sort(), ["exec", "exports"]);
    assertEquals(await complete("mfa", "--ver"), ["--verbose", "--version"]);
    // Command options only for their command; global options everywhere.
    assertEquals(await complete("mfa", "status", "--fo"), []);
    assert((await complete("mfa", "status", "--")).includes("--region"));
    // exec: the program comes from PATH, its arguments are not mfa's.
    assert((await complete("mfa", "exec", "--", "ba")).includes("bash"));
    assert((await complete("mfa", "exec", "--profile", "work", "ba")).includes("bash"));
    assertEquals(
      await complete("mfa", "--config-file", `${f.dir}/aws/cr`),
      [`${f.dir}/aws/credentials`],
    );
  },
});

Deno.test({
  name: "completions: bash completes a command and option added to the table (no hard-coding)",
  ignore: !HAS.bash,
  async fn() {
    await using f = await fixture();
    const script = await f.script("bash", MADE_UP_TABLE);
    assertEquals(await bashComplete(f, script, ["mfa", "frob"]), ["frobnicate"]);
    assertEquals(await bashComplete(f, script, ["mfa", "frobnicate", "--wi"]), ["--wibble"]);
    assertEquals(await bashComplete(f, script, ["mfa", "frobnicate", "--wibble", ""]), [
      "alpha",
      "beta",
    ]);
    assertEquals(await bashComplete(f, script, ["mfa", "frobnicate", "l"]), ["left"]);
    assertEquals(await bashComplete(f, script, ["mfa", "--zap-profile", "p"]), ["personal"]);
  },
});

Deno.test({
  name: "completions: bash with AWS files missing offers no profiles and prints nothing",
  ignore: !HAS.bash,
  async fn() {
    await using f = await fixture();
    const script = await f.script("bash");
    f.env.AWS_CONFIG_FILE = `${f.dir}/nope/config`;
    f.env.AWS_SHARED_CREDENTIALS_FILE = `${f.dir}/nope/credentials`;
    assertEquals(await bashComplete(f, script, ["mfa", "--profile", ""]), []);
  },
});

// ------------------------------------------------------------------ zsh

Deno.test({
  name: "completions: zsh loads the script after compinit without a message",
  ignore: !HAS.zsh,
  async fn() {
    await using f = await fixture();
    const script = await f.script("zsh");
    const out = await spawn("zsh", [
      "-f",
      "-c",
      'autoload -U compinit && compinit -u -D && source "$1" && print -r -- $_comps[mfa]',
      "zsh",
      script,
    ], f.env);
    assertEquals(out.stderr, "");
    assertEquals(out.code, 0);
    assertEquals(out.stdout.trim(), "_mfa");
  },
});

/**
 * Real zsh completion through zsh/zpty: an interactive zsh loads the script (sourced, or as _mfa
 * from $fpath), compadd is wrapped to print what it is given, and TAB is pressed after `line`.
 */
async function zshComplete(
  f: Fixture,
  script: string,
  line: string,
  mode: "source" | "fpath" = "source",
): Promise<string[]> {
  const setup = `${f.dir}/setup.zsh`;
  const fpathDir = `${f.dir}/zfunc`;
  await Deno.mkdir(fpathDir, { recursive: true });
  await Deno.copyFile(script, `${fpathDir}/_mfa`);
  await Deno.writeTextFile(
    setup,
    `PROMPT='' RPROMPT=''
unsetopt zle_bracketed_paste 2>/dev/null
${mode === "fpath" ? `fpath=(${fpathDir} $fpath)` : ""}
autoload -U compinit && compinit -u -D
${mode === "source" ? `source ${script}` : ""}
bindkey '^I' complete-word
zstyle ':completion:*' insert-tab false
__test_begin() { print -r -- '<<BEGIN>>' }
__test_end() { print -r -- '<<END>>'; exit }
compprefuncs=(__test_begin)
comppostfuncs=(__test_end)
compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "$@"; return $?; fi
  local -a __hits
  builtin compadd -A __hits "$@"
  (( $#__hits )) && print -rl -- "MATCH:"\${^__hits}
  builtin compadd "$@"
}
print -r -- '<<READY>>'
`,
  );
  const driver = `zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "source \${(q)1}"
local line
while zpty -r z line; do [[ $line == '<<READY>>'* ]] && break; done
zpty -w -n z "$2"$'\\t'
while zpty -r z line; do print -r -- "\${line%$'\\r'}"; done
zpty -d z`;
  const out = await spawn("zsh", ["-f", "-c", driver, "zsh", setup, line], f.env);
  assertEquals(out.code, 0, out.stderr);
  const text = lines(out.stdout);
  assert(text.some((l) => l.includes("<<END>>")), `zsh did not complete: ${out.stdout}`);
  return text.filter((l) => l.startsWith("MATCH:")).map((l) => l.slice(6).replaceAll("\\", ""));
}

Deno.test({
  name: "completions: zsh completes commands, options, choices and profiles (zpty)",
  ignore: !HAS.zsh,
  async fn() {
    await using f = await fixture();
    const script = await f.script("zsh");
    assertEquals((await zshComplete(f, script, "mfa cl")).sort(), ["claude-export", "clear"]);
    assertEquals((await zshComplete(f, script, "mfa cl", "fpath")).sort(), [
      "claude-export",
      "clear",
    ]);
    assertEquals((await zshComplete(f, script, "mfa --profile ")).sort(), PROFILES);
    assertEquals((await zshComplete(f, script, "mfa --profile=w")).sort(), [
      "work",
      "work-long-term",
    ]);
    assertEquals(await zshComplete(f, script, "mfa exports --format p"), ["powershell"]);
    assertEquals(await zshComplete(f, script, "mfa exports --fo"), ["--format"]);
    assertEquals(await zshComplete(f, script, "mfa update-profile --target pe"), ["personal"]);
    assertEquals(
      (await zshComplete(f, script, "mfa completions ")).sort(),
      [...COMPLETION_SHELLS].sort(),
    );
    assertEquals((await zshComplete(f, script, "mfa help ex")).sort(), ["exec", "exports"]);
  },
});

Deno.test({
  name: "completions: zsh completes a command and option added to the table (no hard-coding)",
  ignore: !HAS.zsh,
  async fn() {
    await using f = await fixture();
    const script = await f.script("zsh", MADE_UP_TABLE);
    assertEquals(await zshComplete(f, script, "mfa frob"), ["frobnicate"]);
    assertEquals((await zshComplete(f, script, "mfa frobnicate --wibble ")).sort(), [
      "alpha",
      "beta",
    ]);
    assertEquals(await zshComplete(f, script, "mfa --zap-profile p"), ["personal"]);
  },
});

// ------------------------------------------------------------------ fish

async function fishComplete(f: Fixture, script: string, line: string): Promise<string[]> {
  const out = await spawn(
    "fish",
    ["--no-config", "-c", "source $argv[1]; or exit 9; complete -C $argv[2]", script, line],
    f.env,
  );
  assertEquals(out.stderr, "", `fish stderr for ${line}`);
  assertEquals(out.code, 0);
  return lines(out.stdout).map((l) => l.split("\t")[0]);
}

Deno.test({
  name: "completions: fish completes commands, options, choices and profiles",
  ignore: !HAS.fish,
  async fn() {
    await using f = await fixture();
    const script = await f.script("fish");
    const complete = (line: string) => fishComplete(f, script, line);
    assertEquals((await complete("mfa cl")).sort(), ["claude-export", "clear"]);
    assertEquals((await complete("mfa --profile ")).sort(), PROFILES);
    assertEquals((await complete("mfa -p w")).sort(), ["work", "work-long-term"]);
    assertEquals((await complete("mfa --profile=w")).sort(), [
      "--profile=work",
      "--profile=work-long-term",
    ]);
    assertEquals(await complete("mfa exports --format p"), ["powershell"]);
    assertEquals(await complete("mfa --prompt t"), ["terminal"]);
    assertEquals(await complete("mfa update-profile --target pe"), ["personal"]);
    assertEquals((await complete("mfa completions ")).sort(), [...COMPLETION_SHELLS].sort());
    assertEquals(await complete("mfa completions bash "), []);
    assertEquals((await complete("mfa help ex")).sort(), ["exec", "exports"]);
    assertEquals(await complete("mfa status --fo"), []);
    assert((await complete("mfa exec -- ech")).includes("echo"));
  },
});

Deno.test({
  name: "completions: fish completes a command and option added to the table (no hard-coding)",
  ignore: !HAS.fish,
  async fn() {
    await using f = await fixture();
    const script = await f.script("fish", MADE_UP_TABLE);
    assertEquals(await fishComplete(f, script, "mfa frob"), ["frobnicate"]);
    assertEquals(await fishComplete(f, script, "mfa frobnicate --wibble "), ["alpha", "beta"]);
    assertEquals(await fishComplete(f, script, "mfa frobnicate l"), ["left"]);
    assertEquals(await fishComplete(f, script, "mfa --zap-profile p"), ["personal"]);
  },
});

// ------------------------------------------------------------------ PowerShell

Deno.test({
  name: "completions: PowerShell registers a completer that completes commands, choices, profiles",
  ignore: !HAS.pwsh,
  async fn() {
    await using f = await fixture();
    const script = await f.script("powershell");
    // Native completers apply to native commands: put a stand-in `mfa` on PATH.
    const bin = `${f.dir}/bin`;
    await Deno.mkdir(bin);
    if (WINDOWS) await Deno.writeTextFile(`${bin}/mfa.cmd`, "@echo off\r\n");
    else await Deno.writeTextFile(`${bin}/mfa`, "#!/bin/sh\n", { mode: 0o755 });
    const cases: [string, string[]][] = [
      ["mfa cl", ["claude-export", "clear"]],
      ["mfa --profile ", PROFILES],
      ["mfa --profile w", ["work", "work-long-term"]],
      ["mfa exports --format p", ["powershell"]],
      ["mfa completions ", [...COMPLETION_SHELLS]],
      ["mfa update-profile --ta", ["--target"]],
    ];
    const command = [
      "$ErrorActionPreference = 'Stop'",
      `$env:PATH = '${bin.replaceAll("'", "''")}' + [IO.Path]::PathSeparator + $env:PATH`,
      `. '${script.replaceAll("'", "''")}'`,
      ...cases.map(([line]) =>
        `'<<' + ((TabExpansion2 -inputScript '${line}' -cursorColumn ${line.length}).CompletionMatches.CompletionText -join '|')`
      ),
    ].join("\n");
    // pwsh needs much of the platform's environment (Windows above all): inherit it.
    const { PATH: _path, ...env } = f.env;
    const out = await spawn(
      "pwsh",
      ["-NoProfile", "-NonInteractive", "-Command", command],
      env,
      true,
    );
    assertEquals(out.stderr, "");
    assertEquals(out.code, 0);
    const answers = lines(out.stdout).filter((l) => l.startsWith("<<")).map((l) => l.slice(2));
    assertEquals(answers.length, cases.length, out.stdout);
    cases.forEach(([line, expected], i) => {
      assertEquals(answers[i].split("|").filter(Boolean).sort(), [...expected].sort(), line);
    });
  },
});
