/**
 * The command and option table: the parser, --help, `help CMD` and the shell completions all read it,
 * so an option exists in one place only.
 */
import { usageError } from "./errors.ts";

export interface OptionSpec {
  name: string; // long name without dashes
  short?: string; // single letter
  aliases?: string[]; // other long names
  type: "string" | "boolean";
  valueName?: string;
  env?: string[];
  profileKeys?: string[];
  choices?: string[];
  /** "profiles" completes AWS profile names. */
  complete?: "profiles" | "files";
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec[];
  examples: string[];
  /** Takes positional arguments (completions SHELL, help CMD, exec CMD...). */
  positionals?: "none" | "one" | "rest";
  /** Shell completion of the positionals: fixed choices, command names, or programs on PATH. */
  positionalChoices?: string[];
  positionalComplete?: "commands" | "programs";
}

export const GLOBAL_OPTIONS: OptionSpec[] = [
  {
    name: "profile",
    short: "p",
    type: "string",
    valueName: "NAME",
    env: ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"],
    complete: "profiles",
    help:
      "profile to use (default: default). Long-term keys come from [NAME-long-term] when it exists",
  },
  {
    name: "mfa-serial",
    short: "a",
    aliases: ["arn"],
    type: "string",
    valueName: "ARN",
    env: ["AWS_MFA_SERIAL"],
    profileKeys: ["mfa_serial", "aws_mfa_device"],
    help: "MFA device ARN (default: auto-detected)",
  },
  {
    name: "role-arn",
    type: "string",
    valueName: "ARN",
    env: ["AWS_MFA_ROLE_ARN"],
    profileKeys: ["role_arn", "source_profile", "external_id", "role_session_name"],
    help: "role to assume with the MFA code (default: none, GetSessionToken)",
  },
  {
    name: "duration",
    short: "d",
    type: "string",
    valueName: "D",
    env: ["AWS_MFA_TTL", "AWS_SESSION_DURATION"],
    profileKeys: ["duration_seconds"],
    help: "session length: 3600, 90m, 12h, 1h30m (default 12h; 900..129600 s, roles up to 43200 s)",
  },
  {
    name: "region",
    short: "r",
    type: "string",
    valueName: "R",
    env: ["AWS_REGION", "AWS_DEFAULT_REGION"],
    profileKeys: ["region"],
    help: "region (default: profile, then EC2 metadata, then us-east-1)",
  },
  {
    name: "code",
    short: "c",
    type: "string",
    valueName: "123456",
    env: ["AWS_MFA_TOKEN"],
    help: "the MFA code, exactly 6 digits",
  },
  {
    name: "mfa-command",
    type: "string",
    valueName: "CMD",
    env: ["AWS_MFA_COMMAND"],
    profileKeys: ["mfa_process"],
    help: "command printing a 6-digit code, an otpauth:// URI or a base32 TOTP secret",
  },
  {
    name: "op-item",
    type: "string",
    valueName: "NAME",
    env: ["AWS_MFA_UPDATER_OP_ITEM_NAME"],
    profileKeys: ["mfa_op_item"],
    help: "1Password item: runs `op item get NAME --otp`",
  },
  {
    name: "op-account",
    type: "string",
    valueName: "A",
    env: ["AWS_MFA_UPDATER_OP_ACCOUNT"],
    profileKeys: ["mfa_op_account"],
    help: "1Password account for --op-item",
  },
  {
    name: "prompt",
    type: "string",
    valueName: "MODE",
    env: ["AWS_MFA_PROMPT"],
    choices: ["auto", "terminal", "gui", "none"],
    help: "where to ask for the code: auto, terminal, gui or none (default auto)",
  },
  {
    name: "credentials-file",
    short: "f",
    type: "string",
    valueName: "F",
    env: ["AWS_SHARED_CREDENTIALS_FILE"],
    complete: "files",
    help: "credentials file (default ~/.aws/credentials)",
  },
  {
    name: "config-file",
    type: "string",
    valueName: "F",
    env: ["AWS_CONFIG_FILE"],
    complete: "files",
    help: "config file (default ~/.aws/config)",
  },
  {
    name: "endpoint-url",
    type: "string",
    valueName: "URL",
    env: ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"],
    help: "STS endpoint (default: the SDK's)",
  },
  { name: "refresh", type: "boolean", help: "ignore cached sessions and get a new one" },
  { name: "no-cache", type: "boolean", help: "neither read nor write the session cache" },
  {
    name: "verbose",
    short: "v",
    type: "boolean",
    env: ["AWS_MFA_DEBUG"],
    help: "print steps to stderr (never a secret or a code)",
  },
  { name: "help", short: "h", type: "boolean", help: "show help" },
];

