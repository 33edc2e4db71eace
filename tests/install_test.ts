/**
 * scripts/install.sh against a local "release": a small shell script standing in for the binary,
 * and its SHA256SUMS. Run under every POSIX shell found (sh, dash, bash).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { assetName, sha256Hex, sha256sumsText, TARGETS } from "../scripts/build.ts";
import { ROOT } from "./helpers.ts";
import { runProgram, which } from "./programs.ts";

const INSTALL = `${ROOT}/scripts/install.sh`;

const POSIX = Deno.build.os !== "windows";
const SHELLS = ["sh", "dash", "bash"].filter((shell) => POSIX && which(shell));

interface Release {
  dir: string;
  /** Where assets are served from (a directory). */
  assets: string;
  home: string;
  env: Record<string, string>;
  run(shell: string, args: string[], env?: Record<string, string>): Promise<Output>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every build asset as a tiny script that prints its own name, plus a correct SHA256SUMS. */
async function release(): Promise<Release> {
  const dir = await Deno.makeTempDir({ prefix: "mfa-install-" });
  const assets = `${dir}/assets`;
  const home = `${dir}/home`;
  await Deno.mkdir(assets);
  await Deno.mkdir(home);
  const entries = [];
  for (const target of TARGETS) {
    const name = assetName(target);
    const body = new TextEncoder().encode(`#!/bin/sh\necho "fake ${name} $*"\n`);
    await Deno.writeFile(`${assets}/${name}`, body);
    entries.push({ name, sha256: await sha256Hex(body) });
  }
  await Deno.writeTextFile(`${assets}/SHA256SUMS`, sha256sumsText(entries));
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: home,
    MFA_DOWNLOAD_BASE: assets,
    MFA_INSTALL_OS: "Linux",
    MFA_INSTALL_ARCH: "x86_64",
  };
  return {
    dir,
    assets,
    home,
    env,
    run: (shell, args, extra = {}) => spawn(shell, [INSTALL, ...args], { ...env, ...extra }),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function spawn(
  program: string,
  args: string[],
  env: Record<string, string>,
): Promise<Output> {
  return await runProgram(program, {
    args,
    env,
  });
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

async function entries(dir: string): Promise<string[]> {
  if (!(await exists(dir))) return [];
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

for (const shell of SHELLS) {
  Deno.test(`install.sh (${shell}): installs the matching asset, verified, mode 0755, and it runs`, async () => {
    await using r = await release();
    const out = await r.run(shell, []);
    assertEquals(out.code, 0, out.stderr);
    const installed = `${r.home}/.local/bin/mfa`;
    assertEquals((await Deno.stat(installed)).mode! & 0o777, 0o755);
    assertStringIncludes(out.stdout, installed);
    assertStringIncludes(out.stdout, "not on your PATH"); // ~/.local/bin is not on this PATH
    const ran = await spawn(installed, ["--version"], r.env);
    assertEquals(ran.stdout, "fake mfa-linux-x86_64 --version\n");
    assertEquals(await entries(`${r.home}/.local/bin`), ["mfa"]); // no temp file left behind
  });

  Deno.test(`install.sh (${shell}): picks the asset from OS and CPU names, aliases included`, async () => {
    await using r = await release();
    const cases: [string, string, string][] = [
      ["Linux", "aarch64", "mfa-linux-aarch64"],
      ["Linux", "arm64", "mfa-linux-aarch64"],
      ["Linux", "amd64", "mfa-linux-x86_64"],
      ["Darwin", "arm64", "mfa-macos-aarch64"],
      ["Darwin", "x86_64", "mfa-macos-x86_64"],
    ];
    for (const [os, arch, asset] of cases) {
      const bin = `${r.dir}/bin-${os}-${arch}`;
      const out = await r.run(shell, ["--dir", bin], {
        MFA_INSTALL_OS: os,
        MFA_INSTALL_ARCH: arch,
        PATH: `${bin}:${r.env.PATH}`,
      });
      assertEquals(out.code, 0, out.stderr);
      assertEquals((await spawn(`${bin}/mfa`, [], r.env)).stdout, `fake ${asset} \n`);
      assert(!out.stdout.includes("not on your PATH"), out.stdout);
    }
  });

  Deno.test(`install.sh (${shell}): a checksum mismatch refuses and installs nothing`, async () => {
    await using r = await release();
    // Same size, one byte different: the asset someone tampered with.
    const path = `${r.assets}/mfa-linux-x86_64`;
    const body = await Deno.readFile(path);
    body[body.length - 2] ^= 1;
    await Deno.writeFile(path, body);
    const bin = `${r.dir}/bin`;
    const out = await r.run(shell, ["--dir", bin]);
    assertEquals(out.code, 1);
    assertMatch(
      out.stderr,
      /^mfa install: checksum mismatch for mfa-linux-x86_64 \(expected [0-9a-f]{64}, got [0-9a-f]{64}\); nothing installed$/m,
    );
    assertEquals(await entries(bin), []);
  });

  Deno.test(`install.sh (${shell}): an asset missing from SHA256SUMS is refused`, async () => {
    await using r = await release();
    const sums = await Deno.readTextFile(`${r.assets}/SHA256SUMS`);
    await Deno.writeTextFile(
      `${r.assets}/SHA256SUMS`,
      sums.split("\n").filter((l) => !l.endsWith("  mfa-linux-x86_64")).join("\n"),
    );
    const out = await r.run(shell, ["--dir", `${r.dir}/bin`]);
    assertEquals(out.code, 1);
    assertStringIncludes(out.stderr, "SHA256SUMS lists no mfa-linux-x86_64");
    assertEquals(await entries(`${r.dir}/bin`), []);
  });

  Deno.test(`install.sh (${shell}): unknown CPU or OS says so and installs nothing`, async () => {
    await using r = await release();
    const bin = `${r.dir}/bin`;
    let out = await r.run(shell, ["--dir", bin], { MFA_INSTALL_ARCH: "mips64" });
    assertEquals(out.code, 1);
    assertStringIncludes(out.stderr, "mfa install: unsupported architecture: mips64");
    assertStringIncludes(out.stderr, "hint: ");
    out = await r.run(shell, ["--dir", bin], { MFA_INSTALL_OS: "SunOS" });
    assertEquals(out.code, 1);
    assertStringIncludes(out.stderr, "mfa install: unsupported OS: SunOS");
    assertEquals(await entries(bin), []);
  });
}

Deno.test({
  name: "install.sh: a file:// base, a positional DIR, and a replaced older install",
  ignore: !SHELLS.length,
  async fn() {
    await using r = await release();
    const bin = `${r.dir}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(`${bin}/mfa`, "old", { mode: 0o700 });
    const out = await r.run(SHELLS[0], [bin], { MFA_DOWNLOAD_BASE: `file://${r.assets}/` });
    assertEquals(out.code, 0, out.stderr);
    assertEquals((await spawn(`${bin}/mfa`, ["x"], r.env)).stdout, "fake mfa-linux-x86_64 x\n");
    assertEquals((await Deno.stat(`${bin}/mfa`)).mode! & 0o777, 0o755);
  },
});

Deno.test({
  name: "install.sh: downloads from the release URL (--version, latest) with curl, or wget",
  ignore: !SHELLS.length,
  async fn() {
    await using r = await release();
    // Stand-ins for curl and wget that log their URL and serve it from the local assets.
    const tools = `${r.dir}/tools`;
    await Deno.mkdir(tools);
    const log = `${r.dir}/fetch.log`;
    // The URL is the last argument; the file to write follows -o (curl) or -O (wget).
    const serve = (name: string, outFlag: string) =>
      `#!/bin/sh\nout=""; prev=""\n` +
      `for a in "$@"; do [ "$prev" = "${outFlag}" ] && out="$a"; prev="$a"; url="$a"; done\n` +
      `echo "${name} $url" >> "${log}"\ncp "${r.assets}/\${url##*/}" "$out"\n`;
    await Deno.writeTextFile(`${tools}/curl`, serve("curl", "-o"), { mode: 0o755 });
    const withCurl = { PATH: `${tools}:${r.env.PATH}`, MFA_DOWNLOAD_BASE: "" };

    let out = await r.run(SHELLS[0], ["--dir", `${r.dir}/a`, "--version", "1.2.3"], withCurl);
    assertEquals(out.code, 0, out.stderr);
    out = await r.run(SHELLS[0], ["--dir", `${r.dir}/b`], { ...withCurl, MFA_REPO: "acme/mfa" });
    assertEquals(out.code, 0, out.stderr);

    // Only wget: a PATH holding just what install.sh uses, and a wget stand-in.
    const only = `${r.dir}/only-wget`;
    await Deno.mkdir(only);
    await Deno.writeTextFile(`${only}/wget`, serve("wget", "-O"), { mode: 0o755 });
    const needed = [
      "sh",
      "awk",
      "cp",
      "mv",
      "rm",
      "mkdir",
      "mktemp",
      "chmod",
      "tr",
      "sha256sum",
      "shasum",
    ];
    for (const tool of needed) {
      const found = which(tool);
      if (found) await Deno.symlink(found, `${only}/${tool}`);
    }
    out = await spawn(`${only}/sh`, [INSTALL, "--dir", `${r.dir}/c`], {
      ...r.env,
      PATH: only,
      MFA_DOWNLOAD_BASE: "",
    });
    assertEquals(out.code, 0, out.stderr);

    const base = "https://github.com/OWNER/mfa/releases";
    assertEquals((await Deno.readTextFile(log)).trim().split("\n"), [
      `curl ${base}/download/v1.2.3/mfa-linux-x86_64`,
      `curl ${base}/download/v1.2.3/SHA256SUMS`,
      "curl https://github.com/acme/mfa/releases/latest/download/mfa-linux-x86_64",
      "curl https://github.com/acme/mfa/releases/latest/download/SHA256SUMS",
      `wget ${base}/latest/download/mfa-linux-x86_64`,
      `wget ${base}/latest/download/SHA256SUMS`,
    ]);
    for (const dir of ["a", "b", "c"]) {
      assertEquals((await Deno.stat(`${r.dir}/${dir}/mfa`)).mode! & 0o777, 0o755);
    }
  },
});
