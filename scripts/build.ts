/**
 * `deno task build [--target T]... [--out DIR]`: one self-contained `mfa` executable per target with
 * `deno compile`, into dist/ as mfa-<os>-<arch>[.exe], plus dist/SHA256SUMS (sha256sum format).
 *
 * Permissions baked into the binaries (COMPILE_PERMISSIONS): read, write, env, net and run are not
 * scoped, because what they reach is chosen by the user at run time: --credentials-file/--config-file
 * and AWS_MFA_HOME pick the files, --endpoint-url the host, --mfa-command/exec/shell/$EDITOR the
 * programs, and exec/shell pass the whole environment on. A path list fixed at compile time would
 * break those (Deno cannot scope to "whatever the user configured"). sys is scoped to osRelease, the
 * one OS fact the AWS SDK reads (its user agent); ffi, import and everything else stay denied, and
 * --no-prompt makes a missing permission an error instead of a question.
 * No environment value is embedded (no --env-file) and nothing is --include'd: the version comes
 * from deno.json through main.ts's JSON import, which deno compile embeds like any module.
 */

import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");

export interface Target {
  /** Rust target triple, as `deno compile --target` takes it. */
  triple: string;
  os: "linux" | "macos" | "windows";
  arch: "x86_64" | "aarch64";
}

export const TARGETS: readonly Target[] = [
  { triple: "x86_64-unknown-linux-gnu", os: "linux", arch: "x86_64" },
  { triple: "aarch64-unknown-linux-gnu", os: "linux", arch: "aarch64" },
  { triple: "x86_64-apple-darwin", os: "macos", arch: "x86_64" },
  { triple: "aarch64-apple-darwin", os: "macos", arch: "aarch64" },
  { triple: "x86_64-pc-windows-msvc", os: "windows", arch: "x86_64" },
];

export const COMPILE_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-run",
  "--allow-sys=osRelease",
  "--no-prompt",
];

/** mfa-linux-x86_64, mfa-macos-aarch64, mfa-windows-x86_64.exe ... (what scripts/install.sh fetches). */
export function assetName(target: Target): string {
  return `mfa-${target.os}-${target.arch}${target.os === "windows" ? ".exe" : ""}`;
}

export class BuildUsageError extends Error {}

/** A target given as its triple or its asset suffix (linux-x86_64). */
export function findTarget(name: string): Target | undefined {
  return TARGETS.find((t) =>
    t.triple === name || `${t.os}-${t.arch}` === name || assetName(t) === name
  );
}

export interface BuildOptions {
  targets: Target[];
  outDir: string;
}

export function parseBuildArgs(args: string[], defaultOutDir = `${ROOT}/dist`): BuildOptions {
  const targets: Target[] = [];
  let outDir = defaultOutDir;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (flag !== "--target" && flag !== "--out") {
      throw new BuildUsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
    const value = inline ?? args[++i];
    if (value === undefined || value === "") throw new BuildUsageError(`${flag} needs a value`);
    if (flag === "--out") {
      outDir = value;
      continue;
    }
    const target = findTarget(value);
    if (!target) {
      throw new BuildUsageError(
        `unknown target ${JSON.stringify(value)}; known: ${
          TARGETS.map((t) => t.triple).join(", ")
        }`,
      );
    }
    if (!targets.includes(target)) targets.push(target);
  }
  return { targets: targets.length ? targets : [...TARGETS], outDir };
}

/** The `deno compile` arguments for one target. */
export function compileArgs(target: Target, output: string, root = ROOT): string[] {
  return [
    "compile",
    "--quiet",
    "--frozen",
    `--config=${root}/deno.json`,
    ...COMPILE_PERMISSIONS,
    "--target",
    target.triple,
    "--output",
    output,
    `${root}/main.ts`,
  ];
}

