/**
 * The fake STS against the real clients: @aws-sdk/client-sts, @aws-sdk/client-iam and (when installed)
 * the AWS CLI v2. If the SDK parses these answers, lib/sts.ts sees what it would see from AWS.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  DEFAULT_ROLES,
  DEFAULT_USER,
  type FakeSts,
  type FakeStsOptions,
  type FakeUser,
  startFakeSts,
} from "./fake_sts.ts";
import { runProgram } from "./programs.ts";

const STS = await import("@aws-sdk/client-sts");
const IAM = await import("@aws-sdk/client-iam");

const ROLE_1H = DEFAULT_ROLES.find((r) => r.arn.endsWith("/one-hour"))!.arn;
const ROLE_2H = DEFAULT_ROLES.find((r) => r.arn.endsWith("/two-hours"))!.arn;
const ROLE_12H = DEFAULT_ROLES.find((r) => r.arn.endsWith("/twelve-hours"))!.arn;
const ROLE_EXT = DEFAULT_ROLES.find((r) => r.externalId)!;

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const userKeys = (u: FakeUser = DEFAULT_USER): Keys => ({
  accessKeyId: u.accessKeyId,
  secretAccessKey: u.secretAccessKey,
});

/** A fake plus SDK clients that are torn down with it (no leaked sockets between tests). */
async function withFake(
  opts: FakeStsOptions,
  fn: (ctx: {
    fake: FakeSts;
    sts: (keys?: Keys, extra?: Record<string, unknown>) => InstanceType<typeof STS.STSClient>;
    iam: (keys?: Keys) => InstanceType<typeof IAM.IAMClient>;
  }) => Promise<void>,
) {
  const fake = await startFakeSts(opts);
  const clients: { destroy(): void }[] = [];
  try {
    await fn({
      fake,
      sts: (keys = userKeys(), extra = {}) => {
        const client = new STS.STSClient({
          region: "us-east-1",
          endpoint: fake.url,
          credentials: keys,
          ...extra,
        });
        clients.push(client);
        return client;
      },
      iam: (keys = userKeys()) => {
        const client = new IAM.IAMClient({
          region: "us-east-1",
          endpoint: fake.url,
          credentials: keys,
        });
        clients.push(client);
        return client;
      },
    });
  } finally {
    for (const client of clients) client.destroy();
    await fake.close();
  }
}

interface SdkError {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

async function sdkError(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error("expected the SDK call to fail");
}

function assertSdkError(err: SdkError, name: string, status: number, message: string | RegExp) {
  assertEquals(err.name, name, err.message);
  assertEquals(err.$metadata?.httpStatusCode, status);
  if (typeof message === "string") assertEquals(err.message, message);
  else assert(message.test(err.message), err.message);
}

const INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";
const BAD_SERIAL =
  "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify " +
  "your MFA serial number is valid and associated with this user.";

function sessionKeys(
  creds: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string },
) {
  return {
    accessKeyId: creds.AccessKeyId!,
    secretAccessKey: creds.SecretAccessKey!,
    sessionToken: creds.SessionToken!,
  };
}

/** Seconds from now to an expiration, rounded (AWS expirations have whole seconds). */
const secondsUntil = (date: Date | undefined, from = Date.now()) =>
  Math.round((date!.getTime() - from) / 1000);

Deno.test("fake STS: GetSessionToken with the right code returns parsed session credentials", async () => {
  await withFake({}, async ({ fake, sts }) => {
    const code = await fake.codeFor(DEFAULT_USER.accessKeyId);
    const out = await sts().send(
      new STS.GetSessionTokenCommand({
        SerialNumber: DEFAULT_USER.mfaSerial,
        TokenCode: code,
        DurationSeconds: 3600,
      }),
    );
    const creds = out.Credentials!;
    assert(/^ASIA[A-Z2-7]{16}$/.test(creds.AccessKeyId!));
    assertEquals(creds.SecretAccessKey!.length, 40);
    assert(creds.SessionToken!.length > 300);
    assert(Math.abs(secondsUntil(creds.Expiration) - 3600) <= 2);
    assertEquals(fake.callsOf("GetSessionToken").length, 1);
    const call = fake.callsOf("GetSessionToken")[0];
    assertEquals([call.status, call.accessKeyId, call.errorCode], [
      200,
      DEFAULT_USER.accessKeyId,
      undefined,
    ]);
    assertEquals(call.params.SerialNumber, DEFAULT_USER.mfaSerial);
    assertEquals(call.params.DurationSeconds, "3600");
  });
});

