/**
 * The real CLI and the ways it gets a code from a person: no way at all (fails fast, naming every
 * way), 1Password through a fake `op`, the terminal through a real pseudo-terminal (`script`),
 * plus `mfa setup` at a terminal and `mfa edit`.
 */
import { findOnPath } from "../lib/prompt/driver.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { DEFAULT_USER } from "./fake_sts.ts";
import { hasStackTrace, MAIN, makeSandbox, ROOT, type Sandbox } from "./helpers.ts";

const env = Deno.env.toObject();
const isWindows = Deno.build.os === "windows";
const hasScript = !isWindows && !!(await findOnPath("script", env, "linux")) &&
  !!(await findOnPath("setsid", env, "linux"));

const WAYS = ["--code", "AWS_MFA_TOKEN", "--mfa-command", "terminal", "desktop"];

async function withSandbox(
  fn: (sandbox: Sandbox) => Promise<void>,
  opts: Parameters<typeof makeSandbox>[0] = {},
): Promise<void> {
  const sandbox = await makeSandbox(opts);
  try {
    await fn(sandbox);
  } finally {
    await sandbox.cleanup();
  }
}

function assertNamesEveryWay(stderr: string): void {
  for (const way of WAYS) assertStringIncludes(stderr, way);
  assert(stderr.startsWith("mfa: error: no way to ask for an MFA code"), stderr);
  assert(!hasStackTrace(stderr), stderr);
}

Deno.test("cli: --prompt none fails at once, naming every way to give a code", () =>
  withSandbox(async (sandbox) => {
    for (const how of [["--prompt", "none"], []]) {
      // [] relies on the sandbox's AWS_MFA_PROMPT=none.
      const out = await sandbox.run(["claude-export", ...how]);
      assertEquals(out.code, 1, out.stderr);
      assertEquals(out.stdout, "");
      assertNamesEveryWay(out.stderr);
    }
    assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 0);
  }));

Deno.test({
  name: "cli: auto with no terminal and no desktop fails the same way",
  ignore: !hasScript,
  fn: () =>
    withSandbox(async (sandbox) => {
      // setsid: a new session has no controlling terminal, whatever runs the tests.
      const out = await runDetached(sandbox, ["exports", "--prompt", "auto"]);
      assertEquals(out.code, 1, out.stderr);
      assertNamesEveryWay(out.stderr);
      assertStringIncludes(out.stderr, "no terminal and no desktop dialog");
    }),
});

async function runDetached(sandbox: Sandbox, args: string[]) {
  const cmd = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      "run",
      "--allow-all",
      "--quiet",
      `--config=${ROOT}/deno.json`,
      MAIN,
      ...args,
    ],
    env: sandbox.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const out = await cmd.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

// ---- 1Password ----------------------------------------------------------------------------------

/** Writes an `op` script into a bin dir of the sandbox and returns the PATH that finds it first. */
async function fakeOp(sandbox: Sandbox, body: string): Promise<string> {
  const bin = `${sandbox.home}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(`${bin}/op`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return `${bin}:${sandbox.env.PATH}`;
}

Deno.test({
  name: "cli: the code comes from 1Password (fake op on PATH)",
  ignore: isWindows,
  fn: () =>
    withSandbox(async (sandbox) => {
      const code = await sandbox.code();
      const path = await fakeOp(
        sandbox,
        `printf '%s\\n' "$@" > "$HOME/op-args"\necho ${code}`,
      );
      const out = await sandbox.run(["claude-export", "--op-item", "AWS work"], {
        env: { PATH: path, AWS_MFA_UPDATER_OP_ACCOUNT: "acme" },
      });
      assertEquals(out.code, 0, out.stderr);
      assertEquals(typeof JSON.parse(out.stdout).Credentials.SessionToken, "string");
      assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 1);
      const args = (await Deno.readTextFile(`${sandbox.home}/op-args`)).trimEnd().split("\n");
      assertEquals(args, ["item", "get", "AWS work", "--otp", "--account", "acme"]);
      assert(!out.stderr.includes(code), "the code must never be printed");
    }),
});

Deno.test({
  name: "cli: a failing op warns and falls back to prompting",
  ignore: isWindows,
  fn: () =>
    withSandbox(async (sandbox) => {
      const path = await fakeOp(sandbox, 'echo "[ERROR] not signed in" >&2\nexit 1');
      await Deno.writeTextFile(
        sandbox.configFile,
        "[default]\nmfa_op_item = AWS work\n",
      );
      // --prompt none: reaching the prompter shows as its "no way to ask" error.
      const out = await sandbox.run(["exports"], { env: { PATH: path } });
      assertEquals(out.code, 1, out.stderr);
      assertStringIncludes(out.stderr, "mfa: warning: 1Password: op item get failed (exit 1)");
      assertStringIncludes(out.stderr, "no way to ask for an MFA code");
      assert(!out.stderr.includes("not signed in"), "op's stderr is for -v only");
      assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 0);
    }),
});

// ---- a real terminal ----------------------------------------------------------------------------

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

interface PtyStep {
  /** Wait until the terminal output so far contains this, then type `send`. */
  expect: string;
  send: string;
}

/**
 * Runs the CLI inside a pseudo-terminal made by `script`, answering prompts as they appear (typing
 * ahead would be echoed before the program could hide it). Stdin is /dev/null and stdout a file,
 * as under eval "$(...)": every question and answer goes through /dev/tty.
 */
async function runInPty(
  sandbox: Sandbox,
  args: string[],
  steps: PtyStep[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; terminal: string; stdout: string }> {
  const stdoutFile = `${sandbox.home}/stdout.txt`;
  const command = [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--quiet",
    `--config=${ROOT}/deno.json`,
    MAIN,
    ...args,
  ].map(shellQuote).join(" ") + ` < /dev/null > ${shellQuote(stdoutFile)}`;
  const child = new Deno.Command("script", {
    args: ["-qefc", command, "/dev/null"],
    env: { ...sandbox.env, SHELL: "/bin/sh", TERM: "dumb", ...extraEnv },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  let terminal = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) terminal += decoder.decode(chunk, { stream: true });
  })();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    let seen = 0;
    for (const step of steps) {
      const deadline = Date.now() + 30_000;
      while (terminal.indexOf(step.expect, seen) < 0) {
        if (Date.now() > deadline) {
          throw new Error(`never saw ${JSON.stringify(step.expect)} in:\n${terminal}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      seen = terminal.indexOf(step.expect, seen) + step.expect.length;
      await writer.write(new TextEncoder().encode(step.send));
    }
    const status = await child.status;
    return { code: status.code, terminal, stdout: await Deno.readTextFile(stdoutFile) };
  } finally {
    clearTimeout(killer);
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await reading.catch(() => {});
    await child.stderr.cancel().catch(() => {});
    await writer.close().catch(() => {});
  }
}

