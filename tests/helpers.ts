/** Test harness: a temp HOME, the fake STS over HTTP, and the real CLI spawned as a subprocess. */
import { fileURLToPath } from "node:url";
import { type ProgramOutput, runProgram } from "./programs.ts";
import { DEFAULT_USER, type FakeSts, type FakeStsOptions, startFakeSts } from "./fake_sts.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");
export const MAIN = `${ROOT}/main.ts`;

export type RunOutput = ProgramOutput;

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  cwd?: string;
  /** Kill after this many ms (default 60 s). */
  timeoutMs?: number;
}

export interface Sandbox {
  home: string;
  awsDir: string;
  credentialsFile: string;
  configFile: string;
  mfaHome: string;
  fake: FakeSts;
  /** Environment every spawned CLI gets (clean, not inherited): HOME, PATH, SSL_CERT_FILE, DENO_DIR, endpoint. */
  env: Record<string, string>;
  run(args: string[], opts?: RunOptions): Promise<RunOutput>;
  /** A valid code for the default user now (consumes nothing at the fake). */
  code(): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
  cleanup(): Promise<void>;
}

export const DEFAULT_CREDENTIALS = `[default]
aws_access_key_id = ${DEFAULT_USER.accessKeyId}
aws_secret_access_key = ${DEFAULT_USER.secretAccessKey}
mfa_serial = ${DEFAULT_USER.mfaSerial}
`;

/** Variables passed through from the test's own environment; everything else starts clean. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "SSL_CERT_FILE", "DENO_DIR", "DENO_CERT", "LANG", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  // Deno caches npm packages under $HOME/.cache/deno unless DENO_DIR says otherwise: keep the real cache.
  if (!env.DENO_DIR) {
    const home = Deno.env.get("HOME");
    if (home) env.DENO_DIR = `${home}/.cache/deno`;
  }
  return env;
}

/** Spawns `deno run main.ts ARGS` with exactly the given environment. */
export async function runMfa(
  args: string[],
  env: Record<string, string | undefined>,
  opts: RunOptions = {},
): Promise<RunOutput> {
  const cleanEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...env, ...opts.env })) {
    if (v !== undefined) cleanEnv[k] = v;
  }
  // MFA_TEST_BIN: run a compiled binary instead (release.yml smoke-tests dist/mfa-linux-x86_64 so).
  const bin = Deno.env.get("MFA_TEST_BIN");
  return await runProgram(bin || Deno.execPath(), {
    args: bin
      ? args
      : ["run", "--allow-all", "--quiet", "--frozen", `--config=${ROOT}/deno.json`, MAIN, ...args],
    env: cleanEnv,
    cwd: opts.cwd ?? ROOT,
    stdin: opts.stdin,
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}

export interface SandboxOptions {
  fake?: FakeStsOptions;
  /** Credentials file text; DEFAULT_CREDENTIALS unless given (null: no file). */
  credentials?: string | null;
  /** Config file text (null/undefined: no file). */
  config?: string | null;
}

export async function makeSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const home = await Deno.makeTempDir({ prefix: "mfa-test-" });
  const awsDir = `${home}/.aws`;
  await Deno.mkdir(awsDir, { recursive: true });
  const credentialsFile = `${awsDir}/credentials`;
  const configFile = `${awsDir}/config`;
  const credentials = opts.credentials === undefined ? DEFAULT_CREDENTIALS : opts.credentials;
  if (credentials !== null) await Deno.writeTextFile(credentialsFile, credentials, { mode: 0o600 });
  if (opts.config) await Deno.writeTextFile(configFile, opts.config, { mode: 0o600 });
  const fake = await startFakeSts({ windowTolerance: 4, ...opts.fake });
  const env: Record<string, string> = {
    ...baseEnv(),
    HOME: home,
    USERPROFILE: home,
    AWS_ENDPOINT_URL: fake.url,
    AWS_EC2_METADATA_DISABLED: "true",
    // Never block on /dev/tty in tests unless a test asks for a prompt.
    AWS_MFA_PROMPT: "none",
    // No desktop unless a test sets one.
    DISPLAY: "",
    WAYLAND_DISPLAY: "",
  };
  const cleanup = async () => {
    await fake.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  };
  return {
    home,
    awsDir,
    credentialsFile,
    configFile,
    mfaHome: `${awsDir}/mfa`,
    fake,
    env,
    run: (args, runOpts) => runMfa(args, env, runOpts),
    code: () => fake.codeFor(DEFAULT_USER.accessKeyId),
    cleanup,
    [Symbol.asyncDispose]: cleanup,
  };
}

/** Asserts no stack trace lines in stderr. */
export function hasStackTrace(stderr: string): boolean {
  return /^\s+at /m.test(stderr);
}
