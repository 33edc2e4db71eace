/**
 * Through the spawned CLI against the fake: MFA device auto-detection (ListMFADevices, and the derived
 * fallback when it is denied) and TOTP-window awareness of a command source.
 */
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { DEFAULT_USER } from "./fake_sts.ts";
import { makeSandbox } from "./helpers.ts";

const KEYS_ONLY = `[default]\naws_access_key_id = ${DEFAULT_USER.accessKeyId}\n` +
  `aws_secret_access_key = ${DEFAULT_USER.secretAccessKey}\n`;
const apiCalls = (calls: { action: string }[]) =>
  calls.filter((c) => c.action !== "IMDS").map((c) => c.action);

Deno.test("no mfa_serial: the device comes from iam:ListMFADevices and is remembered", async () => {
  const phone = "arn:aws:iam::123456789012:mfa/alice-phone";
  await using box = await makeSandbox({
    credentials: KEYS_ONLY,
    fake: { users: [{ ...DEFAULT_USER, mfaSerial: phone, mfaDevices: [phone] }] },
  });
  const first = await box.run(["claude-export", "--code", await box.code()]);
  assertEquals(first.code, 0, first.stderr);
  assertEquals(apiCalls(box.fake.calls), [
    "GetCallerIdentity",
    "ListMFADevices",
    "GetSessionToken",
  ]);
  assertEquals(box.fake.callsOf("GetSessionToken")[0].params.SerialNumber, phone);
  assertEquals(first.stderr, "", "no warning when the device was listed");

  const again = await box.run([
    "claude-export",
    "--refresh",
    "--code",
    await box.fake.codeFor(DEFAULT_USER.accessKeyId, 1),
  ]);
  assertEquals(again.code, 0, again.stderr);
  // Remembered in state.json: the second cold fetch is one STS call.
  assertEquals(apiCalls(box.fake.calls).slice(3), ["GetSessionToken"]);
  const state = await Deno.readTextFile(`${box.mfaHome}/state.json`);
  assertStringIncludes(state, phone);
  assert(!state.includes(DEFAULT_USER.accessKeyId), "the access key id is stored hashed only");
});

Deno.test("ListMFADevices denied: the derived arn:aws:iam::ACCOUNT:mfa/USER, with a warning", async () => {
  await using box = await makeSandbox({
    credentials: KEYS_ONLY,
    fake: { users: [{ ...DEFAULT_USER, mfaDevices: "denied" }] },
  });
  const out = await box.run(["exports", "--code", await box.code()]);
  assertEquals(out.code, 0, out.stderr);
  assertEquals(box.fake.callsOf("ListMFADevices")[0].status, 403);
  assertEquals(box.fake.callsOf("GetSessionToken")[0].params.SerialNumber, DEFAULT_USER.mfaSerial);
  assertStringIncludes(
    out.stderr,
    `mfa: warning: could not list MFA devices; assuming ${DEFAULT_USER.mfaSerial}`,
  );
});

Deno.test("a TOTP secret from the mfa command: a second fetch in the same window waits for the next code", async () => {
  await using box = await makeSandbox({
    credentials: `${KEYS_ONLY}mfa_serial = ${DEFAULT_USER.mfaSerial}\n` +
      `mfa_process = echo ${DEFAULT_USER.totpSecret}\n`,
  });
  // Start early in a window so both runs share it (the fake accepts each code once).
  const msIntoWindow = Date.now() % 30_000;
  if (msIntoWindow > 20_000) await new Promise((r) => setTimeout(r, 30_500 - msIntoWindow));
  const first = await box.run(["exports"]);
  assertEquals(first.code, 0, first.stderr);
  const second = await box.run(["exports", "--refresh"]);
  assertEquals(second.code, 0, second.stderr);
  assertStringIncludes(second.stderr, "this TOTP code was already used");
  const calls = box.fake.callsOf("GetSessionToken");
  assertEquals(calls.map((c) => c.status), [200, 200], "no rejected call: it waited instead");
  assert(calls[0].params.TokenCode !== calls[1].params.TokenCode);
});
