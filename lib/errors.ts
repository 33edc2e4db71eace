/** Typed errors: thrown anywhere in lib/, turned into one stderr line and an exit code in main.ts only. */

export type ErrorKind =
  | "usage" // bad flag, value, unknown command: exit 2
  | "config" // AWS files missing/malformed/unreadable, unknown profile, no keys
  | "code" // no code source, mfa command failed, prompt cancelled
  | "cancelled" // user cancelled a prompt or pressed Ctrl-C: exit 130
  | "sts-invalid-code" // STS rejected the MFA code
  | "sts-serial" // STS could not validate the serial
  | "sts-duration" // DurationSeconds over the role's / STS's maximum
  | "sts-chaining" // role chaining limited to 1h
  | "sts-auth" // InvalidClientTokenId, ExpiredToken, SignatureDoesNotMatch
  | "sts-denied" // other AccessDenied
  | "sts-network" // unreachable, timeout
  | "sts-server" // 5xx, malformed reply
  | "sts-other"
  | "cache" // lock timeout, unwritable cache dir
  | "write" // cannot write AWS file / refuse to write long-term profile
  | "nested-shell"
  | "internal";

const EXIT_CODES: Partial<Record<ErrorKind, number>> = { usage: 2, cancelled: 130 };

export class MfaError extends Error {
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly exitCode: number;

  constructor(
    kind: ErrorKind,
    message: string,
    opts: { hint?: string; cause?: unknown; exitCode?: number } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "MfaError";
    this.kind = kind;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT_CODES[kind] ?? 1;
  }
}

export function usageError(message: string, hint?: string): MfaError {
  return new MfaError("usage", message, { hint });
}

/** One line for "mfa: error: ..." — never multi-line, so a message from a child process can't fake a hint. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

export function formatError(err: unknown, verbose: boolean): string {
  if (err instanceof MfaError) {
    let out = `mfa: error: ${oneLine(err.message)}\n`;
    if (err.hint) out += `hint: ${oneLine(err.hint)}\n`;
    if (verbose && err.cause instanceof Error && err.cause.stack) out += `${err.cause.stack}\n`;
    return out;
  }
  const message = err instanceof Error ? err.message : String(err);
  let out = `mfa: error: ${oneLine(message) || "unexpected failure"}\n`;
  if (verbose && err instanceof Error && err.stack) out += `${err.stack}\n`;
  else out += "hint: run again with -v for details\n";
  return out;
}

export function exitCodeOf(err: unknown): number {
  return err instanceof MfaError ? err.exitCode : 1;
}
