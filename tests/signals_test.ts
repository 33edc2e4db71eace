/**
 * Ctrl-C (SIGINT) → exit 130, no temp file left behind, no lock held (SPEC 6). The CLI is spawned
 * as in helpers.ts, but its stderr is read while it runs so the signal lands at a known step.
 * Interrupting between a temp file's write and its rename uses a --preload script that stalls
 * Deno.rename and signals the process itself, so that window is hit every time, not by luck.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { DEFAULT_USER } from "./fake_sts.ts";
import { MAIN, makeSandbox, ROOT, type Sandbox } from "./helpers.ts";

interface Running {
  /** Resolves once stderr matches (rejects if the process ends or the wait exceeds 30 s). */
  waitFor(pattern: RegExp): Promise<void>;
  interrupt(): void;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts the CLI; `group`: in its own process group, so a Ctrl-C can reach its children too. */
function start(
  box: Sandbox,
  args: string[],
  opts: { env?: Record<string, string>; preload?: string; group?: boolean } = {},
): Running {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      "--frozen",
      `--config=${ROOT}/deno.json`,
      ...(opts.preload ? [`--preload=${opts.preload}`] : []),
      MAIN,
      ...args,
    ],
    env: { ...box.env, ...opts.env },
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: opts.group ?? false,
  }).spawn();
  let stderr = "";
  let ended = false;
  const waiters: (() => void)[] = [];
  const readStderr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      for (const wake of waiters.splice(0)) wake();
    }
    ended = true;
    for (const wake of waiters.splice(0)) wake();
  })();
  const stdout = new Response(child.stdout).text();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const done = (async () => {
    const [status, out] = await Promise.all([child.status, stdout, readStderr]);
    clearTimeout(killer);
    return { code: status.code, stdout: out, stderr };
  })();
  return {
    async waitFor(pattern) {
      const deadline = Date.now() + 30_000;
      while (!pattern.test(stderr)) {
        if (ended) throw new Error(`ended before ${pattern}:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} in 30 s:\n${stderr}`);
        await new Promise<void>((wake) => {
          waiters.push(wake);
          setTimeout(wake, 200);
        });
      }
    },
    interrupt() {
      if (opts.group) Deno.kill(-child.pid, "SIGINT");
      else child.kill("SIGINT");
    },
    done,
  };
}

async function tempFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const item of Deno.readDir(dir)) {
    const path = `${dir}/${item.name}`;
    if (item.isDirectory) found.push(...await tempFilesUnder(path));
    else if (/mfa-tmp|\.tmp(\b|$)/.test(item.name)) found.push(path);
  }
  return found;
}

/** After an interrupt: exit 130, a note, nothing on stdout, no temp file, and no lock held. */
async function assertInterruptedCleanly(
  box: Sandbox,
  out: { code: number; stdout: string; stderr: string },
  nextCode: string,
): Promise<void> {
  assertEquals(out.code, 130, out.stderr);
  // main.ts's handler, or (Ctrl-C reaching the mfa command first) the command's own report.
  assertMatch(out.stderr, /^mfa: (interrupted|error: the MFA command was interrupted)$/m);
  assertEquals(out.stdout, "");
  assertEquals(await tempFilesUnder(box.home), []);
  // A following run takes the same key's lock: it must not find it held.
  const next = await box.run(["-v", "claude-export", "--code", nextCode]);
  assertEquals(next.code, 0, next.stderr);
  assert(!/waiting for another mfa process/.test(next.stderr), next.stderr);
}

/** Kills `sleep` processes an interrupted mfa command left (ours: found by a unique argument). */
function reapSleepers(marker: string): number {
  let count = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (argv[0].endsWith("sleep") && argv[1] === marker) {
        Deno.kill(Number(entry.name), "SIGKILL");
        count++;
      }
    } catch { /* gone, or not ours to read */ }
  }
  return count;
}

const hasProc = (() => {
  try {
    return Deno.statSync("/proc/self/cmdline").isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "SIGINT to mfa while the mfa command runs → 130, no temp files, lock free",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using box = await makeSandbox();
    const marker = "29.25";
    const run = start(box, ["-v", "claude-export", "--mfa-command", `sleep ${marker}`]);
    try {
      await run.waitFor(/running the MFA command/);
      run.interrupt();
      await assertInterruptedCleanly(box, await run.done, await box.code());
      assertEquals(box.fake.callsOf("GetSessionToken").length, 1);
    } finally {
      if (hasProc) reapSleepers(marker);
    }
  },
});

Deno.test({
  name: "Ctrl-C at a terminal (SIGINT to the process group) while the mfa command runs → 130",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using box = await makeSandbox();
    const marker = "29.5";
    const run = start(box, ["-v", "claude-export", "--mfa-command", `sleep ${marker}`], {
      group: true,
    });
    try {
      await run.waitFor(/running the MFA command/);
      run.interrupt();
      await assertInterruptedCleanly(box, await run.done, await box.code());
    } finally {
      if (hasProc) reapSleepers(marker);
    }
  },
});

