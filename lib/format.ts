/**
 * Credentials → text: shell statements (sh, fish, PowerShell, cmd), dotenv, and the JSON shapes
 * that Claude Code (awsCredentialExport) and the AWS SDKs (credential_process) read. Pure.
 */
import { MfaError } from "./errors.ts";
import type { Credentials, Env } from "./types.ts";

export type ExportFormat = "sh" | "fish" | "powershell" | "cmd" | "dotenv" | "json";

export const EXPORT_FORMATS: readonly ExportFormat[] = [
  "sh",
  "fish",
  "powershell",
  "cmd",
  "dotenv",
  "json",
];

/** Every variable `exports` may set; `unsets` clears all of them whatever was set. */
export const EXPORT_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
] as const;

export type ExportVariable = typeof EXPORT_VARIABLES[number];

/** ISO 8601 UTC without milliseconds ("2026-11-23T20:00:00Z"), as the AWS CLI and SDKs write it. */
export function isoSeconds(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new MfaError("internal", "credential expiration is not a valid date");
  }
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** What `exports` sets, in order: the four credential values, then both region names when known. */
export function credentialVariables(creds: Credentials): [ExportVariable, string][] {
  const vars: [ExportVariable, string][] = [
    ["AWS_ACCESS_KEY_ID", creds.accessKeyId],
    ["AWS_SECRET_ACCESS_KEY", creds.secretAccessKey],
    ["AWS_SESSION_TOKEN", creds.sessionToken],
    ["AWS_CREDENTIAL_EXPIRATION", isoSeconds(creds.expiration)],
  ];
  if (creds.region) vars.push(["AWS_REGION", creds.region], ["AWS_DEFAULT_REGION", creds.region]);
  return vars;
}

/** "11h 58m", "4m", "<1m" or "expired": time left, for status and stderr notes. */
export function formatRemaining(ms: number): string {
  if (ms <= 0) return "expired";
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return "<1m";
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours}h ${minutes % 60}m` : `${minutes}m`;
}

/** "20:00 (in 11h 59m)": local clock time and time left. */
export function describeExpiry(expiration: Date, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const clock = `${pad(expiration.getHours())}:${pad(expiration.getMinutes())}`;
  return `${clock} (in ${formatRemaining(expiration.getTime() - now.getTime())})`;
}

// ---- quoting ------------------------------------------------------------------------------------

/**
 * POSIX single quotes: everything is literal up to the next `'`, so only `'` needs care (`'\''`).
 * Newlines stay literal inside the quotes; `eval "$(...)"` handles that in bash, zsh, dash, ksh.
 */
export function quoteSh(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * fish single quotes know two escapes, `\\` and `\'`. Line breaks go outside the quotes as `\n` and
 * `\r` so every statement stays on one line (`eval (mfa exports)` splits its input on newlines).
 */
export function quoteFish(value: string): string {
  let out = "'";
  for (const ch of value) {
    if (ch === "\\" || ch === "'") out += `\\${ch}`;
    else if (ch === "\n") out += "'\\n'";
    else if (ch === "\r") out += "'\\r'";
    else out += ch;
  }
  return `${out}'`;
}

/** Characters PowerShell's tokenizer treats as a single quote: ' and the typographic ‘ ’ ‚ ‛. */
const POWERSHELL_SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;

/**
 * PowerShell single quotes: a quote character is written twice (any of the five, each doubled as
 * itself). `mfa exports | Invoke-Expression` runs each line on its own, so CR and LF are spliced in
 * as `[char]13` / `[char]10` and every statement stays on one line.
 */
export function quotePowerShell(value: string): string {
  const pieces = value.split(/(\r|\n)/);
  let out = "";
  for (const [i, piece] of pieces.entries()) {
    if (i % 2 === 1) out += ` + [char]${piece.charCodeAt(0)} + `;
    else out += `'${piece.replace(POWERSHELL_SINGLE_QUOTES, "$&$&")}'`;
  }
  return out;
}

