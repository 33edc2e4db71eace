/** Issue "core slice" must-shows, through the spawned CLI against the fake STS with HOME in a temp dir. */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { DEFAULT_USER } from "./fake_sts.ts";
import { hasStackTrace, makeSandbox } from "./helpers.ts";
import { exists as has, runProgram, which } from "./programs.ts";

const AWS_V2 = "/usr/bin/aws";

function runIn(shell: string, script: string, env: Record<string, string>) {
  return runProgram(shell, { args: ["-c", script], env });
}

Deno.test("claude-export prints exactly the Credentials the fake issued", async () => {
  await using box = await makeSandbox();
  const out = await box.run(["claude-export", "--code", await box.code()]);
  assertEquals(out.code, 0, out.stderr);
  assertEquals(out.stdout.trim().split("\n").length, 1);
  const parsed = JSON.parse(out.stdout);
  assertEquals(Object.keys(parsed), ["Credentials"]);
  assertEquals(Object.keys(parsed.Credentials), [
    "AccessKeyId",
    "SecretAccessKey",
    "SessionToken",
    "Expiration",
  ]);
  const calls = box.fake.callsOf("GetSessionToken");
  assertEquals(calls.length, 1);
  assertEquals(calls[0].params.SerialNumber, DEFAULT_USER.mfaSerial);
  assertEquals(calls[0].params.DurationSeconds, "43200");
  // Ask the fake who these credentials are: it only knows keys it issued.
  const issued = box.fake.issued(parsed.Credentials.AccessKeyId);
  assert(issued, "the fake did not issue this access key");
  assertEquals(parsed.Credentials.SecretAccessKey, issued.secretAccessKey);
  assertEquals(parsed.Credentials.SessionToken, issued.sessionToken);
  assertEquals(
    new Date(parsed.Credentials.Expiration).getTime(),
    Math.floor(issued.expiration / 1000) * 1000,
  );
  assertMatch(parsed.Credentials.Expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assertEquals(out.stderr, "");
});

for (const shell of ["bash", "dash"]) {
  Deno.test({
    name: `exports evaluated by ${shell}, then the real AWS CLI v2 accepts the credentials`,
    ignore: !which(shell),
    fn: async () => {
      await using box = await makeSandbox();
      const out = await box.run(["exports", "--code", await box.code(), "--region", "eu-west-1"]);
      assertEquals(out.code, 0, out.stderr);
      const env = { PATH: box.env.PATH, HOME: box.home };
      const echoed = await runIn(
        which(shell)!,
        `${out.stdout}\nprintf '%s\\n' "$AWS_ACCESS_KEY_ID" "$AWS_REGION" "$AWS_DEFAULT_REGION" "$AWS_CREDENTIAL_EXPIRATION"`,
        env,
      );
      assertEquals(echoed.code, 0, echoed.stderr);
      const [keyId, region, defaultRegion, expiration] = echoed.stdout.trim().split("\n");
      assertMatch(keyId, /^ASIA/);
      assert(box.fake.issued(keyId));
      assertEquals([region, defaultRegion], ["eu-west-1", "eu-west-1"]);
      assertMatch(expiration, /Z$/);
      if (!has(AWS_V2)) return;
      const before = box.fake.callsOf("GetCallerIdentity").length;
      const aws = await runIn(
        which(shell)!,
        `${out.stdout}\n${AWS_V2} sts get-caller-identity --endpoint-url ${box.fake.url} --output json`,
        {
          ...env,
          AWS_CONFIG_FILE: `${box.home}/none`,
          AWS_SHARED_CREDENTIALS_FILE: `${box.home}/none`,
          AWS_EC2_METADATA_DISABLED: "true",
        },
      );
      assertEquals(aws.code, 0, aws.stderr);
      assertEquals(JSON.parse(aws.stdout).Account, DEFAULT_USER.account);
      const calls = box.fake.callsOf("GetCallerIdentity");
      assertEquals(calls.length, before + 1);
      assertEquals(calls.at(-1)!.accessKeyId, keyId);
    },
  });
}

Deno.test({
  name: "exports --format fish evaluated by fish gives the same session",
  ignore: !which("fish"),
  fn: async () => {
    await using box = await makeSandbox();
    const out = await box.run(["exports", "--format", "fish", "--code", await box.code()]);
    assertEquals(out.code, 0, out.stderr);
    const script = `${out.stdout}\nprintf '%s\\n' $AWS_ACCESS_KEY_ID $AWS_SESSION_TOKEN`;
    const fish = await runIn(which("fish")!, script, { PATH: box.env.PATH, HOME: box.home });
    assertEquals(fish.code, 0, fish.stderr);
    const [keyId, token] = fish.stdout.trim().split("\n");
    assertEquals(box.fake.issued(keyId)?.sessionToken, token);
  },
});

Deno.test("a role whose max is 2h, asked for 12h: 43200, 21600, 7200; then one call at 7200", async () => {
  await using box = await makeSandbox({
    config:
      `[profile work]\nrole_arn = arn:aws:iam::123456789012:role/two-hours\nsource_profile = default\nmfa_serial = ${DEFAULT_USER.mfaSerial}\n`,
  });
  const first = await box.run(["exports", "-p", "work", "-d", "12h", "--code", await box.code()]);
  assertEquals(first.code, 0, first.stderr);
  assertEquals(box.fake.callsOf("AssumeRole").map((c) => c.params.DurationSeconds), [
    "43200",
    "21600",
    "7200",
  ]);
  // The same code served all three tries.
  assertEquals(new Set(box.fake.callsOf("AssumeRole").map((c) => c.params.TokenCode)).size, 1);

  const again = await box.run([
    "exports",
    "-p",
    "work",
    "-d",
    "12h",
    "--refresh",
    "--code",
    await box.fake.codeFor(DEFAULT_USER.accessKeyId, 1),
  ]);
  assertEquals(again.code, 0, again.stderr);
  assertEquals(box.fake.callsOf("AssumeRole").map((c) => c.params.DurationSeconds), [
    "43200",
    "21600",
    "7200",
    "7200",
  ]);

  const cleared = await box.run(["clear", "-p", "work"]);
  assertEquals(cleared.code, 0, cleared.stderr);
  const third = await box.run([
    "exports",
    "-p",
    "work",
    "--code",
    await box.fake.codeFor(DEFAULT_USER.accessKeyId, -1),
  ]);
  assertEquals(third.code, 0, third.stderr);
  assertEquals(box.fake.callsOf("AssumeRole").length, 5);
  assertEquals(box.fake.callsOf("AssumeRole").at(-1)!.params.DurationSeconds, "7200");
});

Deno.test("-d 36h asks GetSessionToken for 129600 seconds", async () => {
  await using box = await makeSandbox();
  const out = await box.run(["exports", "-d", "36h", "--code", await box.code()]);
  assertEquals(out.code, 0, out.stderr);
  assertEquals(box.fake.callsOf("GetSessionToken").map((c) => c.params.DurationSeconds), [
    "129600",
  ]);
});

for (const bad of ["899", "129601", "abc"]) {
  Deno.test(`-d ${bad} → exit 2, clear message, no STS call`, async () => {
    await using box = await makeSandbox();
    const out = await box.run(["exports", "-d", bad, "--code", "123456"]);
    assertEquals(out.code, 2);
    assertMatch(out.stderr, /^mfa: error: .*duration/);
    assertStringIncludes(out.stderr, "hint:");
    assertEquals(out.stdout, "");
    assertEquals(box.fake.calls.length, 0);
    assert(!hasStackTrace(out.stderr));
  });
}

Deno.test("a wrong code → exit 1 saying the code was rejected", async () => {
  await using box = await makeSandbox();
  const good = await box.code();
  const wrong = String((Number(good) + 1) % 1_000_000).padStart(6, "0");
  const out = await box.run(["claude-export", "--code", wrong]);
  assertEquals(out.code, 1);
  assertMatch(out.stderr, /^mfa: error: the MFA code was rejected/);
  assert(!out.stderr.includes(wrong), "the code must not be printed");
  assertEquals(out.stdout, "");
});

Deno.test("a 5-digit code → exit 2 before any call", async () => {
  await using box = await makeSandbox();
  const out = await box.run(["claude-export", "--code", "12345"]);
  assertEquals(out.code, 2);
  assertMatch(out.stderr, /^mfa: error: invalid MFA code: it must be exactly 6 digits/);
  assertEquals(box.fake.calls.length, 0);
});

Deno.test("[default-long-term] provides the keys and its aws_mfa_device", async () => {
  const serial = "arn:aws:iam::123456789012:mfa/alice-phone";
  await using box = await makeSandbox({
    credentials:
      `[default]\naws_access_key_id = ASIAOLDSESSION000001\naws_secret_access_key = old\naws_session_token = old\n\n` +
      `[default-long-term]\naws_access_key_id = ${DEFAULT_USER.accessKeyId}\naws_secret_access_key = ${DEFAULT_USER.secretAccessKey}\naws_mfa_device = ${serial}\n`,
    fake: { users: [{ ...DEFAULT_USER, mfaSerial: serial }] },
  });
  const out = await box.run(["claude-export", "--code", await box.code()]);
  assertEquals(out.code, 0, out.stderr);
  const calls = box.fake.callsOf("GetSessionToken");
  assertEquals(calls.length, 1);
  assertEquals(calls[0].accessKeyId, DEFAULT_USER.accessKeyId);
  assertEquals(calls[0].params.SerialNumber, serial);
});

Deno.test("AWS_SHARED_CREDENTIALS_FILE=/dev/null is ignored by claude-export, not by exports", async () => {
  await using box = await makeSandbox();
  const env = { AWS_SHARED_CREDENTIALS_FILE: "/dev/null" };
  const claude = await box.run(["claude-export", "-v", "--code", await box.code()], { env });
  assertEquals(claude.code, 0, claude.stderr);
  assertStringIncludes(claude.stderr, "/dev/null");
  const exports = await box.run(["exports", "--code", "123456"], { env });
  assertEquals(exports.code, 1);
  assertStringIncludes(exports.stderr, "profile default not found");
});

Deno.test("a bad value in the AWS files is a config error (exit 1), the same on the command line exit 2", async () => {
  await using box = await makeSandbox({ config: `[default]\nduration_seconds = abc\n` });
  const fromFile = await box.run(["exports", "--code", "123456"]);
  assertEquals(fromFile.code, 1);
  assertMatch(fromFile.stderr, /^mfa: error: invalid duration_seconds "abc".* in the AWS files/);
  assertStringIncludes(fromFile.stderr, "hint:");
  const fromFlag = await box.run(["exports", "--code", "123456", "-d", "abc"]);
  assertEquals(fromFlag.code, 2);
  assertEquals(box.fake.calls.length, 0);
});