Deno.test("fake STS: default duration is 12 h and the previous window's code is accepted", async () => {
  // A frozen clock: the window cannot move between computing the code and sending it.
  const frozen = new Date();
  await withFake({ now: () => frozen }, async ({ fake, sts }) => {
    const code = await fake.codeFor(DEFAULT_USER.accessKeyId, -1);
    const out = await sts().send(
      new STS.GetSessionTokenCommand({ SerialNumber: DEFAULT_USER.mfaSerial, TokenCode: code }),
    );
    assert(Math.abs(secondsUntil(out.Credentials!.Expiration, frozen.getTime()) - 43200) <= 1);
  });
});

Deno.test("fake STS: a code is accepted once; reuse, wrong code and wrong serial are AccessDenied", async () => {
  await withFake({}, async ({ fake, sts }) => {
    const client = sts();
    const code = await fake.codeFor(DEFAULT_USER.accessKeyId);
    const input = { SerialNumber: DEFAULT_USER.mfaSerial, TokenCode: code, DurationSeconds: 900 };
    await client.send(new STS.GetSessionTokenCommand(input));
    const reused = await sdkError(client.send(new STS.GetSessionTokenCommand(input)));
    assertSdkError(reused, "AccessDenied", 403, INVALID_CODE);
    assertEquals(reused.$metadata?.attempts, 1);

    const wrongCode = code === "000000" ? "000001" : "000000";
    const wrong = await sdkError(
      client.send(new STS.GetSessionTokenCommand({ ...input, TokenCode: wrongCode })),
    );
    assertSdkError(wrong, "AccessDenied", 403, INVALID_CODE);
    const farAway = await fake.codeFor(DEFAULT_USER.accessKeyId, 3);
    if (farAway !== code) {
      const stale = await sdkError(
        client.send(new STS.GetSessionTokenCommand({ ...input, TokenCode: farAway })),
      );
      assertSdkError(stale, "AccessDenied", 403, INVALID_CODE);
    }

    const serial = await sdkError(
      client.send(
        new STS.GetSessionTokenCommand({
          ...input,
          SerialNumber: "arn:aws:iam::123456789012:mfa/bob",
          TokenCode: await fake.codeFor(DEFAULT_USER.accessKeyId, 1),
        }),
      ),
    );
    assertSdkError(serial, "AccessDenied", 403, BAD_SERIAL);
    assertEquals(
      fake.callsOf("GetSessionToken").map((c) => c.errorCode),
      [
        undefined,
        "AccessDenied",
        "AccessDenied",
        ...(farAway !== code ? ["AccessDenied"] : []),
        "AccessDenied",
      ],
    );
  });
});

Deno.test("fake STS: parallel requests with one code: exactly one is accepted", async () => {
  await withFake({}, async ({ fake, sts }) => {
    const input = {
      SerialNumber: DEFAULT_USER.mfaSerial,
      TokenCode: await fake.codeFor(DEFAULT_USER.accessKeyId),
    };
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => sts().send(new STS.GetSessionTokenCommand(input))),
    );
    assertEquals(results.filter((r) => r.status === "fulfilled").length, 1);
    assertEquals(fake.callsOf("GetSessionToken").filter((c) => c.status === 200).length, 1);
    assertEquals(fake.callsOf("GetSessionToken").length, 10);
  });
});

Deno.test("fake STS: allowCodeReuse accepts the same code twice", async () => {
  await withFake({ allowCodeReuse: true }, async ({ fake, sts }) => {
    const client = sts();
    const input = {
      SerialNumber: DEFAULT_USER.mfaSerial,
      TokenCode: await fake.codeFor(DEFAULT_USER.accessKeyId),
    };
    await client.send(new STS.GetSessionTokenCommand(input));
    await client.send(new STS.GetSessionTokenCommand(input));
    assertEquals(fake.callsOf("GetSessionToken").map((c) => c.status), [200, 200]);
  });
});

