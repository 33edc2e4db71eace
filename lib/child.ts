/**
 * Runs the child of `mfa exec` / `mfa shell`: inherited stdio, exactly the given environment,
 * signals passed on while it runs. Deno cannot exec(2) in place, so mfa waits and relays the code.
 */
import { MfaError } from "./errors.ts";
import type { Env } from "./types.ts";

export interface ChildExit {
  code: number;
  /** Signal number when the child died of a signal (code is then 128 + signal). */
  signal?: number;
}

export interface SpawnOptions {
  /**
   * Pass SIGINT on to the child. Default: only when no standard stream is a terminal. At a terminal,
   * Ctrl-C already reaches the child (it shares our process group); a second SIGINT would make tools
   * like terraform abort hard instead of stopping cleanly.
   */
  forwardInterrupt?: boolean;
}

function attachedToTerminal(): boolean {
  try {
    return Deno.stdin.isTerminal() || Deno.stdout.isTerminal() || Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

function cleanEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}

export async function spawnChild(
  argv: string[],
  env: Env,
  opts: SpawnOptions = {},
): Promise<ChildExit> {
  const [program, ...args] = argv;
  if (!program) throw new MfaError("usage", "no command to run");

  // Listeners go in before the spawn (which is synchronous), so no signal can slip in between the
  // child starting and mfa being ready to pass it on: the default action would end mfa alone.
  let child: Deno.ChildProcess | undefined;
  const forwardInterrupt = opts.forwardInterrupt ?? !attachedToTerminal();
  const listeners: [Deno.Signal, () => void][] = [];
  const relay = (signal: Deno.Signal) => () => {
    try {
      child?.kill(signal);
    } catch { /* already exited */ }
  };
  // Windows only knows SIGINT/SIGBREAK listeners; the console sends Ctrl-C to the child itself.
  if (Deno.build.os === "windows") {
    listeners.push(["SIGINT", () => {}]);
  } else {
    listeners.push(["SIGINT", forwardInterrupt ? relay("SIGINT") : () => {}]);
    listeners.push(["SIGTERM", relay("SIGTERM")], ["SIGHUP", relay("SIGHUP")]);
  }
  for (const [signal, handler] of listeners) Deno.addSignalListener(signal, handler);
  const removeListeners = () => {
    for (const [signal, handler] of listeners) Deno.removeSignalListener(signal, handler);
  };

  try {
    child = new Deno.Command(program, {
      args,
      env: cleanEnv(env),
      clearEnv: true,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (err) {
    removeListeners();
    throw spawnError(program, err);
  }
  try {
    const status = await child.status;
    if (status.signal) {
      const code = status.code > 128 ? status.code : 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
      return { code, signal: code - 128 };
    }
    return { code: status.code };
  } finally {
    removeListeners();
  }
}

function spawnError(program: string, err: unknown): MfaError {
  if (err instanceof Deno.errors.NotFound) {
    return new MfaError("internal", `command not found: ${program}`, {
      hint: "check the command's name and PATH",
      exitCode: 127,
      cause: err,
    });
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new MfaError("internal", `permission denied: ${program}`, {
      hint: "is it an executable file?",
      exitCode: 126,
      cause: err,
    });
  }
  return new MfaError("internal", `cannot run ${program}: ${(err as Error).message}`, {
    exitCode: 126,
    cause: err,
  });
}

/** The numbers shared by Linux and macOS, in case the runtime reports a signal without a code. */
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};
