/** The real programs tests drive (shells, AWS CLI, dialogs): finding them, so a test can skip when one is missing, and running them with a clean environment. */

export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Full path of `program` on PATH (Windows: with .exe/.cmd), or undefined. A path is checked as is. */
export function which(program: string): string | undefined {
  if (program.includes("/")) return isFile(program) ? program : undefined;
  const windows = Deno.build.os === "windows";
  const names = windows ? [`${program}.exe`, `${program}.cmd`, program] : [program];
  for (const dir of (Deno.env.get("PATH") ?? "").split(windows ? ";" : ":")) {
    if (!dir) continue;
    for (const name of names) if (isFile(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

export interface ProgramOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program with exactly `env` (nothing inherited), stdin from `stdin` or nothing, and returns
 * its decoded output. `timeoutMs` kills it (SIGKILL) if it runs longer.
 */
export async function runProgram(
  program: string,
  opts: {
    args: string[];
    env: Record<string, string>;
    stdin?: string;
    cwd?: string;
    timeoutMs?: number;
  },
): Promise<ProgramOutput> {
  const child = new Deno.Command(program, {
    args: opts.args,
    env: opts.env,
    clearEnv: true,
    cwd: opts.cwd,
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, opts.timeoutMs);
  try {
    if (opts.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(opts.stdin));
      await writer.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}