Deno.test("fake STS: GetSessionToken duration and code-format validation errors", async () => {
  await withFake({}, async ({ fake, sts }) => {
    const client = sts();
    const prefix = "1 validation error detected: Value ";
    const tooLong = await sdkError(
      client.send(new STS.GetSessionTokenCommand({ DurationSeconds: 129601 })),
    );
    assertSdkError(
      tooLong,
      "ValidationError",
      400,
      `${prefix}'129601' at 'durationSeconds' failed to satisfy constraint: ` +
        "Member must have value less than or equal to 129600",
    );
    const tooShort = await sdkError(
      client.send(new STS.GetSessionTokenCommand({ DurationSeconds: 899 })),
    );
    assertSdkError(
      tooShort,
      "ValidationError",
      400,
      `${prefix}'899' at 'durationSeconds' failed to satisfy constraint: ` +
        "Member must have value greater than or equal to 900",
    );
    const shortCode = await sdkError(
      client.send(
        new STS.GetSessionTokenCommand({
          SerialNumber: DEFAULT_USER.mfaSerial,
          TokenCode: "12345",
        }),
      ),
    );
    assertSdkError(
      shortCode,
      "ValidationError",
      400,
      /at 'tokenCode' .*length greater than or equal to 6/,
    );
    const letters = await sdkError(
      client.send(
        new STS.GetSessionTokenCommand({
          SerialNumber: DEFAULT_USER.mfaSerial,
          TokenCode: "12a456",
        }),
      ),
    );
    assertSdkError(letters, "ValidationError", 400, /at 'tokenCode' .*regular expression pattern/);
    // The validation errors burn nothing: the current code still works.
    await client.send(
      new STS.GetSessionTokenCommand({
        SerialNumber: DEFAULT_USER.mfaSerial,
        TokenCode: await fake.codeFor(DEFAULT_USER.accessKeyId),
        DurationSeconds: 129600,
      }),
    );
  });
});

Deno.test("fake STS: unknown key and deactivated user are InvalidClientTokenId", async () => {
  const revoked: FakeUser = {
    ...DEFAULT_USER,
    accessKeyId: "AKIAFAKEREVOKED00001",
    userName: "bob",
    expired: true,
  };
  await withFake({ users: [DEFAULT_USER, revoked] }, async ({ sts }) => {
    for (
      const keys of [userKeys(revoked), {
        accessKeyId: "AKIAUNKNOWN000000000",
        secretAccessKey: "x",
      }]
    ) {
      const err = await sdkError(sts(keys).send(new STS.GetCallerIdentityCommand({})));
      assertSdkError(
        err,
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
      );
    }
  });
});

Deno.test("fake STS: GetCallerIdentity for a user, a session and an assumed role", async () => {
  await withFake({}, async ({ fake, sts }) => {
    const me = await sts().send(new STS.GetCallerIdentityCommand({}));
    assertEquals([me.Account, me.Arn], ["123456789012", "arn:aws:iam::123456789012:user/alice"]);
    assert(/^AIDA[A-Z2-7]{17}$/.test(me.UserId!));
    const session = await sts().send(
      new STS.GetSessionTokenCommand({
        SerialNumber: DEFAULT_USER.mfaSerial,
        TokenCode: await fake.codeFor(DEFAULT_USER.accessKeyId),
      }),
    );
    const viaSession = await sts(sessionKeys(session.Credentials!)).send(
      new STS.GetCallerIdentityCommand({}),
    );
    assertEquals(viaSession.Arn, me.Arn);
    const role = await sts().send(
      new STS.AssumeRoleCommand({ RoleArn: ROLE_2H, RoleSessionName: "alice-cli" }),
    );
    assertEquals(
      role.AssumedRoleUser?.Arn,
      "arn:aws:sts::123456789012:assumed-role/two-hours/alice-cli",
    );
    assert(role.AssumedRoleUser?.AssumedRoleId?.endsWith(":alice-cli"));
    assert(Math.abs(secondsUntil(role.Credentials!.Expiration) - 3600) <= 2);
    const viaRole = await sts(sessionKeys(role.Credentials!)).send(
      new STS.GetCallerIdentityCommand({}),
    );
    assertEquals(viaRole.Arn, role.AssumedRoleUser?.Arn);
    assertEquals(viaRole.UserId, role.AssumedRoleUser?.AssumedRoleId);
  });
});

Deno.test("fake STS: a session token that does not match its key id is InvalidClientTokenId", async () => {
  await withFake({}, async ({ sts }) => {
    const out = await sts().send(new STS.GetSessionTokenCommand({ DurationSeconds: 900 }));
    const keys = { ...sessionKeys(out.Credentials!), sessionToken: "forged" };
    const err = await sdkError(sts(keys).send(new STS.GetCallerIdentityCommand({})));
    assertSdkError(
      err,
      "InvalidClientTokenId",
      403,
      /security token included in the request is invalid/,
    );
  });
});

