import assert from "node:assert/strict";
import { spawnChild } from "../lib/child.ts";
import { MfaError } from "../lib/errors.ts";
import { ROOT } from "./helpers.ts";

const isWindows = Deno.build.os === "windows";
const PATH = Deno.env.get("PATH") ?? "/usr/bin:/bin";

Deno.test({
  name: "child: exit code passes through",
  ignore: isWindows,
  fn: async () => {
    assert.deepEqual(await spawnChild(["sh", "-c", "exit 7"], { PATH }), { code: 7 });
    assert.deepEqual(await spawnChild(["sh", "-c", "exit 0"], { PATH }), { code: 0 });
  },
});

Deno.test({
  name: "child: death by signal N is 128+N",
  ignore: isWindows,
  fn: async () => {
    assert.deepEqual(await spawnChild(["sh", "-c", "kill -TERM $$"], { PATH }), {
      code: 143,
      signal: 15,
    });
    assert.deepEqual(await spawnChild(["sh", "-c", "kill -KILL $$"], { PATH }), {
      code: 137,
      signal: 9,
    });
  },
});

Deno.test({
  name: "child: gets exactly the given environment",
  ignore: isWindows,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mfa-child-" });
    const out = `${dir}/env`;
    const script =
      `printf '%s|%s|%s' "$MFA_TEST_VALUE" "\${HOME-unset}" "\${SKIPPED-unset}" > "$OUT"`;
    const result = await spawnChild(["sh", "-c", script], {
      PATH,
      OUT: out,
      MFA_TEST_VALUE: "a b'c\"$d",
      SKIPPED: undefined,
    });
    assert.equal(result.code, 0);
    assert.equal(await Deno.readTextFile(out), "a b'c\"$d|unset|unset");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("child: a missing command is exit 127, not a crash", async () => {
  await assert.rejects(spawnChild(["mfa-no-such-command-xyz"], { PATH }), (err: unknown) => {
    assert.ok(err instanceof MfaError);
    assert.equal(err.exitCode, 127);
    assert.equal(err.message, "command not found: mfa-no-such-command-xyz");
    return true;
  });
});

Deno.test({
  name: "child: a file that is not executable is exit 126",
  ignore: isWindows,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "mfa-child-" });
    await Deno.writeTextFile(`${dir}/script`, "echo hi\n", { mode: 0o644 });
    await Deno.chmod(`${dir}/script`, 0o644);
    await assert.rejects(spawnChild([`${dir}/script`], { PATH }), (err: unknown) => {
      assert.ok(err instanceof MfaError);
      assert.equal(err.exitCode, 126);
      return true;
    });
    await Deno.remove(dir, { recursive: true });
  },
});

/** Starts tests/fixtures/spawn_child.ts running a shell script that reports the signals it gets. */
async function signalRoundTrip(
  signal: Deno.Signal,
  fixtureFlags: string[] = [],
  /** What the child does after the signal was sent (default: loop until a trap exits). */
  then = "while :; do sleep 0.05; done",
): Promise<{ code: number; seen: string }> {
  const dir = await Deno.makeTempDir({ prefix: "mfa-child-" });
  const seen = `${dir}/seen`;
  // The trap records the signal and exits 3; `echo ready` tells the test the trap is set.
  const script =
    `trap 'echo INT >> "$SEEN"; exit 3' INT; trap 'echo TERM >> "$SEEN"; exit 3' TERM; ` +
    `trap 'echo HUP >> "$SEEN"; exit 3' HUP; echo ready; read _line; ${then}`;
  const parent = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      `--config=${ROOT}/deno.json`,
      `${ROOT}/tests/fixtures/spawn_child.ts`,
      ...fixtureFlags,
      "sh",
      "-c",
      script,
    ],
    env: { SEEN: seen },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = parent.stdout.getReader();
  let text = "";
  while (!text.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  parent.kill(signal);
  // The child waits on `read` until the signal was sent: then it goes on with `then`.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await parent.stdin.close();
  const status = await parent.status;
  await parent.stdout.cancel();
  const result = { code: status.code, seen: await Deno.readTextFile(seen).catch(() => "") };
  await Deno.remove(dir, { recursive: true });
  return result;
}

for (const signal of ["SIGTERM", "SIGHUP", "SIGINT"] as const) {
  Deno.test({
    name: `child: ${signal} to mfa reaches the child once, mfa exits with the child's code`,
    ignore: isWindows,
    fn: async () => {
      // stdio is not a terminal here, so SIGINT is forwarded too.
      const { code, seen } = await signalRoundTrip(signal);
      assert.equal(seen, `${signal.slice(3)}\n`);
      assert.equal(code, 3);
    },
  });
}

Deno.test({
  name: "child: SIGINT is not relayed when the terminal already delivers it; mfa keeps waiting",
  ignore: isWindows,
  fn: async () => {
    const { code, seen } = await signalRoundTrip("SIGINT", ["--no-forward-interrupt"], "exit 5");
    assert.equal(seen, "");
    assert.equal(code, 5);
  },
});