const hasScript = (() => {
  try {
    return Deno.build.os === "linux" && Deno.statSync("/usr/bin/script").isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "Ctrl-C typed at the terminal code prompt (a real pty through script(1)) → 130",
  ignore: !hasScript,
  fn: async () => {
    await using box = await makeSandbox();
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const mfa = [Deno.execPath(), "run", "--allow-all", "--quiet", "--frozen"]
      .concat([`--config=${ROOT}/deno.json`, MAIN, "exports", "--prompt", "terminal"]);
    const child = new Deno.Command("/usr/bin/script", {
      // -e: script exits with mfa's code; the pty is mfa's controlling terminal (/dev/tty).
      args: ["-q", "-e", "-c", mfa.map(quote).join(" "), "/dev/null"],
      env: { ...box.env, SHELL: "/bin/sh", TERM: "dumb" },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let screen = "";
    const readUntil = async (pattern: RegExp | null) => {
      while (!pattern?.test(screen)) {
        const { value, done } = await reader.read();
        if (done) return;
        screen += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(/MFA code for default: /);
    const keyboard = child.stdin.getWriter();
    await keyboard.write(new Uint8Array([0x03])); // Ctrl-C: the pty sends SIGINT
    await readUntil(null);
    await keyboard.close().catch(() => {});
    const status = await child.status;
    clearTimeout(killer);
    assertEquals(status.code, 130, screen);
    assertMatch(screen, /mfa: interrupted/);
    assertEquals(box.fake.calls.length, 0);
    assertEquals(await tempFilesUnder(box.home), []);
    const next = await box.run(["-v", "claude-export", "--code", await box.code()]);
    assertEquals(next.code, 0, next.stderr);
    assert(!/waiting for another mfa process/.test(next.stderr), next.stderr);
  },
});

Deno.test({
  name: "the mfa command dying of SIGINT (Ctrl-C reached it first) → 130 as well",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using box = await makeSandbox();
    const out = await box.run(["claude-export", "--mfa-command", "kill -INT $$; sleep 5"]);
    assertEquals(box.fake.calls.length, 0);
    await assertInterruptedCleanly(box, out, await box.code());
  },
});

Deno.test({
  name: "SIGINT while waiting for STS → 130, no temp files, lock free",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using box = await makeSandbox();
    box.fake.setFault({ kind: "delay", ms: 20_000 });
    const run = start(box, ["-v", "exports", "--code", await box.code()]);
    await run.waitFor(/STS GetSessionToken/);
    const deadline = Date.now() + 30_000;
    while (box.fake.callsOf("GetSessionToken").length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertEquals(box.fake.callsOf("GetSessionToken").length, 1);
    run.interrupt();
    const out = await run.done;
    box.fake.setFault();
    await assertInterruptedCleanly(
      box,
      out,
      await box.fake.codeFor(DEFAULT_USER.accessKeyId, 1),
    );
  },
});

/** Preloaded into the CLI: the first rename of a temp file matching the pattern signals SIGINT. */
const STALL_RENAME = `
const pattern = new RegExp(Deno.env.get("MFA_TEST_STALL_RENAME") ?? "^$");
const rename = Deno.rename;
let stalled = false;
Deno.rename = (from, to) => {
  if (stalled || !pattern.test(String(from))) return rename(from, to);
  stalled = true;
  Deno.kill(Deno.pid, "SIGINT");
  // Never renames: the interrupt handler has to clean up. The timer keeps the process alive.
  return new Promise(() => setTimeout(() => {}, 60_000));
};
`;

async function preloadFile(box: Sandbox): Promise<string> {
  const path = `${box.home}/stall_rename.js`;
  await Deno.writeTextFile(path, STALL_RENAME);
  return path;
}

const WRITE_CASES = [
  {
    name: "a cache entry",
    args: ["claude-export"],
    pattern: "/cache/[0-9a-f]{64}\\.json\\.\\d+\\.[0-9a-f]+\\.tmp$",
  },
  {
    name: "state.json",
    args: ["claude-export", "--no-cache"],
    pattern: "/state\\.json\\.\\d+\\.[0-9a-f]+\\.tmp$",
  },
  {
    name: "the credentials file (update-profile)",
    args: ["update-profile"],
    pattern: "\\.credentials\\.mfa-tmp-",
  },
];

for (const c of WRITE_CASES) {
  Deno.test({
    name: `SIGINT between writing ${c.name}'s temp file and renaming it → 130, temp file removed`,
    ignore: Deno.build.os === "windows",
    fn: async () => {
      await using box = await makeSandbox();
      const credentialsBefore = await Deno.readTextFile(box.credentialsFile);
      const run = start(box, [...c.args, "--code", await box.code()], {
        env: { MFA_TEST_STALL_RENAME: c.pattern },
        preload: await preloadFile(box),
      });
      const out = await run.done;
      assertEquals(await Deno.readTextFile(box.credentialsFile), credentialsBefore);
      await assertInterruptedCleanly(
        box,
        out,
        await box.fake.codeFor(DEFAULT_USER.accessKeyId, 1),
      );
    },
  });
}