Deno.test("fake STS: session credentials past their expiration are ExpiredToken", async () => {
  let offsetMs = 0;
  await withFake({ now: () => new Date(Date.now() + offsetMs) }, async ({ sts }) => {
    const out = await sts().send(new STS.GetSessionTokenCommand({ DurationSeconds: 900 }));
    const client = sts(sessionKeys(out.Credentials!));
    await client.send(new STS.GetCallerIdentityCommand({}));
    offsetMs = 901_000;
    const err = await sdkError(client.send(new STS.GetCallerIdentityCommand({})));
    assertSdkError(
      err,
      "ExpiredToken",
      403,
      "The security token included in the request is expired",
    );
    assertEquals(err.$metadata?.attempts, 1);
  });
});

Deno.test("fake STS: GetSessionToken with session credentials is AccessDenied", async () => {
  await withFake({}, async ({ sts }) => {
    const out = await sts().send(new STS.GetSessionTokenCommand({ DurationSeconds: 900 }));
    const err = await sdkError(
      sts(sessionKeys(out.Credentials!)).send(new STS.GetSessionTokenCommand({})),
    );
    assertSdkError(
      err,
      "AccessDenied",
      403,
      "Cannot call GetSessionToken with session credentials",
    );
  });
});

Deno.test("fake STS: AssumeRole durations: role maximum, STS maximum, and the issued expiration", async () => {
  await withFake({}, async ({ sts }) => {
    const client = sts();
    const overRole = await sdkError(
      client.send(
        new STS.AssumeRoleCommand({
          RoleArn: ROLE_2H,
          RoleSessionName: "s1",
          DurationSeconds: 43200,
        }),
      ),
    );
    assertSdkError(
      overRole,
      "ValidationError",
      400,
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
    const overSts = await sdkError(
      client.send(
        new STS.AssumeRoleCommand({
          RoleArn: ROLE_12H,
          RoleSessionName: "s1",
          DurationSeconds: 43201,
        }),
      ),
    );
    assertSdkError(
      overSts,
      "ValidationError",
      400,
      "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: " +
        "Member must have value less than or equal to 43200",
    );
    const twoHours = await client.send(
      new STS.AssumeRoleCommand({ RoleArn: ROLE_2H, RoleSessionName: "s1", DurationSeconds: 7200 }),
    );
    assert(Math.abs(secondsUntil(twoHours.Credentials!.Expiration) - 7200) <= 2);
    const twelve = await client.send(
      new STS.AssumeRoleCommand({
        RoleArn: ROLE_12H,
        RoleSessionName: "s1",
        DurationSeconds: 43200,
      }),
    );
    assert(Math.abs(secondsUntil(twelve.Credentials!.Expiration) - 43200) <= 2);
  });
});

Deno.test("fake STS: AssumeRole with MFA checks serial and code; the code is burnt only on success", async () => {
  await withFake({}, async ({ fake, sts }) => {
    const client = sts();
    const code = await fake.codeFor(DEFAULT_USER.accessKeyId);
    const base = {
      RoleArn: ROLE_12H,
      RoleSessionName: "mfa",
      SerialNumber: DEFAULT_USER.mfaSerial,
      TokenCode: code,
    };
    // A duration refusal leaves the code usable: the duration negotiation retries with it.
    await sdkError(
      client.send(new STS.AssumeRoleCommand({ ...base, RoleArn: ROLE_2H, DurationSeconds: 43200 })),
    );
    await client.send(new STS.AssumeRoleCommand({ ...base, DurationSeconds: 43200 }));
    const reused = await sdkError(client.send(new STS.AssumeRoleCommand(base)));
    assertSdkError(reused, "AccessDenied", 403, INVALID_CODE);
    const serial = await sdkError(
      client.send(
        new STS.AssumeRoleCommand({ ...base, SerialNumber: "arn:aws:iam::123456789012:mfa/other" }),
      ),
    );
    assertSdkError(serial, "AccessDenied", 403, BAD_SERIAL);
  });
});

Deno.test("fake STS: role chaining and session callers are capped at one hour", async () => {
  await withFake({}, async ({ fake, sts }) => {
    const chainingMessage =
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";
    const mfaSession = await sts().send(
      new STS.GetSessionTokenCommand({
        SerialNumber: DEFAULT_USER.mfaSerial,
        TokenCode: await fake.codeFor(DEFAULT_USER.accessKeyId),
      }),
    );
    const fromSession = sts(sessionKeys(mfaSession.Credentials!));
    const capped = await sdkError(
      fromSession.send(
        new STS.AssumeRoleCommand({
          RoleArn: ROLE_12H,
          RoleSessionName: "c1",
          DurationSeconds: 7200,
        }),
      ),
    );
    assertSdkError(capped, "ValidationError", 400, chainingMessage);
    const first = await fromSession.send(
      new STS.AssumeRoleCommand({
        RoleArn: ROLE_12H,
        RoleSessionName: "c1",
        DurationSeconds: 3600,
      }),
    );
    const fromRole = sts(sessionKeys(first.Credentials!));
    const chained = await sdkError(
      fromRole.send(
        new STS.AssumeRoleCommand({
          RoleArn: ROLE_2H,
          RoleSessionName: "c2",
          DurationSeconds: 3601,
        }),
      ),
    );
    assertSdkError(chained, "ValidationError", 400, chainingMessage);
    const second = await fromRole.send(
      new STS.AssumeRoleCommand({ RoleArn: ROLE_1H, RoleSessionName: "c2", DurationSeconds: 3600 }),
    );
    const who = await sts(sessionKeys(second.Credentials!)).send(
      new STS.GetCallerIdentityCommand({}),
    );
    assertEquals(who.Arn, "arn:aws:sts::123456789012:assumed-role/one-hour/c2");
  });
});

Deno.test("fake STS: unknown role, wrong external id and MFA-only roles are AccessDenied", async () => {
  const mfaRole = {
    arn: "arn:aws:iam::123456789012:role/mfa-only",
    maxSessionDuration: 3600,
    requireMfa: true,
  };
  await withFake({ roles: [...DEFAULT_ROLES, mfaRole] }, async ({ fake, sts }) => {
    const client = sts();
    const denied = (role: string) =>
      `User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: ${role}`;
    const nope = "arn:aws:iam::123456789012:role/nope";
    assertSdkError(
      await sdkError(
        client.send(new STS.AssumeRoleCommand({ RoleArn: nope, RoleSessionName: "x1" })),
      ),
      "AccessDenied",
      403,
      denied(nope),
    );
    for (const ExternalId of [undefined, "wrong-id"]) {
      assertSdkError(
        await sdkError(
          client.send(
            new STS.AssumeRoleCommand({ RoleArn: ROLE_EXT.arn, RoleSessionName: "x1", ExternalId }),
          ),
        ),
        "AccessDenied",
        403,
        denied(ROLE_EXT.arn),
      );
    }
    await client.send(
      new STS.AssumeRoleCommand({
        RoleArn: ROLE_EXT.arn,
        RoleSessionName: "x1",
        ExternalId: ROLE_EXT.externalId,
      }),
    );
    assertSdkError(
      await sdkError(
        client.send(new STS.AssumeRoleCommand({ RoleArn: mfaRole.arn, RoleSessionName: "x1" })),
      ),
      "AccessDenied",
      403,
      denied(mfaRole.arn),
    );
    // An MFA session carries MFA into AssumeRole without a code.
    const mfaSession = await client.send(
      new STS.GetSessionTokenCommand({
        SerialNumber: DEFAULT_USER.mfaSerial,
        TokenCode: await fake.codeFor(DEFAULT_USER.accessKeyId),
      }),
    );
    await sts(sessionKeys(mfaSession.Credentials!)).send(
      new STS.AssumeRoleCommand({ RoleArn: mfaRole.arn, RoleSessionName: "x1" }),
    );
    const missingName = await sdkError(
      client.send(new STS.AssumeRoleCommand({ RoleArn: ROLE_1H, RoleSessionName: undefined! })),
    );
    assertSdkError(missingName, "ValidationError", 400, /'roleSessionName' .*must not be null/);
  });
});

Deno.test("fake IAM: ListMFADevices lists the user's devices, or is denied", async () => {
  const many: FakeUser = {
    ...DEFAULT_USER,
    accessKeyId: "AKIAFAKEMANYDEVICES1",
    userName: "carol",
    mfaDevices: [
      "arn:aws:iam::123456789012:mfa/carol-phone",
      "arn:aws:iam::123456789012:u2f/user/carol/key",
    ],
  };
  const none: FakeUser = {
    ...DEFAULT_USER,
    accessKeyId: "AKIAFAKENODEVICES001",
    userName: "dave",
    mfaDevices: [],
  };
  const denied: FakeUser = {
    ...DEFAULT_USER,
    accessKeyId: "AKIAFAKEDENIED000001",
    userName: "erin",
    mfaDevices: "denied",
  };
  await withFake({ users: [DEFAULT_USER, many, none, denied] }, async ({ fake, iam }) => {
    const mine = await iam().send(new IAM.ListMFADevicesCommand({}));
    assertEquals(mine.MFADevices?.map((d) => d.SerialNumber), [DEFAULT_USER.mfaSerial]);
    assertEquals(mine.MFADevices?.[0].UserName, "alice");
    assert(mine.MFADevices?.[0].EnableDate instanceof Date);
    assertEquals(mine.IsTruncated, false);
    const carol = await iam(userKeys(many)).send(new IAM.ListMFADevicesCommand({}));
    assertEquals(carol.MFADevices?.map((d) => d.SerialNumber), many.mfaDevices);
    const dave = await iam(userKeys(none)).send(new IAM.ListMFADevicesCommand({}));
    assertEquals(dave.MFADevices ?? [], []);
    const err = await sdkError(iam(userKeys(denied)).send(new IAM.ListMFADevicesCommand({})));
    assertSdkError(
      err,
      "AccessDenied",
      403,
      /^User: arn:aws:iam::123456789012:user\/erin is not authorized to perform: iam:ListMFADevices /,
    );
    assertEquals(fake.callsOf("ListMFADevices").map((c) => c.status), [200, 200, 200, 403]);
  });
});

Deno.test("fake IMDS: IMDSv2 token then region; no token is 401", async () => {
  await withFake({ region: "ap-southeast-2" }, async ({ fake }) => {
    const tokenResponse = await fetch(`${fake.imdsUrl}/latest/api/token`, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" },
    });
    assertEquals(tokenResponse.status, 200);
    const token = await tokenResponse.text();
    assert(token.length > 20);
    const region = await fetch(`${fake.imdsUrl}/latest/meta-data/placement/region`, {
      headers: { "X-aws-ec2-metadata-token": token },
    });
    assertEquals([region.status, await region.text()], [200, "ap-southeast-2"]);
    const noToken = await fetch(`${fake.imdsUrl}/latest/meta-data/placement/region`);
    assertEquals(noToken.status, 401);
    await noToken.body?.cancel();
    const badToken = await fetch(`${fake.imdsUrl}/latest/meta-data/placement/region`, {
      headers: { "X-aws-ec2-metadata-token": "nope" },
    });
    assertEquals(badToken.status, 401);
    await badToken.body?.cancel();
    const noTtl = await fetch(`${fake.imdsUrl}/latest/api/token`, { method: "PUT" });
    assertEquals(noTtl.status, 400);
    await noTtl.body?.cancel();
    assertEquals(fake.callsOf("IMDS").map((c) => c.status), [200, 200, 401, 401, 400]);
    assertEquals(fake.callsOf("GetCallerIdentity").length, 0);
  });
});