const FORMAT_OPTION: OptionSpec = {
  name: "format",
  type: "string",
  valueName: "F",
  choices: ["sh", "fish", "powershell", "cmd", "dotenv", "json"],
  help: "sh, fish, powershell, cmd, dotenv or json (default sh; fish/PowerShell auto-detected)",
};

export const COMMANDS: CommandSpec[] = [
  {
    name: "claude-export",
    summary: "print credentials as Claude Code's awsCredentialExport JSON",
    usage: "mfa claude-export [options]",
    options: [],
    examples: [
      'In ~/.claude/settings.json: "awsCredentialExport": "mfa claude-export --profile work"',
    ],
  },
  {
    name: "exports",
    summary: "print shell statements that set the credentials (default command)",
    usage: "mfa exports [--format F] [options]",
    options: [FORMAT_OPTION],
    examples: ['eval "$(mfa exports --profile work)"', "mfa exports --format fish | source"],
  },
  {
    name: "unsets",
    summary: "print shell statements that clear every variable exports sets",
    usage: "mfa unsets [--format F]",
    options: [FORMAT_OPTION],
    examples: ['eval "$(mfa unsets)"'],
  },
  {
    name: "shell",
    summary: "start $SHELL with the credentials",
    usage: "mfa shell [--force] [options]",
    options: [{ name: "force", type: "boolean", help: "allow starting inside another mfa shell" }],
    examples: ["mfa shell --profile work"],
  },
  {
    name: "exec",
    summary: "run one command with the credentials and exit with its code",
    usage: "mfa exec [options] -- CMD [ARGS...]",
    options: [],
    examples: ["mfa exec --profile work -- aws s3 ls", "alias aws='mfa exec -- aws'"],
    positionals: "rest",
    positionalComplete: "programs",
  },
  {
    name: "update-profile",
    summary: "write the session into a profile of the credentials file",
    usage: "mfa update-profile [--target NAME] [--security-token] [options]",
    options: [
      {
        name: "target",
        type: "string",
        valueName: "NAME",
        complete: "profiles",
        help: "profile to write (default: NAME when keys are in NAME-long-term, else mfa-NAME)",
      },
      {
        name: "security-token",
        type: "boolean",
        help: "also write aws_security_token (for old tools)",
      },
    ],
    examples: ["mfa update-profile --profile default   # keys in [default-long-term]"],
  },
  {
    name: "credential-process",
    summary: "print credentials for credential_process in the AWS config",
    usage: "mfa credential-process [options]",
    options: [],
    examples: ["credential_process = /usr/local/bin/mfa credential-process --profile work"],
  },
  {
    name: "setup",
    summary: "create or edit a profile: terminal questions or one --gui form",
    usage: "mfa setup [--gui] [options]",
    options: [{ name: "gui", type: "boolean", help: "show one native form instead of questions" }],
    examples: ["mfa setup --profile work", "mfa setup --gui"],
  },
  {
    name: "status",
    summary: "list cached sessions: profile, role, kind, expires in (no secrets)",
    usage: "mfa status",
    options: [],
    examples: ["mfa status"],
  },
  {
    name: "clear",
    summary: "remove cached sessions of this profile (or --all)",
    usage: "mfa clear [--all] [options]",
    options: [{ name: "all", type: "boolean", help: "remove every cached session" }],
    examples: ["mfa clear --profile work", "mfa clear --all"],
  },
  {
    name: "edit",
    summary: "open the AWS config file in $VISUAL/$EDITOR (default vi)",
    usage: "mfa edit",
    options: [],
    examples: ["mfa edit"],
  },
  {
    name: "completions",
    summary: "print a completion script: bash, zsh, fish or powershell",
    usage: "mfa completions SHELL",
    options: [],
    examples: [
      'eval "$(mfa completions bash)"      # in ~/.bashrc',
      'eval "$(mfa completions zsh)"       # in ~/.zshrc, after compinit',
      "mfa completions fish > ~/.config/fish/completions/mfa.fish",
      "mfa completions powershell | Out-String | Invoke-Expression   # in $PROFILE",
    ],
    positionals: "one",
    positionalChoices: ["bash", "zsh", "fish", "powershell"],
  },
  {
    name: "help",
    summary: "show help for a command",
    usage: "mfa help [CMD]",
    options: [],
    examples: ["mfa help exports"],
    positionals: "one",
    positionalComplete: "commands",
  },
];