/**
 * dotenv has no single standard; this is the common double-quoted convention (dotenv-expand, docker
 * compose, godotenv): `\\`, `\"`, `\$`, and `\n` / `\r` for line breaks, so each entry is one line.
 */
export function quoteDotenv(value: string): string {
  const escaped = value.replace(/[\\"$\n\r]/g, (ch) => {
    if (ch === "\n") return "\\n";
    if (ch === "\r") return "\\r";
    return `\\${ch}`;
  });
  return `"${escaped}"`;
}

/**
 * cmd.exe has no quoting that is safe everywhere: `%` is expanded at parse time (and `%%` means
 * `%` only in batch files), `!` under delayed expansion, `"` toggles the quoting of `& | < > ^`,
 * and a line break ends the command. Inside `set "NAME=value"` all other printable ASCII is
 * literal, both in a batch file and in `for /f "delims=" %i in ('mfa exports --format cmd') do %i`.
 * Non-ASCII is refused too: cmd reads it in the console code page, not UTF-8. STS credentials are
 * base64 and alphanumerics, so this only rejects values that could not have come from AWS.
 */
const CMD_SAFE = /^[\x20-\x7e]*$/;
const CMD_UNSAFE = /["%!]/;

export function quoteCmdAssignment(name: string, value: string): string {
  if (!CMD_SAFE.test(value) || CMD_UNSAFE.test(value)) {
    // Never echo the value: it may be a secret.
    throw new MfaError(
      "internal",
      `${name} holds a character cmd.exe cannot take safely (", %, !, a control or non-ASCII one)`,
      { hint: "use --format powershell, --format dotenv or --format json instead" },
    );
  }
  return `"${name}=${value}"`;
}

// ---- exports / unsets ---------------------------------------------------------------------------

/** Statements that set every credential variable, one per line, ending with a newline. */
export function formatExports(creds: Credentials, format: ExportFormat): string {
  if (format === "json") return formatCredentialProcess(creds);
  const vars = credentialVariables(creds);
  return vars.map(([name, value]) => assignment(name, value, format)).join("\n") + "\n";
}

function assignment(name: string, value: string, format: Exclude<ExportFormat, "json">): string {
  switch (format) {
    case "sh":
      return `export ${name}=${quoteSh(value)}`;
    case "fish":
      // `;` keeps the statements apart when `eval (mfa exports)` joins the lines with spaces.
      return `set -gx ${name} ${quoteFish(value)};`;
    case "powershell":
      return `$Env:${name} = ${quotePowerShell(value)}`;
    case "cmd":
      return `set ${quoteCmdAssignment(name, value)}`;
    case "dotenv":
      return `${name}=${quoteDotenv(value)}`;
  }
}

/** Statements that clear all six variables (set or not) silently; ends with a newline. */
export function formatUnsets(format: ExportFormat): string {
  switch (format) {
    case "sh":
      return `unset ${EXPORT_VARIABLES.join(" ")}\n`;
    case "fish":
      // Global scope only: exported and inherited variables live there; erasing a universal
      // variable would delete the user's setting in every fish session. The `if` leaves $status at
      // 0 and prints nothing when a variable was not set (a bare `set -e` returns 4).
      return lines((name) => `if set -q -g ${name}; set -e -g ${name}; end;`);
    case "powershell":
      return lines((name) => `Remove-Item Env:${name} -ErrorAction SilentlyContinue`);
    case "cmd":
      return lines((name) => `set "${name}="`);
    case "dotenv":
      return lines((name) => `${name}=`);
    case "json":
      return JSON.stringify(Object.fromEntries(EXPORT_VARIABLES.map((name) => [name, null]))) +
        "\n";
  }
}

function lines(statement: (name: ExportVariable) => string): string {
  return EXPORT_VARIABLES.map(statement).join("\n") + "\n";
}

// ---- JSON shapes --------------------------------------------------------------------------------

/** What Claude Code's awsCredentialExport reads: `aws sts get-session-token` output's shape. */
export function formatClaudeExport(creds: Credentials): string {
  return JSON.stringify({
    Credentials: {
      AccessKeyId: creds.accessKeyId,
      SecretAccessKey: creds.secretAccessKey,
      SessionToken: creds.sessionToken,
      Expiration: isoSeconds(creds.expiration),
    },
  }) + "\n";
}

/** The AWS credential_process schema (Version 1). */
export function formatCredentialProcess(creds: Credentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    SessionToken: creds.sessionToken,
    Expiration: isoSeconds(creds.expiration),
  }) + "\n";
}