Deno.test("fake IMDS: default region, and a delay fault scoped to IMDS leaves STS alone", async () => {
  await withFake({}, async ({ fake, sts }) => {
    fake.setFault({ kind: "status", status: 500, scope: "imds", times: 1 });
    const failed = await fetch(`${fake.imdsUrl}/latest/api/token`, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" },
    });
    assertEquals(failed.status, 500);
    await failed.body?.cancel();
    await sts().send(new STS.GetCallerIdentityCommand({}));
    const token = await (await fetch(`${fake.imdsUrl}/latest/api/token`, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" },
    })).text();
    const region = await fetch(`${fake.imdsUrl}/latest/meta-data/placement/region`, {
      headers: { "X-aws-ec2-metadata-token": token },
    });
    assertEquals(await region.text(), "eu-west-3");
  });
});

Deno.test("fake STS faults: 500 twice then recovery (the SDK retries), 500 forever fails", async () => {
  await withFake({}, async ({ fake, sts }) => {
    const client = sts();
    fake.setFault({ kind: "status", status: 500, times: 2 });
    const out = await client.send(new STS.GetCallerIdentityCommand({}));
    assertEquals(out.Account, "123456789012");
    assertEquals(out.$metadata.attempts, 3);
    assertEquals(
      fake.callsOf("GetCallerIdentity").map((c) => [c.status, c.errorCode]),
      [[500, "InternalFailure"], [500, "InternalFailure"], [200, undefined]],
    );
    fake.setFault({ kind: "status", status: 503 });
    const err = await sdkError(client.send(new STS.GetCallerIdentityCommand({})));
    assertSdkError(err, "ServiceUnavailable", 503, /Service is unavailable/);
    assertEquals(err.$metadata?.attempts, 3);
    assertEquals(fake.callsOf("GetCallerIdentity").length, 6);
    fake.setFault({
      kind: "status",
      status: 400,
      code: "RegionDisabledException",
      message: "off",
      times: 1,
    });
    const custom = await sdkError(client.send(new STS.GetCallerIdentityCommand({})));
    assertSdkError(custom, "RegionDisabledException", 400, "off");
    fake.setFault();
    await client.send(new STS.GetCallerIdentityCommand({}));
  });
});