Deno.test({
  name: "cli: exports under eval asks on the terminal (not stdin), re-asking a bad answer",
  ignore: !hasScript,
  fn: () =>
    withSandbox(async (sandbox) => {
      const code = await sandbox.code();
      const out = await runInPty(sandbox, ["exports", "--prompt", "auto"], [
        { expect: "MFA code for default: ", send: "12345\r" },
        { expect: "That is not a 6-digit code; try again.", send: `${code}\r` },
      ], { AWS_MFA_PROMPT: "auto" });
      assertEquals(out.code, 0, out.terminal);
      assertStringIncludes(out.stdout, "export AWS_SESSION_TOKEN=");
      assert(!out.stdout.includes("MFA code"), "the prompt must not reach stdout");
      assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 1);
    }),
});

Deno.test({
  name: "cli: setup at a terminal: questions, hidden secret, files written, typed code tried",
  ignore: !hasScript,
  fn: () =>
    withSandbox(async (sandbox) => {
      const secret = DEFAULT_USER.secretAccessKey;
      const code = await sandbox.code();
      const out = await runInPty(sandbox, ["setup", "--profile", "work"], [
        { expect: "Region [us-east-1]: ", send: "eu-west-3\r" },
        { expect: "Access key ID: ", send: `${DEFAULT_USER.accessKeyId}\r` },
        { expect: "Secret access key (hidden): ", send: `${secret}\r` },
        { expect: "MFA device ARN: ", send: `${DEFAULT_USER.mfaSerial}\r` },
        { expect: "Role ARN (optional): ", send: "\r" },
        { expect: "Session duration [12h]: ", send: "2h\r" },
        { expect: "MFA command, or a code now (optional): ", send: `${code}\r` },
      ]);
      assertEquals(out.code, 0, out.terminal);
      assertEquals(out.stdout, "");
      assert(!out.terminal.includes(secret), "the secret was echoed");
      assertStringIncludes(out.terminal, "saved profile work");
      // The code typed into the last field proved the profile works (and was not saved).
      assertStringIncludes(out.terminal, "the profile works");
      assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 1);
      const credentials = await Deno.readTextFile(sandbox.credentialsFile);
      assertStringIncludes(
        credentials,
        `[work]\naws_access_key_id = ${DEFAULT_USER.accessKeyId}\n`,
      );
      assertStringIncludes(credentials, `aws_secret_access_key = ${secret}\n`);
      // The default profile the sandbox started with is untouched.
      assert(credentials.startsWith("[default]\n"), credentials);
      const config = await Deno.readTextFile(sandbox.configFile);
      assertStringIncludes(config, "[profile work]\n");
      assertStringIncludes(config, "region = eu-west-3\n");
      assertStringIncludes(config, "duration_seconds = 7200\n");
      assert(!config.includes(code) && !credentials.includes(code), "a one-time code is not saved");
    }),
});

// ---- edit ---------------------------------------------------------------------------------------

Deno.test({
  name: "cli: edit runs $VISUAL (else $EDITOR) on the config file and exits with its code",
  ignore: isWindows,
  fn: () =>
    withSandbox(async (sandbox) => {
      await Deno.remove(sandbox.awsDir, { recursive: true });
      const editor = `sh -c 'echo "$0" > "$HOME/edited"; exit 3'`;
      const out = await sandbox.run(["edit"], {
        env: { EDITOR: "false", VISUAL: editor },
      });
      assertEquals(out.code, 3, out.stderr);
      assertEquals((await Deno.readTextFile(`${sandbox.home}/edited`)).trim(), sandbox.configFile);
      // ~/.aws was created for the editor to save into.
      assert((await Deno.stat(sandbox.awsDir)).isDirectory);
      const viaEditor = await sandbox.run(["edit", "--config-file", `${sandbox.home}/cfg`], {
        env: { EDITOR: `sh -c 'echo "$0" > "$HOME/edited"'` },
      });
      assertEquals(viaEditor.code, 0, viaEditor.stderr);
      assertEquals(
        (await Deno.readTextFile(`${sandbox.home}/edited`)).trim(),
        `${sandbox.home}/cfg`,
      );
    }),
});