// ---- detection ----------------------------------------------------------------------------------

export interface ShellContext {
  /** deps.os; when absent, Windows is recognised by env.OS === "Windows_NT". */
  os?: "linux" | "darwin" | "windows";
  /**
   * Name or path of the process that started mfa, when the caller could find it (Linux:
   * /proc/PPID/comm; macOS: `ps -o comm= -p PPID`). Under `eval "$(mfa exports)"` or
   * `mfa exports | source` that is the shell that will read the output: the best signal there is.
   */
  parentProcess?: string;
}

const POSIX_SHELLS = "sh bash zsh dash ash ksh ksh93 mksh lksh oksh pdksh yash posh busybox";

const SHELL_FORMATS: Readonly<Record<string, ExportFormat>> = {
  ...Object.fromEntries(POSIX_SHELLS.split(" ").map((name) => [name, "sh" as const])),
  fish: "fish",
  pwsh: "powershell",
  "pwsh-preview": "powershell",
  powershell: "powershell",
  cmd: "cmd",
};

/** "-zsh" (login shell), "/usr/bin/fish", "C:\\...\\pwsh.exe" → the format that shell reads. */
export function shellFormatOf(processName: string): ExportFormat | undefined {
  const base = processName.trim().split(/[\\/]/).pop()!.toLowerCase().replace(/^-/, "")
    .replace(/\.exe$/, "");
  return Object.hasOwn(SHELL_FORMATS, base) ? SHELL_FORMATS[base] : undefined;
}

/**
 * Which format `exports`/`unsets` print without --format. First rule that applies:
 * 1. The parent process is a known shell: its format.
 * 2. FISH_VERSION is in the environment: fish. (fish does not export it by default, so this only
 *    catches users who export it; rule 1 is what finds fish in practice.)
 * 3. Windows: MSYSTEM or SHELL set (Git Bash, MSYS2, Cygwin) → sh. PSModulePath with an entry under
 *    USERPROFILE → powershell (PowerShell prepends the user's module folder for itself and its
 *    children; the system-wide value cmd sees has none). PSModulePath without one → cmd. No
 *    PSModulePath at all → powershell, the default Windows shell.
 * 4. Elsewhere: PSModulePath set → powershell (only pwsh sets it on Linux and macOS).
 * 5. sh.
 * SHELL is never used to pick fish: it names the login shell, not the one running
 * `eval "$(mfa exports)"`, and bash would choke on fish syntax.
 */
export function detectExportFormat(env: Env, context: ShellContext = {}): ExportFormat {
  const fromParent = context.parentProcess ? shellFormatOf(context.parentProcess) : undefined;
  if (fromParent) return fromParent;
  if (env.FISH_VERSION) return "fish";
  const windows = context.os ? context.os === "windows" : env.OS === "Windows_NT";
  const modulePath = env.PSModulePath;
  if (windows) {
    if (env.MSYSTEM || env.SHELL) return "sh";
    if (modulePath === undefined) return "powershell";
    const home = (env.USERPROFILE ?? "").toLowerCase().replace(/[\\/]+$/, "");
    const userEntry = home !== "" &&
      modulePath.split(";").some((entry) => entry.toLowerCase().startsWith(`${home}\\`));
    return userEntry ? "powershell" : "cmd";
  }
  if (modulePath) return "powershell";
  return "sh";
}