Deno.test("fake STS faults: malformed XML with 200 is a parse error, not credentials", async () => {
  await withFake({}, async ({ fake, sts }) => {
    fake.setFault({ kind: "malformed", times: 1 });
    const err = await sdkError(sts().send(new STS.GetSessionTokenCommand({})));
    assertEquals(err.$metadata?.httpStatusCode, 200);
    assert(/XML parse error|Deserialization error/.test(err.message), err.message);
    assertEquals(fake.callsOf("GetSessionToken")[0].errorCode, "malformed");
    await sts().send(new STS.GetSessionTokenCommand({}));
  });
});

Deno.test("fake STS faults: a delay beyond the client's request timeout is a timeout", async () => {
  await withFake({}, async ({ fake, sts }) => {
    fake.setFault({ kind: "delay", ms: 5_000 });
    // Without throwOnRequestTimeout the SDK only logs a warning and keeps waiting.
    const client = sts(userKeys(), {
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
      maxAttempts: 1,
    });
    const err = await sdkError(client.send(new STS.GetCallerIdentityCommand({})));
    assertEquals(err.name, "TimeoutError", err.message);
    const aborted = await sdkError(
      sts().send(new STS.GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(200) }),
    );
    assertEquals(aborted.name, "AbortError", aborted.message);
    fake.setFault({ kind: "delay", ms: 50, times: 1 });
    const out = await sts().send(new STS.GetCallerIdentityCommand({}));
    assertEquals(out.Account, "123456789012");
  });
});

