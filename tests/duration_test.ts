import { assert, assertEquals } from "./assert.ts";
import {
  checkDurationRange,
  formatDuration,
  MAX_ROLE_DURATION,
  MAX_SESSION_DURATION,
  MIN_DURATION,
  parseDuration,
} from "../lib/duration.ts";
import { MfaError } from "../lib/errors.ts";

function usageErrorOf(fn: () => unknown): MfaError {
  try {
    fn();
  } catch (err) {
    assert(err instanceof MfaError, `expected an MfaError, got ${err}`);
    assertEquals(err.kind, "usage");
    assertEquals(err.exitCode, 2);
    return err;
  }
  throw new Error("expected a usage error");
}

Deno.test("parseDuration: seconds and unit forms", () => {
  const cases: [string, number][] = [
    ["3600", 3600],
    ["900", 900],
    ["90m", 5400],
    ["12h", 43_200],
    ["1h30m", 5400],
    ["2h15m30s", 8130],
    ["36h", 129_600],
    ["45s", 45],
    ["1d", 86_400],
    ["12H", 43_200],
    [" 1h ", 3600],
  ];
  for (const [text, seconds] of cases) assertEquals(parseDuration(text), seconds, text);
});

Deno.test("parseDuration: rejects malformed input as a usage error naming the source", () => {
  for (const text of ["abc", "", "1x", "1h1h", "-5", "1.5h", "h", "1h 30m", "12hours", "30m1h1m"]) {
    const err = usageErrorOf(() => parseDuration(text, "duration (from AWS_MFA_TTL)"));
    assert(err.message.includes("AWS_MFA_TTL"), err.message);
    assert(err.hint, `no hint for ${JSON.stringify(text)}`);
  }
});

Deno.test("checkDurationRange: sessions 900..129600, roles 900..43200", () => {
  checkDurationRange(MIN_DURATION, false);
  checkDurationRange(MAX_SESSION_DURATION, false);
  checkDurationRange(MIN_DURATION, true);
  checkDurationRange(MAX_ROLE_DURATION, true);
  assertEquals([MIN_DURATION, MAX_SESSION_DURATION, MAX_ROLE_DURATION], [900, 129_600, 43_200]);

  usageErrorOf(() => checkDurationRange(899, false));
  usageErrorOf(() => checkDurationRange(129_601, false));
  usageErrorOf(() => checkDurationRange(899, true));
  const role = usageErrorOf(() => checkDurationRange(43_201, true, "duration_seconds"));
  assert(role.message.includes("duration_seconds"), role.message);
  assert(role.message.includes("43200"), role.message);
  // 36h is fine for a session but not for a role.
  checkDurationRange(parseDuration("36h"), false);
  usageErrorOf(() => checkDurationRange(parseDuration("36h"), true));
});

Deno.test("formatDuration: compact h/m/s", () => {
  const cases: [number, string][] = [
    [7200, "2h"],
    [5400, "1h30m"],
    [61, "1m1s"],
    [0, "0s"],
    [45, "45s"],
    [43_200, "12h"],
    [8130, "2h15m30s"],
    [3601, "1h1s"],
    [129_600, "36h"],
  ];
  for (const [seconds, text] of cases) assertEquals(formatDuration(seconds), text, String(seconds));
});

Deno.test("formatDuration output parses back to the same seconds", () => {
  for (const seconds of [1, 59, 60, 900, 3599, 3600, 5400, 8130, 43_199, 43_200, 129_600]) {
    assertEquals(parseDuration(formatDuration(seconds)), seconds);
  }
});
