/** The session cache through the spawned CLI: concurrency, hits, expiry, corruption, status, clear. */
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "./assert.ts";
import { DEFAULT_USER } from "./fake_sts.ts";
import { DEFAULT_CREDENTIALS, MAIN, makeSandbox, ROOT, type Sandbox } from "./helpers.ts";
import { exists, runProgram } from "./programs.ts";

const AWS_V2 = "/usr/bin/aws";
const ROLE_1H = "arn:aws:iam::123456789012:role/one-hour";
const ROLE_EXTERNAL = "arn:aws:iam::123456789012:role/with-external-id";

/** STS/IAM calls the fake received (IMDS requests excluded). */
function apiCalls(sandbox: Sandbox) {
  return sandbox.fake.calls.filter((c) => c.action !== "IMDS");
}

interface ClaudeExport {
  Credentials: {
    AccessKeyId: string;
    SecretAccessKey: string;
    SessionToken: string;
    Expiration: string;
  };
}

function parseClaude(stdout: string): ClaudeExport["Credentials"] {
  return (JSON.parse(stdout) as ClaudeExport).Credentials;
}

/**
 * A --mfa-command that appends a line to a counter file each time it runs and prints `code`.
 * Returns the command line and a function counting the runs.
 */
async function countingCodeCommand(sandbox: Sandbox, code: string) {
  const script = `${sandbox.home}/code.sh`;
  const counter = `${sandbox.home}/code-runs.txt`;
  await Deno.writeTextFile(script, `#!/bin/sh\necho run >> '${counter}'\necho ${code}\n`);
  const runs = async () => {
    try {
      return (await Deno.readTextFile(counter)).split("\n").filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  return { command: `sh '${script}'`, runs };
}

async function cacheFiles(sandbox: Sandbox): Promise<string[]> {
  const dir = `${sandbox.mfaHome}/cache`;
  if (!exists(dir)) return [];
  const names: string[] = [];
  for await (const item of Deno.readDir(dir)) {
    if (item.name.endsWith(".json")) names.push(`${dir}/${item.name}`);
  }
  return names.sort();
}

function assertOk(out: { code: number; stdout: string; stderr: string }, what = "") {
  assertEquals(out.code, 0, `${what} failed: ${out.stderr}`);
}

Deno.test("20 parallel cold claude-export: 1 code request, 1 STS call, 20 identical outputs; then a hit", async () => {
  await using sandbox = await makeSandbox();
  const { command, runs } = await countingCodeCommand(sandbox, await sandbox.code());
  const outs = await Promise.all(
    Array.from({ length: 20 }, () => sandbox.run(["claude-export", "--mfa-command", command])),
  );
  for (const out of outs) assertOk(out, "claude-export");
  const first = outs[0].stdout;
  for (const out of outs) assertEquals(out.stdout, first);
  assertEquals(await runs(), 1);
  assertEquals(apiCalls(sandbox).map((c) => c.action), ["GetSessionToken"]);
  const creds = parseClaude(first);
  assert(sandbox.fake.issued(creds.AccessKeyId), "the output is a session the fake issued");

  // Within validity, with no code source at all: served from the cache, no STS call.
  const again = await sandbox.run(["claude-export"], { env: { AWS_MFA_PROMPT: "none" } });
  assertOk(again, "cached claude-export");
  assertEquals(again.stdout, first);
  assertEquals(apiCalls(sandbox).length, 1);

  // The cache holds only the session: never the long-term key id or secret.
  for (const file of await cacheFiles(sandbox)) {
    const text = await Deno.readTextFile(file);
    assert(!text.includes(DEFAULT_USER.accessKeyId), "long-term key id in the cache");
    assert(!text.includes(DEFAULT_USER.secretAccessKey), "long-term secret in the cache");
  }
});

Deno.test({
  name: "the AWS CLI gets credentials through credential_process, the second time from the cache",
  ignore: !exists(AWS_V2),
  fn: async () => {
    const longTerm = DEFAULT_CREDENTIALS.replace("[default]", "[work-long-term]");
    const deno = Deno.execPath();
    await using sandbox = await makeSandbox({
      credentials: longTerm,
      config: `[profile work]\nregion = us-east-1\ncredential_process = ${deno} run -A --quiet ` +
        `--frozen --config=${ROOT}/deno.json ${MAIN} credential-process --profile work\n`,
    });
    const aws = async (env: Record<string, string>) => {
      return await runProgram(AWS_V2, {
        args: [
          "sts",
          "get-caller-identity",
          "--profile",
          "work",
          "--endpoint-url",
          sandbox.fake.url,
        ],
        env: { ...sandbox.env, AWS_PAGER: "", ...env },
      });
    };
    const first = await aws({ AWS_MFA_TOKEN: await sandbox.code() });
    assertOk(first, "aws sts get-caller-identity");
    assertEquals(JSON.parse(first.stdout).Account, "123456789012");
    assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 1);
    const identityCalls = sandbox.fake.callsOf("GetCallerIdentity");
    assertEquals(identityCalls.length, 1);
    const sessionKey = identityCalls[0].accessKeyId;
    assert(sandbox.fake.issued(sessionKey), "the AWS CLI signed with the session mfa issued");

    const second = await aws({});
    assertOk(second, "second aws call (no code source)");
    assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 1);
    const identityCalls2 = sandbox.fake.callsOf("GetCallerIdentity");
    assertEquals(identityCalls2.length, 2);
    assertEquals(identityCalls2[1].accessKeyId, sessionKey);
  },
});