Deno.test("fake STS faults: clock skew shifts the reported expiration", async () => {
  await withFake({}, async ({ fake, sts }) => {
    fake.setFault({ kind: "clock-skew", seconds: -600 });
    const out = await sts().send(new STS.GetSessionTokenCommand({ DurationSeconds: 3600 }));
    assert(Math.abs(secondsUntil(out.Credentials!.Expiration) - 3000) <= 2);
    // Skew persists (no times counter) until cleared.
    const again = await sts().send(new STS.GetSessionTokenCommand({ DurationSeconds: 900 }));
    assert(Math.abs(secondsUntil(again.Credentials!.Expiration) - 300) <= 2);
  });
});

Deno.test("fake STS: GET /_calls, DELETE /_calls and POST /_fault for other processes", async () => {
  await withFake({}, async ({ fake, sts }) => {
    await sts().send(new STS.GetCallerIdentityCommand({}));
    const listed = await (await fetch(`${fake.url}/_calls`)).json();
    assertEquals(listed.length, 1);
    assertEquals([listed[0].action, listed[0].status], ["GetCallerIdentity", 200]);
    await (await fetch(`${fake.url}/_fault`, {
      method: "POST",
      body: JSON.stringify({ kind: "status", status: 500, times: 3 }),
    })).body?.cancel();
    const err = await sdkError(sts().send(new STS.GetCallerIdentityCommand({})));
    assertEquals(err.$metadata?.httpStatusCode, 500);
    await (await fetch(`${fake.url}/_calls`, { method: "DELETE" })).body?.cancel();
    assertEquals(fake.calls.length, 0);
    await sts().send(new STS.GetCallerIdentityCommand({}));
    assertEquals(fake.callsOf("GetCallerIdentity").length, 1);
  });
});