export const DEFAULT_COMMAND = "exports";

export type OptionValues = Record<string, string | boolean | undefined>;

export interface ParsedArgs {
  command: string;
  /** The command was named on the command line (not the default). */
  commandGiven: boolean;
  /** Option values by long name; flags only (environment is resolved later). */
  options: OptionValues;
  positionals: string[];
  version: boolean;
}

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function optionsFor(command: CommandSpec | undefined): OptionSpec[] {
  return command ? [...GLOBAL_OPTIONS, ...command.options] : GLOBAL_OPTIONS;
}

function lookupLong(specs: OptionSpec[], name: string): OptionSpec | undefined {
  return specs.find((o) => o.name === name || o.aliases?.includes(name));
}

/** Edit distance, for "did you mean" on a mistyped command or option. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let k = 1; k <= b.length; k++) {
      row[k] = Math.min(prev[k] + 1, row[k - 1] + 1, prev[k - 1] + (a[i - 1] === b[k - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

function suggest(name: string, candidates: string[]): string | undefined {
  const prefix = candidates.find((c) => name.length >= 2 && c.startsWith(name));
  if (prefix) return prefix;
  const scored = candidates.map((c) => ({ c, d: distance(name, c) })).sort((x, y) => x.d - y.d);
  return scored[0] && scored[0].d <= Math.max(1, Math.floor(name.length / 3))
    ? scored[0].c
    : undefined;
}

/**
 * Parses argv. Global options may stand before or after the command; `--` ends options (exec).
 * For exec, the first positional also ends option parsing, so `mfa exec aws --region x` works.
 */
