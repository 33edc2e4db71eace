/**
 * STS misbehaving, through the spawned CLI and the real SDK against tests/fake_sts.ts faults:
 * transient errors are retried by the SDK, persistent ones fail in bounded time, in one clear line.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { DEFAULT_USER, type Fault } from "./fake_sts.ts";
import { hasStackTrace, makeSandbox, type RunOutput, type Sandbox } from "./helpers.ts";
import { MAX_ATTEMPTS, REQUEST_TIMEOUT_MS } from "../lib/sts.ts";

/** Generous: MAX_ATTEMPTS × REQUEST_TIMEOUT_MS is 24 s; this catches a hang or a retry storm. */
const FAIL_BOUND_MS = 60_000;

async function runWithFault(
  box: Sandbox,
  fault: Fault,
  args: string[] = [],
): Promise<{ out: RunOutput; ms: number }> {
  box.fake.setFault(fault);
  const started = performance.now();
  const out = await box.run(["claude-export", "--code", await box.code(), ...args], {
    // Killed (exit 137) past the bound, so a hang fails the exit-code assertion.
    timeoutMs: FAIL_BOUND_MS,
  });
  const ms = performance.now() - started;
  box.fake.setFault();
  return { out, ms };
}

function assertIssued(box: Sandbox, out: RunOutput): void {
  assertEquals(out.code, 0, out.stderr);
  const creds = JSON.parse(out.stdout).Credentials;
  assertEquals(box.fake.issued(creds.AccessKeyId)?.sessionToken, creds.SessionToken);
}

function assertCleanFailure(out: RunOutput, error: RegExp): void {
  assertEquals(out.code, 1, out.stderr);
  assertEquals(out.stdout, "");
  const lines = out.stderr.trimEnd().split("\n");
  assertMatch(lines[0], /^mfa: error: /);
  assertMatch(lines[0], error);
  assertMatch(lines[1] ?? "", /^hint: /);
  assertEquals(lines.length, 2, out.stderr);
  assert(!hasStackTrace(out.stderr));
}

Deno.test("HTTP 500 twice, then fine: the SDK retries and the session is issued", async () => {
  await using box = await makeSandbox();
  const { out } = await runWithFault(box, { kind: "status", status: 500, times: 2 });
  assertIssued(box, out);
  const calls = box.fake.callsOf("GetSessionToken");
  assertEquals(calls.map((c) => c.status), [500, 500, 200]);
  // Every try carried the same code: a retried request is the same request.
  assertEquals(new Set(calls.map((c) => c.params.TokenCode)).size, 1);
});

Deno.test("throttled once (400 Throttling), then fine: retried", async () => {
  await using box = await makeSandbox();
  const { out } = await runWithFault(box, { kind: "status", status: 400, times: 1 });
  assertIssued(box, out);
  assertEquals(box.fake.callsOf("GetSessionToken").map((c) => c.status), [400, 200]);
});

Deno.test("HTTP 503 every time: MAX_ATTEMPTS tries, then one clear error", async () => {
  await using box = await makeSandbox();
  const { out, ms } = await runWithFault(box, { kind: "status", status: 503 });
  assertCleanFailure(out, /STS failed with a server error \(HTTP 503\) after \d+ tries/);
  assertEquals(box.fake.callsOf("GetSessionToken").length, MAX_ATTEMPTS);
  assert(ms < FAIL_BOUND_MS, `took ${Math.round(ms)} ms`);
  // Nothing was cached: the next run with a fresh code goes to STS again and succeeds.
  const next = await box.run([
    "claude-export",
    "--code",
    await box.fake.codeFor(DEFAULT_USER.accessKeyId, 1),
  ]);
  assertIssued(box, next);
});

Deno.test("one slow answer (longer than the request timeout): the retry succeeds", async () => {
  await using box = await makeSandbox();
  const { out } = await runWithFault(box, {
    kind: "delay",
    ms: REQUEST_TIMEOUT_MS + 10_000,
    times: 1,
  });
  assertIssued(box, out);
  assertEquals(box.fake.callsOf("GetSessionToken").length, 2);
});

Deno.test("STS never answers: fails within the bound, saying it timed out", async () => {
  await using box = await makeSandbox();
  const { out, ms } = await runWithFault(box, { kind: "delay", ms: 50_000 });
  assertCleanFailure(out, /STS did not answer in time \(http:\/\/127\.0\.0\.1:\d+\)/);
  assertEquals(box.fake.callsOf("GetSessionToken").length, MAX_ATTEMPTS);
  assert(ms < FAIL_BOUND_MS, `took ${Math.round(ms)} ms`);
});

Deno.test("connection refused: fails within the bound, naming the endpoint", async () => {
  await using box = await makeSandbox();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const started = performance.now();
  const out = await box.run([
    "claude-export",
    "--code",
    await box.code(),
    "--endpoint-url",
    `http://127.0.0.1:${port}`,
  ], { timeoutMs: FAIL_BOUND_MS });
  const ms = performance.now() - started;
  assertCleanFailure(out, new RegExp(`cannot reach STS at http://127\\.0\\.0\\.1:${port}`));
  assert(ms < FAIL_BOUND_MS, `took ${Math.round(ms)} ms`);
});

Deno.test("malformed XML from STS: one clear error", async () => {
  await using box = await makeSandbox();
  const { out, ms } = await runWithFault(box, { kind: "malformed" });
  assertCleanFailure(out, /STS sent a reply mfa could not read \(http:\/\/127\.0\.0\.1:\d+\)/);
  assert(box.fake.callsOf("GetSessionToken").length >= 1);
  assert(ms < FAIL_BOUND_MS, `took ${Math.round(ms)} ms`);
});

for (const minutes of [-10, 10]) {
  const skew = `${minutes > 0 ? "ahead" : "behind"} by ${Math.abs(minutes)} min`;
  Deno.test(`STS clock ${skew}: tolerated`, async () => {
    await using box = await makeSandbox();
    const { out } = await runWithFault(box, { kind: "clock-skew", seconds: minutes * 60 });
    assertIssued(box, out);
    assertEquals(box.fake.callsOf("GetSessionToken").length, 1);
    // The reported (skewed) expiration is what is handed on and cached: the next run is a hit.
    const reported = Date.parse(JSON.parse(out.stdout).Credentials.Expiration);
    const issued = box.fake.issued(JSON.parse(out.stdout).Credentials.AccessKeyId)!.expiration;
    assertEquals(Math.round((reported - issued) / 60_000), minutes);
    const again = await box.run(["claude-export"]);
    assertEquals(again.code, 0, again.stderr);
    assertEquals(again.stdout, out.stdout);
    assertEquals(box.fake.callsOf("GetSessionToken").length, 1);
  });
}