Deno.test("fake STS: an unknown action or a missing signature gets AWS's answer", async () => {
  await withFake({}, async ({ fake }) => {
    const unknown = await fetch(fake.url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization:
          `AWS4-HMAC-SHA256 Credential=${DEFAULT_USER.accessKeyId}/20240101/us-east-1/sts/aws4_request`,
      },
      body: "Action=DecodeAuthorizationMessage&Version=2011-06-15",
    });
    assertEquals(unknown.status, 400);
    assert((await unknown.text()).includes("<Code>InvalidAction</Code>"));
    const unsigned = await fetch(fake.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
    });
    assertEquals(unsigned.status, 403);
    const text = await unsigned.text();
    assert(text.includes("<Code>MissingAuthenticationToken</Code>"), text);
    assert(
      text.includes('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'),
      text,
    );
  });
});

const AWS_CLI = "/usr/bin/aws";
const hasAwsCli = (() => {
  try {
    return Deno.statSync(AWS_CLI).isFile;
  } catch {
    return false;
  }
})();

async function runAwsCli(args: string[], fake: FakeSts, keys: Keys = userKeys()) {
  const home = await Deno.makeTempDir({ prefix: "fake-sts-cli-" });
  try {
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: home,
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: `${home}/nowhere/config`,
      AWS_SHARED_CREDENTIALS_FILE: `${home}/nowhere/credentials`,
      AWS_PAGER: "",
    };
    if (keys.sessionToken) env.AWS_SESSION_TOKEN = keys.sessionToken;
    return await runProgram(AWS_CLI, {
      args: [...args, "--endpoint-url", fake.url, "--output", "json"],
      env,
    });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test({
  name: "fake STS: the AWS CLI v2 gets caller identity, a session token and AWS's error text",
  ignore: !hasAwsCli,
  fn: async () => {
    await withFake({}, async ({ fake }) => {
      const who = await runAwsCli(["sts", "get-caller-identity"], fake);
      assertEquals(who.code, 0, who.stderr);
      assertEquals(JSON.parse(who.stdout).Arn, "arn:aws:iam::123456789012:user/alice");
      const code = await fake.codeFor(DEFAULT_USER.accessKeyId);
      const session = await runAwsCli(
        [
          "sts",
          "get-session-token",
          "--serial-number",
          DEFAULT_USER.mfaSerial,
          "--token-code",
          code,
        ],
        fake,
      );
      assertEquals(session.code, 0, session.stderr);
      const creds = JSON.parse(session.stdout).Credentials;
      assert(creds.AccessKeyId.startsWith("ASIA"));
      const viaSession = await runAwsCli(["sts", "get-caller-identity"], fake, {
        accessKeyId: creds.AccessKeyId,
        secretAccessKey: creds.SecretAccessKey,
        sessionToken: creds.SessionToken,
      });
      assertEquals(viaSession.code, 0, viaSession.stderr);
      const reused = await runAwsCli(
        [
          "sts",
          "get-session-token",
          "--serial-number",
          DEFAULT_USER.mfaSerial,
          "--token-code",
          code,
        ],
        fake,
      );
      assertEquals(reused.code, 254);
      assert(
        reused.stderr.includes(
          `(AccessDenied) when calling the GetSessionToken operation: ${INVALID_CODE}`,
        ),
        reused.stderr,
      );
      const devices = await runAwsCli(["iam", "list-mfa-devices"], fake);
      assertEquals(devices.code, 0, devices.stderr);
      assertEquals(JSON.parse(devices.stdout).MFADevices[0].SerialNumber, DEFAULT_USER.mfaSerial);
    });
  },
});

Deno.test("fake STS: runs as a script, prints FAKE_STS_URL and serves", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL("./fake_sts.ts", import.meta.url).pathname, "--port", "0"],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel();
    const match = /^FAKE_STS_URL=(http:\/\/127\.0\.0\.1:\d+)\n$/.exec(text);
    assert(match, `unexpected first output: ${JSON.stringify(text)}`);
    const signed = (action: string) =>
      fetch(match[1], {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization:
            `AWS4-HMAC-SHA256 Credential=${DEFAULT_USER.accessKeyId}/20240101/us-east-1/sts/aws4_request`,
        },
        body: `Action=${action}&Version=2011-06-15`,
      });
    const who = await signed("GetCallerIdentity");
    assertEquals(who.status, 200);
    assert((await who.text()).includes("<Account>123456789012</Account>"));
    const calls = await (await fetch(`${match[1]}/_calls`)).json();
    assertEquals(calls.map((c: { action: string }) => c.action), ["GetCallerIdentity"]);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    const stderr = new TextDecoder().decode(
      await new Response(child.stderr).arrayBuffer(),
    );
    assertEquals(stderr, "", "the fake must be quiet");
    assertEquals(status.success, false);
  }
});
