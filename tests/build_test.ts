/**
 * scripts/build.ts: the pure parts (targets, asset names, SHA256SUMS, failure line), the permission
 * set the binaries get (main.ts run under exactly those permissions against the fake STS), and a
 * real one-target build (no network here: it must fail in one line; with a cached runtime it must
 * produce a binary that prints the version).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import {
  assetName,
  BuildUsageError,
  COMPILE_PERMISSIONS,
  compileArgs,
  findTarget,
  parseBuildArgs,
  projectVersion,
  runtimeDownloadFailure,
  sha256Hex,
  sha256sumsText,
  TARGETS,
} from "../scripts/build.ts";
import { baseEnv, MAIN, makeSandbox, ROOT } from "./helpers.ts";
import { runProgram } from "./programs.ts";

Deno.test("build: the five release targets and their asset names", () => {
  assertEquals(TARGETS.map((t) => [t.triple, assetName(t)]), [
    ["x86_64-unknown-linux-gnu", "mfa-linux-x86_64"],
    ["aarch64-unknown-linux-gnu", "mfa-linux-aarch64"],
    ["x86_64-apple-darwin", "mfa-macos-x86_64"],
    ["aarch64-apple-darwin", "mfa-macos-aarch64"],
    ["x86_64-pc-windows-msvc", "mfa-windows-x86_64.exe"],
  ]);
});

Deno.test("build: --target takes a triple or an asset suffix; --out a directory", () => {
  assertEquals(parseBuildArgs([], "/d"), { targets: [...TARGETS], outDir: "/d" });
  const parsed = parseBuildArgs([
    "--target",
    "aarch64-apple-darwin",
    "--target=linux-x86_64",
    "--target",
    "mfa-windows-x86_64.exe",
    "--out",
    "/tmp/x",
  ]);
  assertEquals(parsed.targets.map(assetName), [
    "mfa-macos-aarch64",
    "mfa-linux-x86_64",
    "mfa-windows-x86_64.exe",
  ]);
  assertEquals(parsed.outDir, "/tmp/x");
  assertEquals(parseBuildArgs(["--target", "linux-x86_64", "--target", "linux-x86_64"]).targets, [
    findTarget("linux-x86_64")!,
  ]);
  for (const bad of [["--target", "riscv64"], ["--out"], ["--frobnicate"], ["dist"]]) {
    let thrown: unknown;
    try {
      parseBuildArgs(bad);
    } catch (err) {
      thrown = err;
    }
    assert(thrown instanceof BuildUsageError, `${bad.join(" ")} should be a usage error`);
  }
});

Deno.test("build: deno compile gets only the needed permissions, no env file, no includes", () => {
  const args = compileArgs(TARGETS[0], "/out/mfa-linux-x86_64", "/repo");
  assertEquals(args.at(-1), "/repo/main.ts");
  assert(args.includes("--no-prompt"));
  assert(args.includes("--frozen"));
  assertEquals(args.slice(args.indexOf("--target"), args.indexOf("--target") + 2), [
    "--target",
    "x86_64-unknown-linux-gnu",
  ]);
  assertEquals(args.slice(args.indexOf("--output"), args.indexOf("--output") + 2), [
    "--output",
    "/out/mfa-linux-x86_64",
  ]);
  for (const arg of args) {
    assert(!/^(-A|--allow-all|--allow-ffi|--allow-import|--env-file|--include)/.test(arg), arg);
  }
  assertEquals(args.filter((a) => a.startsWith("--allow-")), [
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net",
    "--allow-run",
    "--allow-sys=osRelease",
  ]);
});

Deno.test("build: SHA256SUMS is sha256sum's format, sorted by name", async () => {
  const text = sha256sumsText([
    { name: "mfa-macos-x86_64", sha256: "b".repeat(64) },
    { name: "mfa-linux-x86_64", sha256: "a".repeat(64) },
  ]);
  assertEquals(text, `${"a".repeat(64)}  mfa-linux-x86_64\n${"b".repeat(64)}  mfa-macos-x86_64\n`);
  // The digest of "abc" (FIPS 180-2 example).
  assertEquals(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(sha256sumsText([]), "");
});

Deno.test({
  name: "build: SHA256SUMS verifies with sha256sum -c",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "mfa-sums-" });
    try {
      const entries = [];
      for (const name of ["mfa-linux-x86_64", "mfa-windows-x86_64.exe"]) {
        const body = new TextEncoder().encode(`binary ${name}\n`);
        await Deno.writeFile(`${dir}/${name}`, body);
        entries.push({ name, sha256: await sha256Hex(body) });
      }
      await Deno.writeTextFile(`${dir}/SHA256SUMS`, sha256sumsText(entries));
      const tool = Deno.build.os === "darwin" ? ["shasum", "-a", "256"] : ["sha256sum"];
      const out = await new Deno.Command(tool[0], {
        args: [...tool.slice(1), "-c", "SHA256SUMS"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      assertEquals(
        new TextDecoder().decode(out.stdout),
        "mfa-linux-x86_64: OK\nmfa-windows-x86_64.exe: OK\n",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// What deno compile 2.9 prints when it cannot fetch denort (NO_COLOR), and a plain compile error.
const DOWNLOAD_ERROR =
  `error: Writing deno compile executable to temporary file '/tmp/out/mfa.tmp-167c6df48d0bf187'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)
    3: dns error
    4: failed to lookup address information: Name or service not known

Stack backtrace:
   0: <unknown>
`;

Deno.test("build: a runtime download failure becomes one line with its innermost cause", () => {
  assertEquals(
    runtimeDownloadFailure("x86_64-unknown-linux-gnu", DOWNLOAD_ERROR),
    "mfa build: cannot download the Deno runtime for x86_64-unknown-linux-gnu (no network?): " +
      "failed to lookup address information: Name or service not known",
  );
  const colored = DOWNLOAD_ERROR.replace("error:", "\x1b[1m\x1b[31merror\x1b[0m:");
  assertStringIncludes(runtimeDownloadFailure("t", colored)!, "failed to lookup address");
  const notFound = "error: Download https://dl.deno.land/release/v2.9.6/denort-x.zip failed: 404";
  assertEquals(
    runtimeDownloadFailure("x", notFound),
    "mfa build: cannot download the Deno runtime for x (no network?): " +
      "Download https://dl.deno.land/release/v2.9.6/denort-x.zip failed: 404",
  );
  // A type error or a missing module is not a download failure.
  assertEquals(
    runtimeDownloadFailure("x", "error: TS2322 [ERROR]: Type 'number' is not assignable"),
    undefined,
  );
  assertEquals(
    runtimeDownloadFailure("x", 'error: Module not found "file:///repo/lib/nope.ts".'),
    undefined,
  );
});

Deno.test("build: the version comes from deno.json and main.ts prints it", async () => {
  const version = await projectVersion();
  assertMatch(version, /^\d+\.\d+\.\d+/);
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--frozen",
      `--config=${ROOT}/deno.json`,
      ...COMPILE_PERMISSIONS,
      MAIN,
      "--version",
    ],
    env: baseEnv(),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(new TextDecoder().decode(out.stderr), "");
  assertEquals(new TextDecoder().decode(out.stdout), `mfa ${version}\n`);
});

Deno.test({
  name: "build: main.ts works under exactly the binaries' permissions (cold STS, cache, exec)",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using box = await makeSandbox();
    const run = (args: string[]) =>
      runProgram(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--frozen",
          `--config=${ROOT}/deno.json`,
          ...COMPILE_PERMISSIONS,
          MAIN,
          ...args,
        ],
        env: box.env,
      });
    // Cold: the AWS SDK calls STS (it reads the OS release for its user agent).
    let out = await run(["claude-export", "--code", await box.code()]);
    assertEquals(out.code, 0, out.stderr);
    const key = JSON.parse(out.stdout).Credentials.AccessKeyId;
    assert(box.fake.issued(key), "not issued by the fake");
    // Cache hit, a child process with the environment, the credentials file, the cache listing.
    out = await run(["exports"]);
    assertEquals(out.code, 0, out.stderr);
    assertStringIncludes(out.stdout, key);
    out = await run(["exec", "--", "sh", "-c", 'printf %s "$AWS_ACCESS_KEY_ID"']);
    assertEquals([out.code, out.stdout], [0, key], out.stderr);
    out = await run(["update-profile", "--target", "session"]);
    assertEquals(out.code, 0, out.stderr);
    assertStringIncludes(await Deno.readTextFile(box.credentialsFile), key);
    out = await run(["status"]);
    assertEquals(out.code, 0, out.stderr);
    out = await run(["completions", "bash"]);
    assertEquals(out.code, 0, out.stderr);
    assertEquals(box.fake.calls.length, 1);
  },
});

Deno.test({
  name: "build: one target for real — no runtime download here means one stderr line and exit 1",
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "mfa-build-" });
    try {
      const target = TARGETS.find((t) => t.triple === Deno.build.target) ?? TARGETS[0];
      const result = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          `${ROOT}/scripts/build.ts`,
          "--target",
          target.triple,
          "--out",
          out,
        ],
        env: baseEnv(),
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      const stdout = new TextDecoder().decode(result.stdout);
      const binary = `${out}/${assetName(target)}`;
      if (result.code === 0) {
        // A cached or reachable runtime: the build must have produced a working binary and its sum.
        const version = await projectVersion();
        const ran = await new Deno.Command(binary, { args: ["--version"], stdout: "piped" })
          .output();
        assertEquals(new TextDecoder().decode(ran.stdout), `mfa ${version}\n`);
        const sums = await Deno.readTextFile(`${out}/SHA256SUMS`);
        assertEquals(
          sums,
          sha256sumsText([{
            name: assetName(target),
            sha256: await sha256Hex(await Deno.readFile(binary)),
          }]),
        );
        assertStringIncludes(stdout, `built ${binary}`);
        return;
      }
      assertEquals(result.code, 1, stderr);
      assertEquals(stderr.endsWith("\n") ? stderr.slice(0, -1).split("\n").length : 0, 1, stderr);
      assertMatch(
        stderr,
        new RegExp(
          `^mfa build: cannot download the Deno runtime for ${target.triple} \\(no network\\?\\): \\S`,
        ),
      );
      // Nothing half-built is left: no binary, no temp file, no SHA256SUMS.
      assertEquals([...Deno.readDirSync(out)].map((e) => e.name), []);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
