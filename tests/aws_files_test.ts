import assert from "node:assert/strict";
import { readAwsFiles, writeIniSection } from "../lib/aws_files.ts";
import { parseAwsIni, setIniSection } from "../lib/ini.ts";
import { MfaError } from "../lib/errors.ts";
import { ROOT } from "./helpers.ts";

const isRoot = Deno.uid() === 0;
const isWindows = Deno.build.os === "windows";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "mfa-files-" });
}

async function tempLeftovers(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.includes(".mfa-tmp-")) names.push(entry.name);
  }
  return names;
}

function assertMfaError(kind: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof MfaError, String(err));
    assert.equal(err.kind, kind);
    assert.match(err.message, pattern);
    assert.ok(err.hint);
    return true;
  };
}

Deno.test("aws_files: missing files read as empty maps", async () => {
  const dir = await tempDir();
  const files = await readAwsFiles(`${dir}/credentials`, `${dir}/config`);
  assert.equal(files.credentials.size, 0);
  assert.equal(files.config.size, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("aws_files: reads both files with their own rules", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/credentials`, "[work]\naws_access_key_id = AKIA1\n");
  await Deno.writeTextFile(
    `${dir}/config`,
    "[profile work]\nregion = eu-west-1\n[work]\nignored = 1\n",
  );
  const files = await readAwsFiles(`${dir}/credentials`, `${dir}/config`);
  assert.deepEqual({ ...files.credentials.get("work") }, { aws_access_key_id: "AKIA1" });
  assert.deepEqual({ ...files.config.get("work") }, { region: "eu-west-1" });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("aws_files: /dev/null reads as an empty file", { ignore: isWindows }, async () => {
  const files = await readAwsFiles("/dev/null", "/dev/null");
  assert.equal(files.credentials.size + files.config.size, 0);
});

Deno.test("aws_files: a directory or malformed file is a config error naming the file", async () => {
  const dir = await tempDir();
  await Deno.mkdir(`${dir}/credentials`);
  await assert.rejects(
    readAwsFiles(`${dir}/credentials`, `${dir}/config`),
    assertMfaError("config", new RegExp(`^cannot read ${dir}/credentials: `)),
  );
  await Deno.writeTextFile(`${dir}/config`, "[default]\nregion = x\ngarbage\n");
  await assert.rejects(
    readAwsFiles(`${dir}/nothing`, `${dir}/config`),
    assertMfaError("config", new RegExp(`^${dir}/config line 3: `)),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "aws_files: an unreadable file is a config error",
  ignore: isRoot || isWindows, // root reads anything
  fn: async () => {
    const dir = await tempDir();
    await Deno.writeTextFile(`${dir}/config`, "[default]\n", { mode: 0o000 });
    await Deno.chmod(`${dir}/config`, 0o000);
    await assert.rejects(
      readAwsFiles(`${dir}/credentials`, `${dir}/config`),
      assertMfaError("config", /cannot read .*: permission denied/),
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test(
  "aws_files: new file is 0600 in a new 0700 directory",
  { ignore: isWindows },
  async () => {
    const dir = await tempDir();
    const path = `${dir}/nested/.aws/credentials`;
    await writeIniSection(path, "mfa-default", {
      aws_access_key_id: "ASIA1",
      aws_session_token: "t",
    });
    assert.equal(
      await Deno.readTextFile(path),
      "[mfa-default]\naws_access_key_id = ASIA1\naws_session_token = t\n",
    );
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/nested/.aws`)).mode! & 0o777, 0o700);
    assert.deepEqual(await tempLeftovers(`${dir}/nested/.aws`), []);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "aws_files: an existing file keeps its mode and other bytes",
  { ignore: isWindows },
  async () => {
    const dir = await tempDir();
    const path = `${dir}/credentials`;
    const before = "# mine\r\n[other]\r\nk = v\r\n\r\n[default]\r\naws_access_key_id = AKIAOLD\r\n";
    await Deno.writeTextFile(path, before);
    await Deno.chmod(path, 0o640);
    await writeIniSection(path, "default", { aws_access_key_id: "ASIANEW" });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o640);
    assert.equal(await Deno.readTextFile(path), before.replace("AKIAOLD", "ASIANEW"));
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("aws_files: no change means no write", async () => {
  const dir = await tempDir();
  const path = `${dir}/credentials`;
  await Deno.writeTextFile(path, "[default]\na = 1\n");
  const before = await Deno.stat(path);
  await writeIniSection(path, "default", { a: "1", b: null });
  const after = await Deno.stat(path);
  assert.equal(after.ino, before.ino);
  await Deno.remove(dir, { recursive: true });
});

Deno.test(
  "aws_files: a symlinked file is updated through the link",
  { ignore: isWindows },
  async () => {
    const dir = await tempDir();
    await Deno.mkdir(`${dir}/dotfiles`);
    await Deno.writeTextFile(`${dir}/dotfiles/credentials`, "[default]\na = 1\n");
    await Deno.symlink(`${dir}/dotfiles/credentials`, `${dir}/credentials`);
    await writeIniSection(`${dir}/credentials`, "default", { a: "2" });
    assert.ok((await Deno.lstat(`${dir}/credentials`)).isSymlink);
    assert.equal(await Deno.readTextFile(`${dir}/dotfiles/credentials`), "[default]\na = 2\n");
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("aws_files: failures are write errors; the file is untouched and no temp file stays", async () => {
  const dir = await tempDir();
  // The target is a directory: cannot be read.
  await Deno.mkdir(`${dir}/credentials`);
  await assert.rejects(
    writeIniSection(`${dir}/credentials`, "default", { a: "1" }),
    assertMfaError("write", new RegExp(`^cannot write ${dir}/credentials: cannot read it`)),
  );
  // Not a regular file: never renamed over.
  if (!isWindows) {
    await assert.rejects(
      writeIniSection("/dev/null", "default", { a: "1" }),
      assertMfaError("write", /^cannot write \/dev\/null: it is not a regular file/),
    );
    assert.ok((await Deno.stat("/dev/null")).isCharDevice);
  }
  // The parent is a file: cannot create the directory.
  await Deno.writeTextFile(`${dir}/plainfile`, "x");
  await assert.rejects(
    writeIniSection(`${dir}/plainfile/credentials`, "default", { a: "1" }),
    assertMfaError("write", /^cannot write /),
  );
  // A failure after the temp file was written (before the rename): temp removed, file unchanged.
  const path = `${dir}/config`;
  await Deno.writeTextFile(path, "[default]\na = 1\n");
  await assert.rejects(
    writeIniSection(path, "default", { a: "2" }, {
      testHooks: {
        afterTempWrite: () => Promise.reject(new Deno.errors.PermissionDenied("injected")),
      },
    }),
    assertMfaError("write", /permission denied/),
  );
  assert.equal(await Deno.readTextFile(path), "[default]\na = 1\n");
  assert.deepEqual(await tempLeftovers(dir), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "aws_files: a read-only directory is a write error, file untouched",
  ignore: isRoot || isWindows, // root writes anywhere
  fn: async () => {
    const dir = await tempDir();
    await Deno.writeTextFile(`${dir}/credentials`, "[default]\na = 1\n");
    await Deno.chmod(dir, 0o500);
    await assert.rejects(
      writeIniSection(`${dir}/credentials`, "default", { a: "2" }),
      assertMfaError("write", /permission denied/),
    );
    await Deno.chmod(dir, 0o700);
    assert.equal(await Deno.readTextFile(`${dir}/credentials`), "[default]\na = 1\n");
    await Deno.remove(dir, { recursive: true });
  },
});

function spawnWriter(
  path: string,
  header: string,
  values: Record<string, string | null>,
  mode: string,
) {
  const valuesFile = `${path}.values.json`;
  Deno.writeTextFileSync(valuesFile, JSON.stringify(values));
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      `--config=${ROOT}/deno.json`,
      `${ROOT}/tests/fixtures/write_and_hang.ts`,
      path,
      header,
      valuesFile,
      mode,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
}

/** Reads the child's stdout until `line` appears. */
async function waitForLine(
  child: Deno.ChildProcess,
  line: string,
): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.split("\n").includes(line)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`writer exited before printing ${line}: ${JSON.stringify(seen)}`);
    seen += decoder.decode(value, { stream: true });
  }
  return reader;
}

const OTHER_SECTIONS = "# personal\n[default-long-term]\naws_access_key_id = AKIALONGTERM\n" +
  "aws_secret_access_key = secret\naws_mfa_device = arn:aws:iam::123456789012:mfa/u\n\n[other]\nregion = x\n";

Deno.test({
  name:
    "aws_files: kill -9 before the rename leaves the old file; the leftover temp file is harmless",
  ignore: isWindows,
  fn: async () => {
    const dir = await tempDir();
    const path = `${dir}/credentials`;
    const old = `${OTHER_SECTIONS}\n[default]\naws_access_key_id = ASIAOLD\n`;
    await Deno.writeTextFile(path, old, { mode: 0o600 });
    const values = { aws_access_key_id: "ASIANEW", aws_session_token: "token" };
    const child = spawnWriter(path, "default", values, "hang");
    const reader = await waitForLine(child, "ready");
    child.kill("SIGKILL");
    const status = await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    assert.equal(status.signal, "SIGKILL");
    assert.equal(await Deno.readTextFile(path), old);
    // The complete, synced temp file is left beside it; it is not the credentials file.
    const leftovers = await tempLeftovers(dir);
    assert.equal(leftovers.length, 1);
    assert.match(leftovers[0], /^\.credentials\.mfa-tmp-[0-9a-f]+$/);
    assert.equal(
      await Deno.readTextFile(`${dir}/${leftovers[0]}`),
      setIniSection(old, "default", values),
    );
    // The next write works and is not affected by it.
    await writeIniSection(path, "default", { aws_access_key_id: "ASIANEXT" });
    const now = parseAwsIni(await Deno.readTextFile(path), path, "credentials");
    assert.equal(now.get("default")!.aws_access_key_id, "ASIANEXT");
    assert.equal(now.get("default-long-term")!.aws_access_key_id, "AKIALONGTERM");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "aws_files: kill -9 at random moments of a large write leaves the old or the new file",
  ignore: isWindows,
  fn: async () => {
    const dir = await tempDir();
    const path = `${dir}/credentials`;
    // Large enough that the write takes a while; made of lines like a real file.
    const filler = Array.from(
      { length: 40_000 },
      (_, i) => `# filler comment line ${i} ${"x".repeat(60)}\n`,
    ).join("");
    let current = `${filler}${OTHER_SECTIONS}\n[default]\naws_access_key_id = ASIA0\n`;
    await Deno.writeTextFile(path, current, { mode: 0o600 });
    const outcomes = { old: 0, new: 0 };
    for (let round = 1; round <= 20; round++) {
      const values = {
        aws_access_key_id: `ASIA${round}`,
        aws_session_token: `${round}`.repeat(200_000 + round * 1000),
      };
      const next = setIniSection(current, "default", values);
      const child = spawnWriter(path, "default", values, "write");
      const reader = await waitForLine(child, "start");
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
      try {
        child.kill("SIGKILL");
      } catch { /* it already finished */ }
      await child.status;
      reader.releaseLock();
      await child.stdout.cancel();
      const text = await Deno.readTextFile(path);
      assert.ok(
        text === current || text === next,
        `round ${round}: the file is neither old nor new`,
      );
      parseAwsIni(text, path, "credentials");
      if (text === next) outcomes.new++;
      else outcomes.old++;
      current = text;
      for (const name of await tempLeftovers(dir)) await Deno.remove(`${dir}/${name}`);
    }
    assert.equal(outcomes.old + outcomes.new, 20);
    await Deno.remove(dir, { recursive: true });
  },
});