/** sha256sum's format: `<hex>  <name>` a line, sorted by name. */
export function sha256sumsText(entries: { name: string; sha256: string }[]): string {
  return [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.name}\n`)
    .join("");
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
}

/**
 * deno compile fetches the runtime it embeds (denort) for each target: when that fails, say so in one
 * line with the innermost cause of its error chain. Any other failure returns undefined.
 */
export function runtimeDownloadFailure(triple: string, stderr: string): string | undefined {
  const text = stripAnsi(stderr);
  const aboutRuntime = /denort|Setting up base binary|dl\.deno\.land/i.test(text);
  const aboutFetching =
    /error sending request|download|dns error|connect|timed out|certificate|404/i
      .test(text);
  if (!aboutRuntime || !aboutFetching) return undefined;
  const chain = text.split(/^Stack backtrace:/m)[0];
  const causes = [...chain.matchAll(/^\s*\d+: (.+)$/gm)].map((m) => m[1].trim());
  const error = text.match(/^error: (.+)$/m)?.[1].trim();
  let reason = causes.at(-1) ?? error ?? "download failed";
  if (reason.length > 160) reason = `${reason.slice(0, 157)}...`;
  return `mfa build: cannot download the Deno runtime for ${triple} (no network?): ${reason}`;
}

export interface BuiltAsset {
  name: string;
  path: string;
  sha256: string;
}

/** The project version, from deno.json (main.ts prints the same, via its JSON import). */
export async function projectVersion(root = ROOT): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  if (typeof config.version !== "string" || !/^\d+\.\d+\.\d+/.test(config.version)) {
    throw new Error(`deno.json has no valid "version"`);
  }
  return config.version;
}

async function compile(target: Target, outDir: string): Promise<BuiltAsset> {
  const name = assetName(target);
  const path = `${outDir}/${name}`;
  await Deno.remove(path).catch(() => {});
  const output = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(target, path),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr);
    const noRuntime = runtimeDownloadFailure(target.triple, stderr);
    // A compile error (type error, missing module) is worth reading in full; a download error is not.
    if (noRuntime) throw new BuildFailure(noRuntime);
    throw new BuildFailure(
      `mfa build: deno compile failed for ${target.triple} (exit ${output.code})`,
      stderr,
    );
  }
  return { name, path, sha256: await sha256Hex(await Deno.readFile(path)) };
}

/** A failed build: one summary line, plus the compiler's own output when it is worth reading. */
export class BuildFailure extends Error {
  constructor(message: string, readonly details = "") {
    super(message);
  }
}

/** The binary built for this machine must answer --version with deno.json's version. */
async function smokeTest(asset: BuiltAsset, version: string): Promise<void> {
  const output = await new Deno.Command(asset.path, {
    args: ["--version"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success || !stdout.includes(version)) {
    throw new BuildFailure(
      `mfa build: ${asset.name} --version printed ${JSON.stringify(stdout.trim())}, ` +
        `expected ${version} (exit ${output.code})`,
    );
  }
}

export async function build(options: BuildOptions): Promise<BuiltAsset[]> {
  const version = await projectVersion();
  await Deno.mkdir(options.outDir, { recursive: true });
  // A stale SHA256SUMS must not outlive a failed build.
  const sums = `${options.outDir}/SHA256SUMS`;
  await Deno.remove(sums).catch(() => {});
  const built: BuiltAsset[] = [];
  for (const target of options.targets) {
    const asset = await compile(target, options.outDir);
    if (target.triple === Deno.build.target) await smokeTest(asset, version);
    console.log(`built ${asset.path} (mfa ${version}, ${target.triple})`);
    built.push(asset);
  }
  await Deno.writeTextFile(sums, sha256sumsText(built));
  console.log(`wrote ${sums}`);
  return built;
}

if (import.meta.main) {
  try {
    await build(parseBuildArgs(Deno.args));
  } catch (err) {
    if (err instanceof BuildUsageError) {
      console.error(
        `mfa build: ${err.message}\nusage: deno task build [--target T]... [--out DIR]`,
      );
      Deno.exit(2);
    }
    if (err instanceof BuildFailure) {
      if (err.details) console.error(err.details.trimEnd());
      console.error(err.message);
      Deno.exit(1);
    }
    console.error(`mfa build: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