Deno.test("an entry with less than 5 minutes left is refreshed", async () => {
  await using sandbox = await makeSandbox({ fake: { allowCodeReuse: true } });
  const code = await sandbox.code();
  const warm = await sandbox.run(["claude-export", "--code", code]);
  assertOk(warm, "warm");
  const [file] = await cacheFiles(sandbox);
  const entry = JSON.parse(await Deno.readTextFile(file));
  entry.expiration = new Date(Date.now() + 4 * 60_000).toISOString();
  await Deno.writeTextFile(file, JSON.stringify(entry));

  const refreshed = await sandbox.run(["claude-export", "--code", code, "-v"]);
  assertOk(refreshed, "refresh");
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 2);
  assertNotEquals(parseClaude(refreshed.stdout).AccessKeyId, parseClaude(warm.stdout).AccessKeyId);
  assertStringIncludes(refreshed.stderr, "expires in");
  const rewritten = JSON.parse(await Deno.readTextFile(file));
  assertEquals(rewritten.accessKeyId, parseClaude(refreshed.stdout).AccessKeyId);

  // And an entry with more than 5 minutes left is used as is.
  rewritten.expiration = new Date(Date.now() + 6 * 60_000).toISOString();
  await Deno.writeTextFile(file, JSON.stringify(rewritten));
  const hit = await sandbox.run(["claude-export"]);
  assertOk(hit, "hit at 6 minutes");
  assertEquals(parseClaude(hit.stdout).AccessKeyId, rewritten.accessKeyId);
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 2);
});

Deno.test("a corrupted cache entry is ignored and replaced", async () => {
  await using sandbox = await makeSandbox({ fake: { allowCodeReuse: true } });
  const code = await sandbox.code();
  assertOk(await sandbox.run(["exports", "--code", code]), "warm");
  const [file] = await cacheFiles(sandbox);
  await Deno.writeTextFile(file, '{"version": 1, "kind": "sess');

  // Without a code source the corrupted entry is a miss: a clear error, not a crash.
  const noCode = await sandbox.run(["exports"]);
  assertEquals(noCode.code, 1, noCode.stderr);
  assertEquals(noCode.stdout, "");

  const fixed = await sandbox.run(["claude-export", "--code", code, "-v"]);
  assertOk(fixed, "after corruption");
  assertStringIncludes(fixed.stderr, "ignoring corrupted cache entry");
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 2);
  const replaced = JSON.parse(await Deno.readTextFile(file));
  assertEquals(replaced.accessKeyId, parseClaude(fixed.stdout).AccessKeyId);
  assertOk(await sandbox.run(["claude-export"]), "hit after replacement");
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 2);
});

const TWO_ROLES_CONFIG = `[profile r1]
role_arn = ${ROLE_1H}
source_profile = default
duration_seconds = 3600

[profile r2]
role_arn = ${ROLE_EXTERNAL}
external_id = fake-external-id
source_profile = default
duration_seconds = 3600
`;

