/** 1Password through a fake `op` on PATH, run by the real deps.run. */
import { codeFromOnePassword, opArgs } from "../lib/code/op.ts";
import { createDeps } from "../lib/deps.ts";
import type { Logger } from "../lib/types.ts";
import { assert, assertEquals } from "./assert.ts";

const isWindows = Deno.build.os === "windows";

interface Captured {
  log: Logger;
  warnings: string[];
  debugs: string[];
}

function captureLog(): Captured {
  const warnings: string[] = [];
  const debugs: string[] = [];
  return {
    warnings,
    debugs,
    log: { warn: (m) => warnings.push(m), debug: (m) => debugs.push(m), info: () => {} },
  };
}

/** A temp dir holding an `op` shell script with this body, first on PATH while fn runs. */
async function withFakeOp(
  body: string | undefined,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mfa-op-" });
  const oldPath = Deno.env.get("PATH") ?? "";
  try {
    if (body !== undefined) {
      await Deno.writeTextFile(`${dir}/op`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      Deno.env.set("PATH", `${dir}:${oldPath}`);
    } else {
      // No op anywhere: PATH is just the empty dir.
      Deno.env.set("PATH", dir);
    }
    await fn(dir);
  } finally {
    Deno.env.set("PATH", oldPath);
    await Deno.remove(dir, { recursive: true });
  }
}

function realRun() {
  return createDeps({ env: {}, command: "exports", verbose: false, writeErr: () => {} }).run;
}

Deno.test("op: argv with and without an account", () => {
  assertEquals(opArgs("AWS work", undefined), ["op", "item", "get", "AWS work", "--otp"]);
  assertEquals(opArgs("AWS work", "acme.1password.com"), [
    "op",
    "item",
    "get",
    "AWS work",
    "--otp",
    "--account",
    "acme.1password.com",
  ]);
});

Deno.test({
  name: "op: the code op prints is returned, the item and account passed as argv",
  ignore: isWindows,
  fn: () =>
    withFakeOp('printf "%s\\n" "$@" > "$(dirname "$0")/args"; echo 123456', async (dir) => {
      const { log, warnings } = captureLog();
      const code = await codeFromOnePassword("My AWS; $(x)", "acme", { run: realRun(), log });
      assertEquals(code, "123456");
      assertEquals(warnings, []);
      const args = (await Deno.readTextFile(`${dir}/args`)).trimEnd().split("\n");
      assertEquals(args, ["item", "get", "My AWS; $(x)", "--otp", "--account", "acme"]);
    }),
});

Deno.test({
  name: "op: a failing op warns with its exit code and falls back (stderr only in debug)",
  ignore: isWindows,
  fn: () =>
    withFakeOp('echo "[ERROR] You are not currently signed in." >&2; exit 1', async () => {
      const { log, warnings, debugs } = captureLog();
      const code = await codeFromOnePassword("AWS", undefined, { run: realRun(), log });
      assertEquals(code, undefined);
      assertEquals(warnings.length, 1);
      assert(warnings[0].includes("exit 1"), warnings[0]);
      assert(warnings[0].includes("asking for the code instead"), warnings[0]);
      assert(!warnings[0].includes("signed in"), "op's stderr belongs in -v output only");
      assert(debugs.some((d) => d.includes("not currently signed in")), debugs.join("\n"));
    }),
});

Deno.test({
  name: "op: output that is not a 6-digit code is never echoed",
  ignore: isWindows,
  fn: () =>
    withFakeOp("echo JBSWY3DPEHPK3PXPSECRET", async () => {
      const { log, warnings, debugs } = captureLog();
      const code = await codeFromOnePassword("AWS", undefined, { run: realRun(), log });
      assertEquals(code, undefined);
      assertEquals(warnings.length, 1);
      const everything = [...warnings, ...debugs].join("\n");
      assert(!everything.includes("JBSWY3DPEHPK3PXP"), "op's output leaked into the log");
      assert(warnings[0].includes("6-digit"), warnings[0]);
    }),
});

Deno.test({
  name: "op: not installed → a warning that says so, and undefined",
  ignore: isWindows,
  fn: () =>
    withFakeOp(undefined, async () => {
      const { log, warnings } = captureLog();
      const code = await codeFromOnePassword("AWS", undefined, { run: realRun(), log });
      assertEquals(code, undefined);
      assertEquals(warnings.length, 1);
      assert(warnings[0].includes("not installed"), warnings[0]);
    }),
});

Deno.test("op: a run() that throws (timeout) is a warning too", async () => {
  const { log, warnings } = captureLog();
  const code = await codeFromOnePassword("AWS", undefined, {
    run: () => Promise.reject(new Error("op did not finish within 15s")),
    log,
  });
  assertEquals(code, undefined);
  assert(warnings[0].includes("did not finish"), warnings[0]);
});
