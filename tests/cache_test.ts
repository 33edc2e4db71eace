import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
} from "node:assert/strict";
import {
  type CacheEntry,
  cacheKey,
  type CacheKeyParts,
  clearCache,
  listCacheEntries,
  MIN_REMAINING_MS,
  readCacheEntry,
  readState,
  totpWindow,
  updateState,
  usedCodeKey,
  withKeyLock,
  writeCacheEntry,
} from "../lib/cache.ts";
import { MfaError } from "../lib/errors.ts";
import type { Logger } from "../lib/types.ts";

// Not from helpers.ts: that one starts the fake STS, which these tests do not need.
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const FIXTURES = `${ROOT}/tests/fixtures`;
const isWindows = Deno.build.os === "windows";
const LONG_TERM_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const BASE_PARTS: CacheKeyParts = {
  sourceProfile: "work-long-term",
  accessKeyId: LONG_TERM_KEY_ID,
  mfaSerial: "arn:aws:iam::123456789012:mfa/alice",
  roleArn: "arn:aws:iam::123456789012:role/admin",
  externalId: "ext-1",
  sessionName: "alice-session",
};

/** The error `fn` rejects with; fails unless it is an instance of `type` (whose message includes `text`). */
async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => E,
  text?: string,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof type)) throw new Error(`expected ${type.name}, got ${err}`);
    if (text !== undefined) assert(err.message.includes(text), err.message);
    return err;
  }
  throw new Error(`expected ${type.name}, nothing was thrown`);
}

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => lines.push(`debug: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
  };
}

function entry(overrides: Partial<CacheEntry> = {}, now = new Date()): CacheEntry {
  return {
    version: 1,
    kind: "session",
    profile: "work",
    sourceProfile: "work-long-term",
    mfaSerial: "arn:aws:iam::123456789012:mfa/alice",
    accessKeyId: "ASIASESSIONKEY000001",
    secretAccessKey: "session-secret",
    sessionToken: "session-token",
    expiration: new Date(now.getTime() + 12 * 3600_000).toISOString(),
    region: "eu-west-1",
    createdAt: now.toISOString(),
    ...overrides,
  };
}

async function withTempHome(fn: (mfaHome: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mfa-cache-test-" });
  try {
    await fn(`${dir}/mfa`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function spawnFixture(script: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--frozen",
      `--config=${ROOT}/deno.json`,
      `${FIXTURES}/${script}`,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function expectSuccess(child: Deno.ChildProcess): Promise<void> {
  const out = await child.output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** Resolves when the child has printed "locked" (it holds the lock from then on). */
async function waitForLocked(child: Deno.ChildProcess): Promise<void> {
  const reader = child.stdout.getReader();
  const dec = new TextDecoder();
  let seen = "";
  while (!seen.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`lock holder exited before locking: ${seen}`);
    seen += dec.decode(value);
  }
  reader.releaseLock();
}

Deno.test("cacheKey is a stable sha256 hex that does not reveal the access key id", async () => {
  const a = await cacheKey(BASE_PARTS);
  const b = await cacheKey({ ...BASE_PARTS });
  assertEquals(a, b);
  assertMatch(a, /^[0-9a-f]{64}$/);
  assert(!a.includes(LONG_TERM_KEY_ID));
  // Property order does not matter.
  const reordered: CacheKeyParts = {
    sessionName: BASE_PARTS.sessionName,
    externalId: BASE_PARTS.externalId,
    roleArn: BASE_PARTS.roleArn,
    mfaSerial: BASE_PARTS.mfaSerial,
    accessKeyId: BASE_PARTS.accessKeyId,
    sourceProfile: BASE_PARTS.sourceProfile,
  };
  assertEquals(await cacheKey(reordered), a);
});

Deno.test("cacheKey changes with every part", async () => {
  const base = await cacheKey(BASE_PARTS);
  const seen = new Set([base]);
  for (const field of Object.keys(BASE_PARTS) as (keyof CacheKeyParts)[]) {
    const changed = await cacheKey({ ...BASE_PARTS, [field]: `${BASE_PARTS[field]}x` });
    assertNotEquals(changed, base, field);
    seen.add(changed);
  }
  assertEquals(seen.size, Object.keys(BASE_PARTS).length + 1);
  // Dropping an optional part changes the key; an empty part is the same as a missing one.
  const noRole = await cacheKey({ ...BASE_PARTS, roleArn: undefined });
  assertNotEquals(noRole, base);
  assertEquals(await cacheKey({ ...BASE_PARTS, roleArn: "" }), noRole);
  // Parts cannot bleed into each other (canonical JSON array, not concatenation).
  assertNotEquals(
    await cacheKey({ sourceProfile: "ab", accessKeyId: "c" }),
    await cacheKey({ sourceProfile: "a", accessKeyId: "bc" }),
  );
});

Deno.test("write then read returns the same entry", async () => {
  await withTempHome(async (mfaHome) => {
    const key = await cacheKey(BASE_PARTS);
    const now = new Date();
    const log = recordingLog();
    assertEquals(await readCacheEntry(mfaHome, key, now, log), undefined);
    const written = entry({ kind: "role", roleArn: BASE_PARTS.roleArn }, now);
    await writeCacheEntry(mfaHome, key, written);
    assertEquals(await readCacheEntry(mfaHome, key, now, log), written);
    // Overwrite in place.
    const newer = entry({ sessionToken: "second-token" }, now);
    await writeCacheEntry(mfaHome, key, newer);
    assertEquals(await readCacheEntry(mfaHome, key, now, log), newer);
    // Only the entry (and no temp file, no long-term key id) is in the cache directory.
    const names = [...Deno.readDirSync(`${mfaHome}/cache`)].map((e) => e.name);
    assertEquals(names, [`${key}.json`]);
    const text = await Deno.readTextFile(`${mfaHome}/cache/${key}.json`);
    assert(!text.includes(LONG_TERM_KEY_ID));
  });
});

Deno.test({
  name: "cache directory is 0700 and entries are 0600, a wider existing directory is narrowed",
  ignore: isWindows,
  fn: async () => {
    await withTempHome(async (mfaHome) => {
      const key = await cacheKey(BASE_PARTS);
      await writeCacheEntry(mfaHome, key, entry());
      assertEquals((await Deno.stat(mfaHome)).mode! & 0o777, 0o700);
      assertEquals((await Deno.stat(`${mfaHome}/cache`)).mode! & 0o777, 0o700);
      assertEquals((await Deno.stat(`${mfaHome}/cache/${key}.json`)).mode! & 0o777, 0o600);

      await Deno.chmod(`${mfaHome}/cache`, 0o755);
      await writeCacheEntry(mfaHome, key, entry());
      assertEquals((await Deno.stat(`${mfaHome}/cache`)).mode! & 0o777, 0o700);
    });
  },
});

Deno.test("an entry with less than 5 minutes left is a miss, with a debug note", async () => {
  await withTempHome(async (mfaHome) => {
    const key = await cacheKey(BASE_PARTS);
    const now = new Date("2030-01-01T00:00:00Z");
    const log = recordingLog();
    const at = (ms: number) => new Date(now.getTime() + ms).toISOString();

    await writeCacheEntry(mfaHome, key, entry({ expiration: at(MIN_REMAINING_MS - 1000) }, now));
    assertEquals(await readCacheEntry(mfaHome, key, now, log), undefined);
    assert(
      log.lines.some((l) => l.startsWith("debug: ") && l.includes("expires in")),
      log.lines.join("\n"),
    );

    await writeCacheEntry(mfaHome, key, entry({ expiration: at(-1000) }, now));
    assertEquals(await readCacheEntry(mfaHome, key, now, log), undefined);
    assert(log.lines.some((l) => l.includes("has expired")));

    const fresh = entry({ expiration: at(MIN_REMAINING_MS + 1000) }, now);
    await writeCacheEntry(mfaHome, key, fresh);
    assertEquals(await readCacheEntry(mfaHome, key, now, log), fresh);
  });
});

Deno.test("a corrupted entry is ignored with a debug note, then replaced", async () => {
  await withTempHome(async (mfaHome) => {
    const key = await cacheKey(BASE_PARTS);
    const now = new Date();
    const path = `${mfaHome}/cache/${key}.json`;
    await Deno.mkdir(`${mfaHome}/cache`, { recursive: true });
    const corruptions = [
      "{not json",
      "",
      "[]",
      "null",
      JSON.stringify({ ...entry({}, now), sessionToken: undefined }),
      JSON.stringify({ ...entry({}, now), version: 2 }),
      JSON.stringify({ ...entry({}, now), expiration: "tomorrow-ish" }),
    ];
    for (const text of corruptions) {
      await Deno.writeTextFile(path, text);
      const log = recordingLog();
      assertEquals(await readCacheEntry(mfaHome, key, now, log), undefined, text);
      assert(log.lines.some((l) => l.includes("ignoring corrupted cache entry")), text);
      assertEquals(await listCacheEntries(mfaHome), []);
    }
    const replacement = entry({}, now);
    await writeCacheEntry(mfaHome, key, replacement);
    assertEquals(await readCacheEntry(mfaHome, key, now, recordingLog()), replacement);
  });
});

Deno.test("writeCacheEntry refuses entries without a session token", async () => {
  await withTempHome(async (mfaHome) => {
    const key = await cacheKey(BASE_PARTS);
    const err = await assertRejects(
      () => writeCacheEntry(mfaHome, key, { ...entry(), sessionToken: "" }),
      MfaError,
    );
    assertEquals(err.kind, "internal");
  });
});

Deno.test("an unwritable cache location is a cache error with a hint", async () => {
  await withTempHome(async (mfaHome) => {
    // A file where the mfa home directory should be: fails even as root.
    await Deno.writeTextFile(mfaHome, "not a directory");
    const key = await cacheKey(BASE_PARTS);
    const err = await assertRejects(() => writeCacheEntry(mfaHome, key, entry()), MfaError);
    assertEquals(err.kind, "cache");
    assert(err.hint?.includes("AWS_MFA_HOME"), err.hint);
    const lockErr = await assertRejects(
      () => withKeyLock(mfaHome, key, () => Promise.resolve(), { log: recordingLog() }),
      MfaError,
    );
    assertEquals(lockErr.kind, "cache");
  });
});

Deno.test("withKeyLock returns the value of fn and releases the lock when fn throws", async () => {
  await withTempHome(async (mfaHome) => {
    const key = await cacheKey(BASE_PARTS);
    const log = recordingLog();
    assertEquals(await withKeyLock(mfaHome, key, () => Promise.resolve(42), { log }), 42);
    await assertRejects(
      () => withKeyLock(mfaHome, key, () => Promise.reject(new Error("boom")), { log }),
      Error,
      "boom",
    );
    // Released: a short timeout is enough.
    assertEquals(
      await withKeyLock(mfaHome, key, () => Promise.resolve("again"), { log, timeoutMs: 500 }),
      "again",
    );
  });
});

Deno.test("withKeyLock excludes other holders in the same process", async () => {
  await withTempHome(async (mfaHome) => {
    const key = await cacheKey(BASE_PARTS);
    const events: string[] = [];
    const holder = (id: number) =>
      withKeyLock(mfaHome, key, async () => {
        events.push(`start ${id}`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`end ${id}`);
      }, { log: recordingLog() });
    await Promise.all([1, 2, 3, 4].map(holder));
    assertSerialized(events.join("\n"));
  });
});

/** Every "start X" is followed directly by "end X": no two holders overlapped. */
function assertSerialized(logText: string, expectedHolders?: number): void {
  const lines = logText.trim().split("\n");
  for (let i = 0; i < lines.length; i += 2) {
    const [startWord, id] = lines[i].split(" ");
    assertEquals(startWord, "start", logText);
    assertEquals(lines[i + 1], `end ${id}`, `holders overlapped:\n${logText}`);
  }
  if (expectedHolders !== undefined) assertEquals(lines.length, expectedHolders * 2, logText);
}

Deno.test("withKeyLock is exclusive across processes", async () => {
  await withTempHome(async (mfaHome) => {
    await Deno.mkdir(mfaHome, { recursive: true });
    const key = await cacheKey(BASE_PARTS);
    const logFile = `${mfaHome}/holders.log`;
    const children = [1, 2, 3, 4, 5].map((id) =>
      spawnFixture("lock_holder.ts", [mfaHome, key, logFile, String(id), "150"])
    );
    await Promise.all(children.map(expectSuccess));
    assertSerialized(await Deno.readTextFile(logFile), 5);
  });
});

Deno.test({
  name: "a lock held by a SIGKILLed process is released by the OS",
  ignore: isWindows,
  fn: async () => {
    await withTempHome(async (mfaHome) => {
      await Deno.mkdir(mfaHome, { recursive: true });
      const key = await cacheKey(BASE_PARTS);
      const logFile = `${mfaHome}/holders.log`;
      const child = spawnFixture("lock_holder.ts", [mfaHome, key, logFile, "forever", "-1"]);
      await waitForLocked(child);
      // Held: a short wait times out.
      await assertRejects(
        () =>
          withKeyLock(mfaHome, key, () => Promise.resolve(), {
            log: recordingLog(),
            timeoutMs: 200,
          }),
        MfaError,
        "timed out",
      );
      child.kill("SIGKILL");
      const status = await child.status;
      assertEquals(status.signal, "SIGKILL");
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      const got = await withKeyLock(mfaHome, key, () => Promise.resolve("acquired"), {
        log: recordingLog(),
        timeoutMs: 10_000,
      });
      assertEquals(got, "acquired");
    });
  },
});

Deno.test("waiting longer than timeoutMs is a cache error naming a stuck prompt", async () => {
  await withTempHome(async (mfaHome) => {
    await Deno.mkdir(mfaHome, { recursive: true });
    const key = await cacheKey(BASE_PARTS);
    const child = spawnFixture("lock_holder.ts", [mfaHome, key, `${mfaHome}/h.log`, "1", "-1"]);
    try {
      await waitForLocked(child);
      const log = recordingLog();
      let called = false;
      const err = await assertRejects(
        () =>
          withKeyLock(mfaHome, key, () => {
            called = true;
            return Promise.resolve();
          }, { log, timeoutMs: 3_200 }),
        MfaError,
      );
      assertEquals(err.kind, "cache");
      assertMatch(err.message, /^timed out after 3\.2s waiting for another mfa process/);
      assert(err.hint?.includes("stuck mfa prompt"), err.hint);
      assert(!called);
      assert(log.lines.some((l) => l.startsWith("debug: waiting for another mfa process")));
      // After a few seconds the wait is worth a note (the other process may be prompting).
      assertEquals(
        log.lines.filter((l) => l.startsWith("info: mfa: waiting for another mfa process")).length,
        1,
      );
    } finally {
      child.kill("SIGKILL");
      await child.output().catch(() => {});
    }
  });
});

Deno.test("updateState from several processes loses no update", async () => {
  await withTempHome(async (mfaHome) => {
    const processes = 5;
    const perProcess = 15;
    const children = Array.from(
      { length: processes },
      (_, id) => spawnFixture("state_incrementer.ts", [mfaHome, String(id), String(perProcess)]),
    );
    await Promise.all(children.map(expectSuccess));
    const state = await readState(mfaHome);
    assertEquals(state.roleMaxDuration.counter, processes * perProcess);
    assertEquals(Object.keys(state.serials).length, processes);
    if (!isWindows) assertEquals((await Deno.stat(`${mfaHome}/state.json`)).mode! & 0o777, 0o600);
  });
});

Deno.test("readState treats missing or corrupt state as empty and keeps well-formed parts", async () => {
  await withTempHome(async (mfaHome) => {
    const empty = { version: 1, roleMaxDuration: {}, usedCodes: {}, serials: {} };
    assertEquals(await readState(mfaHome), empty);
    await Deno.mkdir(mfaHome, { recursive: true });
    await Deno.writeTextFile(`${mfaHome}/state.json`, "{oops");
    assertEquals(await readState(mfaHome), empty);
    await Deno.writeTextFile(
      `${mfaHome}/state.json`,
      JSON.stringify({
        version: 1,
        roleMaxDuration: { "arn:a": 3600, "arn:b": "lots" },
        usedCodes: "nope",
        serials: { k: "arn:aws:iam::1:mfa/x", j: 5 },
      }),
    );
    assertEquals(await readState(mfaHome), {
      version: 1,
      roleMaxDuration: { "arn:a": 3600 },
      usedCodes: {},
      serials: { k: "arn:aws:iam::1:mfa/x" },
    });
    // A corrupt state file is replaced on the next update.
    await Deno.writeTextFile(`${mfaHome}/state.json`, "garbage");
    const updated = await updateState(mfaHome, (s) => {
      s.roleMaxDuration["arn:c"] = 7200;
    });
    assertEquals(updated.roleMaxDuration, { "arn:c": 7200 });
    assertEquals(await readState(mfaHome), updated);
  });
});

Deno.test("updateState prunes used codes from old TOTP windows", async () => {
  await withTempHome(async (mfaHome) => {
    const now = new Date("2030-01-01T00:00:00Z");
    const window = totpWindow(now);
    const oldKey = await usedCodeKey("arn:aws:iam::1:mfa/x", "111111");
    const recentKey = await usedCodeKey("arn:aws:iam::1:mfa/x", "222222");
    assert(!oldKey.includes("111111"));
    await updateState(mfaHome, (s) => {
      s.usedCodes[oldKey] = window - 20;
      s.usedCodes[recentKey] = window - 1;
    }, { now });
    const state = await readState(mfaHome);
    assertEquals(state.usedCodes, { [recentKey]: window - 1 });
  });
});

Deno.test("clearCache removes the entries the filter accepts, or everything", async () => {
  await withTempHome(async (mfaHome) => {
    const keys: Record<string, string> = {};
    for (const profile of ["a", "b", "c"]) {
      keys[profile] = await cacheKey({ ...BASE_PARTS, sourceProfile: profile });
      await writeCacheEntry(mfaHome, keys[profile], entry({ profile, sourceProfile: profile }));
    }
    const corruptKey = await cacheKey({ ...BASE_PARTS, sourceProfile: "corrupt" });
    await Deno.writeTextFile(`${mfaHome}/cache/${corruptKey}.json`, "{");
    await withKeyLock(mfaHome, keys.a, () => Promise.resolve(), { log: recordingLog() });

    assertEquals(await clearCache(mfaHome, (e) => e.profile === "a"), 1);
    const left = (await listCacheEntries(mfaHome)).map((x) => x.entry.profile).sort();
    assertEquals(left, ["b", "c"]);
    assertEquals(await clearCache(mfaHome, (e) => e.profile === "nobody"), 0);
    // A filtered clear leaves the corrupted file alone; clearing all removes it and idle locks.
    assert(await Deno.stat(`${mfaHome}/cache/${corruptKey}.json`).then(() => true));
    assertEquals(await clearCache(mfaHome), 3);
    assertEquals([...Deno.readDirSync(`${mfaHome}/cache`)], []);
    assertEquals(await clearCache(mfaHome), 0);
  });
});

Deno.test("clearCache on a missing cache directory removes nothing", async () => {
  await withTempHome(async (mfaHome) => {
    assertEquals(await clearCache(mfaHome), 0);
    assertEquals(await listCacheEntries(mfaHome), []);
  });
});

Deno.test({
  name: "clearing all keeps a held lock, and a waiter on a removed lock file still excludes",
  ignore: isWindows,
  fn: async () => {
    await withTempHome(async (mfaHome) => {
      await Deno.mkdir(mfaHome, { recursive: true });
      const key = await cacheKey(BASE_PARTS);
      const logFile = `${mfaHome}/holders.log`;
      const lockPath = `${mfaHome}/cache/${key}.lock`;
      const holder = spawnFixture("lock_holder.ts", [mfaHome, key, logFile, "1", "-1"]);
      try {
        await waitForLocked(holder);
        await clearCache(mfaHome);
        assert(await Deno.stat(lockPath).then(() => true), "a held lock file must stay");
      } finally {
        holder.kill("SIGKILL");
        await holder.output().catch(() => {});
      }
      // Now idle: clear removes it; lockers after that still exclude each other.
      await clearCache(mfaHome);
      assertEquals(await Deno.stat(lockPath).then(() => true, () => false), false);
      await Deno.remove(logFile);
      const children = [1, 2, 3].map((id) =>
        spawnFixture("lock_holder.ts", [mfaHome, key, logFile, String(id), "100"])
      );
      // Clear repeatedly while they run: each clear may remove an idle lock file between holders.
      const running = Promise.all(children.map(expectSuccess));
      let done = false;
      running.finally(() => done = true);
      while (!done) {
        await clearCache(mfaHome);
        await new Promise((r) => setTimeout(r, 5));
      }
      await running;
      assertSerialized(await Deno.readTextFile(logFile), 3);
    });
  },
});