export function parseArgv(argv: string[]): ParsedArgs {
  const options: OptionValues = {};
  const positionals: string[] = [];
  let commandName: string | undefined;
  let version = false;
  let i = 0;
  const allCommandOptions = COMMANDS.flatMap((c) => c.options);

  while (i < argv.length) {
    const arg = argv[i++];
    if (arg === "--") {
      positionals.push(...argv.slice(i));
      break;
    }
    if (arg === "--version" || arg === "-V") {
      version = true;
      continue;
    }
    if (arg.startsWith("--") || (arg.startsWith("-") && arg.length > 1)) {
      const command = commandName ? findCommand(commandName) : undefined;
      // Before the command is known, accept any command's options (`mfa --format fish exports`).
      const specs = command ? optionsFor(command) : [...GLOBAL_OPTIONS, ...allCommandOptions];
      let spec: OptionSpec | undefined;
      let inlineValue: string | undefined;
      let shown = arg;
      if (arg.startsWith("--")) {
        const eq = arg.indexOf("=");
        const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
        inlineValue = eq >= 0 ? arg.slice(eq + 1) : undefined;
        shown = `--${name}`;
        spec = lookupLong(specs, name);
        if (!spec && name.startsWith("no-")) {
          const negated = lookupLong(specs, name.slice(3));
          if (negated?.type === "boolean" && negated.name !== "cache") {
            options[negated.name] = false;
            continue;
          }
        }
        if (!spec) {
          const close = suggest(name, specs.map((s) => s.name));
          throw usageError(
            `unknown option ${shown}${commandName ? ` for ${commandName}` : ""}`,
            close ? `did you mean --${close}? See mfa --help` : "see mfa --help",
          );
        }
      } else {
        const letter = arg[1];
        spec = specs.find((o) => o.short === letter);
        if (arg.length > 2) inlineValue = arg.slice(2);
        shown = `-${letter}`;
        if (!spec) throw usageError(`unknown option ${shown}`, "see mfa --help");
        if (spec.type === "boolean" && inlineValue !== undefined) {
          throw usageError(`option ${shown} takes no value`, "see mfa --help");
        }
      }
      if (spec.type === "boolean") {
        if (inlineValue !== undefined) {
          throw usageError(`option --${spec.name} takes no value`, "see mfa --help");
        }
        options[spec.name] = true;
        continue;
      }
      let value = inlineValue;
      if (value === undefined) {
        if (i >= argv.length) {
          throw usageError(
            `option ${shown} needs a value (${spec.valueName ?? "VALUE"})`,
            "see mfa --help",
          );
        }
        value = argv[i++];
      }
      if (spec.choices && !spec.choices.includes(value)) {
        throw usageError(
          `invalid value for --${spec.name}: ${JSON.stringify(value)}`,
          `use one of: ${spec.choices.join(", ")}`,
        );
      }
      options[spec.name] = value;
      continue;
    }
    // A positional.
    if (commandName === undefined) {
      if (!findCommand(arg)) {
        const close = suggest(arg, COMMANDS.map((c) => c.name));
        throw usageError(
          `unknown command ${JSON.stringify(arg)}`,
          close ? `did you mean ${close}? See mfa --help` : "see mfa --help for the commands",
        );
      }
      commandName = arg;
      continue;
    }
    const command = findCommand(commandName)!;
    if (command.positionals === "rest") {
      positionals.push(arg, ...argv.slice(i));
      break;
    }
    if (command.positionals === "one" && positionals.length === 0) {
      positionals.push(arg);
      continue;
    }
    throw usageError(
      `unexpected argument ${JSON.stringify(arg)} for ${commandName}`,
      `usage: ${command.usage}`,
    );
  }

  const command = commandName ?? DEFAULT_COMMAND;
  // Options that belong to another command are an error once the command is known.
  const spec = findCommand(command)!;
  const allowed = new Set(optionsFor(spec).map((o) => o.name));
  for (const name of Object.keys(options)) {
    if (!allowed.has(name)) {
      throw usageError(`option --${name} does not apply to ${command}`, `usage: ${spec.usage}`);
    }
  }
  return { command, commandGiven: commandName !== undefined, options, positionals, version };
}

function optionLine(o: OptionSpec): string {
  const names = [
    o.short ? `-${o.short}` : "",
    `--${o.name}`,
    ...(o.aliases ?? []).map((a) => `--${a}`),
  ]
    .filter(Boolean)
    .join(", ");
  const left = o.type === "string" ? `${names} ${o.valueName ?? "VALUE"}` : names;
  const extra: string[] = [];
  if (o.env?.length) extra.push(`env ${o.env.join(", ")}`);
  if (o.profileKeys?.length) extra.push(`profile ${o.profileKeys.join(", ")}`);
  const tail = extra.length ? ` [${extra.join("; ")}]` : "";
  return `  ${left.padEnd(32)} ${o.help}${tail}`;
}

export function mainHelp(version: string): string {
  const lines = [
    `mfa ${version} — AWS MFA credential helper`,
    "",
    "usage: mfa [global options] <command> [args]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(20)} ${c.summary}`),
    "",
    "global options (before or after the command; flag > environment > profile > default):",
    ...GLOBAL_OPTIONS.map(optionLine),
    "  --version                        print the version",
    "",
    "examples:",
    '  eval "$(mfa exports --profile work)"',
    "  mfa exec --profile work -- aws s3 ls",
    "  mfa claude-export --profile work",
    "",
    "Run `mfa help CMD` for a command's options and examples.",
  ];
  return lines.join("\n") + "\n";
}

export function commandHelp(name: string): string {
  const command = findCommand(name);
  if (!command) {
    throw usageError(`unknown command ${JSON.stringify(name)}`, "see mfa --help for the commands");
  }
  const lines = [`usage: ${command.usage}`, "", command.summary, ""];
  if (command.options.length) {
    lines.push("options:", ...command.options.map(optionLine), "");
  }
  lines.push("global options:", ...GLOBAL_OPTIONS.map(optionLine), "", "examples:");
  lines.push(...command.examples.map((e) => `  ${e}`));
  return lines.join("\n") + "\n";
}
