/** The real world behind `Deps`: clock, processes, STS, prompts. Built once in main.ts from the environment. */
import { MfaError } from "./errors.ts";
import type { CodePrompter, Deps, Env, Logger, RunResult, StsFactory } from "./types.ts";

export interface DepsOptions {
  env: Env;
  command: string;
  verbose: boolean;
  /** Where messages go (stderr); lib never writes to it directly. */
  writeErr: (text: string) => void;
}

function osName(): Deps["os"] {
  const os = Deno.build.os;
  return os === "darwin" ? "darwin" : os === "windows" ? "windows" : "linux";
}

async function run(
  argv: string[],
  opts: { timeoutMs?: number; stdin?: string; env?: Env } = {},
): Promise<RunResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: opts.stdin !== undefined ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      ...(opts.env ? { env, clearEnv: true } : {}),
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${argv[0]}: not found` };
    }
    throw new MfaError("internal", `cannot run ${argv[0]}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Read the pipes ourselves: after a timeout kill, a grandchild (`sh -c 'a | b'`) can hold them
  // open for as long as it runs, so a timeout stops reading instead of waiting for end of file.
  const readers = [child.stdout.getReader(), child.stderr.getReader()];
  const outputs = readers.map(readText);
  let timedOut = false;
  const timer = opts.timeoutMs
    ? setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      for (const reader of readers) reader.cancel().catch(() => {});
    }, opts.timeoutMs)
    : undefined;
  try {
    if (opts.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(opts.stdin)).catch(() => {});
      await writer.close().catch(() => {});
    }
    const [stdout, stderr] = await Promise.all(outputs);
    const status = await child.status;
    if (timedOut) {
      throw new MfaError(
        "code",
        `${argv[0]} did not finish within ${Math.round(opts.timeoutMs! / 1000)}s`,
        {
          hint: "check that the command does not wait for input",
        },
      );
    }
    return { code: status.code, stdout, stderr };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Everything a pipe delivers until end of file (or until the reader is cancelled). */
async function readText(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
  }
}

function runShell(command: string, opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  const argv = Deno.build.os === "windows"
    ? ["cmd.exe", "/d", "/s", "/c", command]
    : ["/bin/sh", "-c", command];
  return run(argv, opts);
}

function hasTerminal(): boolean {
  try {
    const tty = Deno.openSync(Deno.build.os === "windows" ? "CONIN$" : "/dev/tty", {
      read: true,
      write: true,
    });
    tty.close();
    return true;
  } catch {
    return false;
  }
}

/** Linux: /proc/PPID/comm; macOS: ps. Windows: unknown (the environment rules decide there). */
function parentProcess(): string | undefined {
  try {
    if (Deno.build.os === "linux") return Deno.readTextFileSync(`/proc/${Deno.ppid}/comm`).trim();
    if (Deno.build.os === "darwin") {
      const out = new Deno.Command("ps", {
        args: ["-o", "comm=", "-p", String(Deno.ppid)],
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
    }
  } catch { /* unknown */ }
  return undefined;
}

export function createLogger(verbose: boolean, writeErr: (text: string) => void): Logger {
  return {
    debug: (msg) => {
      if (verbose) writeErr(`mfa: ${msg}\n`);
    },
    warn: (msg) => writeErr(`mfa: warning: ${msg}\n`),
    info: (msg) => writeErr(`${msg}\n`),
  };
}

export function createDeps(opts: DepsOptions): Deps {
  const log = createLogger(opts.verbose, opts.writeErr);
  const os = osName();
  // Loaded on first use only: the cache-hit path never pays for the SDK or the dialog drivers.
  const sts: StsFactory = async (clientOpts) => {
    const { createStsClient } = await import("./sts.ts");
    return createStsClient(clientOpts, {
      iamEndpointUrl: opts.env.AWS_ENDPOINT_URL_IAM || opts.env.AWS_ENDPOINT_URL || undefined,
    });
  };
  const prompt: CodePrompter = async (req, mode, command) => {
    const { createPrompter } = await import("./prompt/index.ts");
    return createPrompter({ env: opts.env, os, run, hasTerminal, log })(req, mode, command);
  };
  const spawnChild: Deps["spawnChild"] = async (argv, env) => {
    const { spawnChild } = await import("./child.ts");
    return spawnChild(argv, env);
  };
  return {
    env: opts.env,
    home: opts.env.HOME || opts.env.USERPROFILE || "",
    os,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    sts,
    run,
    runShell,
    spawnChild,
    hasTerminal,
    parentProcess,
    prompt,
    log,
    command: opts.command,
  };
}