Deno.test("two roles of 1h after one GetSessionToken: one code request; status, clear", async () => {
  await using sandbox = await makeSandbox({ config: TWO_ROLES_CONFIG });
  const { command, runs } = await countingCodeCommand(sandbox, await sandbox.code());
  const r1 = await sandbox.run(["claude-export", "--profile", "r1", "--mfa-command", command]);
  assertOk(r1, "r1");
  const r2 = await sandbox.run(["claude-export", "--profile", "r2", "--mfa-command", command]);
  assertOk(r2, "r2");
  assertEquals(await runs(), 1);
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 1);
  const assumes = sandbox.fake.callsOf("AssumeRole");
  assertEquals(assumes.map((c) => c.params.RoleArn), [ROLE_1H, ROLE_EXTERNAL]);
  for (const call of assumes) assertEquals(call.params.TokenCode, undefined);
  const secrets = [r1, r2].flatMap((out) => {
    const c = parseClaude(out.stdout);
    return [c.AccessKeyId, c.SecretAccessKey, c.SessionToken];
  });
  for (const file of await cacheFiles(sandbox)) {
    const e = JSON.parse(await Deno.readTextFile(file));
    secrets.push(e.accessKeyId, e.secretAccessKey, e.sessionToken);
  }
  secrets.push(DEFAULT_USER.accessKeyId, DEFAULT_USER.secretAccessKey);

  // status: one row per cached session, no secrets, no STS call.
  const callsBefore = apiCalls(sandbox).length;
  const status = await sandbox.run(["status"]);
  assertOk(status, "status");
  const lines = status.stdout.trimEnd().split("\n");
  assertMatch(lines[0], /^PROFILE\s+ROLE\s+KIND\s+EXPIRES IN/);
  const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
  assertEquals(rows.map((r) => [r[0], r[1], r[2]]), [
    ["default", "-", "session"],
    ["r1", ROLE_1H, "role"],
    ["r2", ROLE_EXTERNAL, "role"],
  ]);
  for (const row of rows) assertMatch(row[3], /^(\d+h \d+m|\d+m)$/);
  for (const secret of secrets) {
    assert(!status.stdout.includes(secret) && !status.stderr.includes(secret), "secret in status");
  }
  assertEquals(apiCalls(sandbox).length, callsBefore);

  // clear --profile r1 removes r1 (and the MFA session of its source), leaves r2.
  const clearR1 = await sandbox.run(["clear", "--profile", "r1"]);
  assertOk(clearR1, "clear r1");
  assertEquals(clearR1.stdout, "");
  assertMatch(clearR1.stderr, /removed 2 cached sessions/);
  const afterClear = await sandbox.run(["status"]);
  assertEquals(afterClear.stdout.trimEnd().split("\n").slice(1).map((l) => l.split(/\s+/)[0]), [
    "r2",
  ]);
  // r2 is still a hit.
  assertOk(await sandbox.run(["claude-export", "--profile", "r2"]), "r2 hit after clear");
  assertEquals(apiCalls(sandbox).length, callsBefore);

  // clear --all works even with a broken config file; status then lists nothing.
  await Deno.writeTextFile(sandbox.configFile, "[profile broken\nnot an ini line\n");
  const clearAll = await sandbox.run(["clear", "--all"]);
  assertOk(clearAll, "clear --all");
  assertMatch(clearAll.stderr, /removed 1 cached session\b/);
  const empty = await sandbox.run(["status"]);
  assertOk(empty, "status after clear --all");
  assertEquals(empty.stdout, "");
  assertStringIncludes(empty.stderr, "no cached sessions");
  assertEquals(await cacheFiles(sandbox), []);
});

Deno.test("clear without --all removes only this profile's sessions", async () => {
  await using sandbox = await makeSandbox({
    credentials:
      `${DEFAULT_CREDENTIALS}\n[other]\naws_access_key_id = ${DEFAULT_USER.accessKeyId}\n` +
      `aws_secret_access_key = ${DEFAULT_USER.secretAccessKey}\nmfa_serial = ${DEFAULT_USER.mfaSerial}\n`,
    fake: { allowCodeReuse: true },
  });
  const code = await sandbox.code();
  assertOk(await sandbox.run(["exports", "--code", code]), "default");
  assertOk(await sandbox.run(["exports", "--profile", "other", "--code", code]), "other");
  assertEquals((await cacheFiles(sandbox)).length, 2);
  const cleared = await sandbox.run(["clear"]);
  assertOk(cleared, "clear");
  assertMatch(cleared.stderr, /removed 1 cached session for profile default/);
  const status = await sandbox.run(["status"]);
  assertEquals(status.stdout.trimEnd().split("\n").slice(1).map((l) => l.split(/\s+/)[0]), [
    "other",
  ]);
});

Deno.test("--refresh fetches a new session; --no-cache neither reads nor writes the cache", async () => {
  await using sandbox = await makeSandbox({ fake: { allowCodeReuse: true } });
  const code = await sandbox.code();

  const noCache = await sandbox.run(["claude-export", "--code", code, "--no-cache"]);
  assertOk(noCache, "--no-cache cold");
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 1);
  assertEquals(await cacheFiles(sandbox), []);

  const warm = await sandbox.run(["claude-export", "--code", code]);
  assertOk(warm, "warm");
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 2);

  const noCacheAgain = await sandbox.run(["claude-export", "--code", code, "--no-cache"]);
  assertOk(noCacheAgain, "--no-cache with a warm cache");
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 3);
  assertNotEquals(noCacheAgain.stdout, warm.stdout);
  const [file] = await cacheFiles(sandbox);
  assertEquals(
    JSON.parse(await Deno.readTextFile(file)).accessKeyId,
    parseClaude(warm.stdout).AccessKeyId,
    "--no-cache must not overwrite the entry",
  );

  const refreshed = await sandbox.run(["claude-export", "--code", code, "--refresh"]);
  assertOk(refreshed, "--refresh");
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 4);
  assertNotEquals(refreshed.stdout, warm.stdout);
  const hit = await sandbox.run(["claude-export"]);
  assertEquals(hit.stdout, refreshed.stdout, "--refresh replaces the cached entry");
  assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 4);
});

Deno.test("status formats the time left as hours and minutes", async () => {
  const { formatRemaining } = await import("../lib/format.ts");
  assertEquals(formatRemaining((11 * 60 + 58) * 60_000 + 59_000), "11h 58m");
  assertEquals(formatRemaining(60 * 60_000), "1h 0m");
  assertEquals(formatRemaining(4 * 60_000 + 30_000), "4m");
  assertEquals(formatRemaining(59_000), "<1m");
  assertEquals(formatRemaining(0), "expired");
  assertEquals(formatRemaining(-5_000), "expired");
});
