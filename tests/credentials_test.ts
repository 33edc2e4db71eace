/**
 * The core with fakes: getCredentials against an in-process fake STS, a fake clock, a fake prompt and
 * a fake shell. The real cache (lib/cache.ts) works in a temp dir.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { readState, updateState, usedCodeKey } from "../lib/cache.ts";
import { msUntilNextWindow } from "../lib/code/index.ts";
import { base32Decode, totp } from "../lib/code/totp.ts";
import { getCredentials } from "../lib/credentials.ts";
import { MfaError } from "../lib/errors.ts";
import { parseAwsIni } from "../lib/ini.ts";
import { resolvePaths, resolveSettings } from "../lib/settings.ts";
import type {
  CodePromptRequest,
  Credentials,
  Deps,
  Env,
  Settings,
  StsApi,
  StsClientOptions,
  StsCredentials,
} from "../lib/types.ts";
import type { OptionValues } from "../lib/cli.ts";

const ACCOUNT = "123456789012";
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
const LONG_TERM_ID = "AKIAEXAMPLELONGTERM0";
const LONG_TERM_SECRET = "long-term-secret/EXAMPLEKEY+abc";
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const READER = `arn:aws:iam::${ACCOUNT}:role/Reader`;
const DEPLOY = `arn:aws:iam::210987654321:role/Deploy`;
const TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP";
/** 5 s into a 30 s TOTP window, far from any real clock so nothing depends on the time of the run. */
const T0 = Date.UTC(2031, 0, 1, 0, 0, 5);
const H = 3600;

const KEYS = `aws_access_key_id = ${LONG_TERM_ID}\naws_secret_access_key = ${LONG_TERM_SECRET}\n`;

interface StsCall {
  action: "GetSessionToken" | "AssumeRole" | "GetCallerIdentity" | "ListMFADevices";
  /** Access key id of the credentials the call was signed with. */
  caller: string;
  region: string;
  durationSeconds?: number;
  serialNumber?: string;
  tokenCode?: string;
  roleArn?: string;
  externalId?: string;
  roleSessionName?: string;
}

/** Everything outside the core: AWS, the clock, the user, the shell, the log. */
class World {
  now = T0;
  calls: StsCall[] = [];
  sleeps: number[] = [];
  prompts: CodePromptRequest[] = [];
  /** Answers typed at the prompt, in order; past the end, fresh codes. */
  promptAnswers: string[] = [];
  shellRuns: string[] = [];
  /** What the MFA command prints, run by run; the last one repeats. */
  shellOutputs: string[] = ["246810\n"];
  logs: { level: "debug" | "warn" | "info"; msg: string }[] = [];
  /** Role ARN → MaxSessionDuration (default 12h). */
  roleMax = new Map<string, number>();
  /** STS rejects these codes as invalid (besides any code already used). */
  badCodes = new Set<string>();
  devices: string[] | "denied" = [SERIAL];
  callerArn = `arn:aws:iam::${ACCOUNT}:user/alice`;
  /** Issued access keys AWS no longer accepts (session revoked). */
  revoked = new Set<string>();
  /** Timeouts the core passed to runShell. */
  shellTimeouts: (number | undefined)[] = [];
  private usedByAws = new Set<string>();
  private issuedCount = 0;
  private generatedCodes = 0;

  constructor(
    readonly home: string,
    public credentialsText = "",
    public configText = "",
  ) {}

  get mfaHome(): string {
    return `${this.home}/.aws/mfa`;
  }

  /** Settings as the CLI would resolve them, from the AWS files of this world (real parser). */
  settings(options: OptionValues = {}, env: Env = {}): Settings {
    const fullEnv: Env = { AWS_REGION: "eu-west-1", ...env };
    const files = {
      credentials: parseAwsIni(this.credentialsText, "credentials", "credentials"),
      config: parseAwsIni(this.configText, "config", "config"),
    };
    return resolveSettings(
      options,
      fullEnv,
      files,
      resolvePaths(options, fullEnv, this.home, "exports"),
    );
  }

  get(options: OptionValues = {}, env: Env = {}): Promise<Credentials> {
    return getCredentials(this.settings(options, env), this.deps());
  }

  callsOf(action: StsCall["action"]): StsCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  /** Every code the core sent to STS. */
  sentCodes(): string[] {
    return this.calls.flatMap((c) => (c.tokenCode === undefined ? [] : [c.tokenCode]));
  }

  /** Environment the core sees through deps (IMDS settings). */
  depsEnv: Env = { AWS_EC2_METADATA_DISABLED: "true" };

  deps(): Deps {
    const unexpected = (what: string) => () => {
      throw new Error(`unexpected ${what}`);
    };
    return {
      env: this.depsEnv,
      home: this.home,
      os: "linux",
      now: () => new Date(this.now),
      sleep: (ms) => {
        this.sleeps.push(ms);
        this.now += ms;
        return Promise.resolve();
      },
      sts: (opts) => this.client(opts),
      run: unexpected("run"),
      runShell: (command, opts) => {
        this.shellRuns.push(command);
        this.shellTimeouts.push(opts?.timeoutMs);
        const out =
          this.shellOutputs[Math.min(this.shellRuns.length, this.shellOutputs.length) - 1];
        return Promise.resolve({ code: 0, stdout: out, stderr: "" });
      },
      spawnChild: unexpected("spawnChild"),
      parentProcess: () => undefined,
      hasTerminal: () => true,
      prompt: async (req) => {
        this.prompts.push(req);
        await new Promise((resolve) => setTimeout(resolve, 5)); // a human takes a while
        const answer = this.promptAnswers.shift();
        return answer ?? String(100_000 + ++this.generatedCodes);
      },
      log: {
        debug: (msg) => this.logs.push({ level: "debug", msg }),
        warn: (msg) => this.logs.push({ level: "warn", msg }),
        info: (msg) => this.logs.push({ level: "info", msg }),
      },
      command: "exports",
    };
  }

  private issue(kind: string, seconds: number): StsCredentials {
    const n = String(++this.issuedCount).padStart(4, "0");
    return {
      accessKeyId: `ASIA${kind}${n}`,
      secretAccessKey: `secret-${kind}-${n}`,
      sessionToken: `token-${kind}-${n}`,
      expiration: new Date(this.now + seconds * 1000),
    };
  }

  /** AWS checks the duration first (a refused duration does not spend the code), then the code. */
  private checkCode(serial: string | undefined, code: string | undefined): void {
    if (serial !== SERIAL && serial !== this.devices[0]) {
      throw new MfaError("sts-serial", "AWS could not validate the MFA code for this MFA device");
    }
    const key = `${serial}:${code}`;
    if (!code || this.badCodes.has(code) || this.usedByAws.has(key)) {
      throw new MfaError("sts-invalid-code", "the MFA code was rejected by AWS");
    }
    this.usedByAws.add(key);
  }

  private client(opts: StsClientOptions): StsApi {
    const caller = opts.credentials.accessKeyId;
    const isSession = opts.credentials.sessionToken !== undefined;
    /** Records the call, then answers like AWS would: a value or a rejected promise. */
    const answer = <T>(call: Omit<StsCall, "caller" | "region">, reply: () => T): Promise<T> =>
      new Promise((resolve) => {
        this.calls.push({ ...call, caller, region: opts.region });
        if (this.revoked.has(caller)) {
          throw new MfaError("sts-auth", "the credentials used to call STS have expired");
        }
        resolve(reply());
      });
    return {
      getSessionToken: (input) =>
        answer({ action: "GetSessionToken", ...input }, () => {
          if (isSession) {
            // AWS: session credentials may call AssumeRole and GetCallerIdentity only.
            throw new MfaError(
              "sts-denied",
              "Cannot call GetSessionToken with session credentials",
            );
          }
          if (input.durationSeconds > 129_600) {
            throw new MfaError("sts-duration", "DurationSeconds too long");
          }
          this.checkCode(input.serialNumber, input.tokenCode);
          return this.issue("SESSION", input.durationSeconds);
        }),
      assumeRole: (input) =>
        answer({
          action: "AssumeRole",
          roleArn: input.roleArn,
          externalId: input.externalId,
          roleSessionName: input.roleSessionName,
          serialNumber: input.serialNumber,
          tokenCode: input.tokenCode,
          durationSeconds: input.durationSeconds,
        }, () => {
          if (isSession && input.durationSeconds > H) {
            throw new MfaError(
              "sts-chaining",
              "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            );
          }
          if (input.durationSeconds > (this.roleMax.get(input.roleArn) ?? 12 * H)) {
            throw new MfaError(
              "sts-duration",
              "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            );
          }
          if (input.serialNumber !== undefined || input.tokenCode !== undefined) {
            this.checkCode(input.serialNumber, input.tokenCode);
          }
          return this.issue("ROLE", input.durationSeconds);
        }),
      getCallerIdentity: () =>
        answer({ action: "GetCallerIdentity" }, () => ({
          account: ACCOUNT,
          arn: this.callerArn,
          userId: "AIDAEXAMPLE",
        })),
      listMfaDevices: () =>
        answer({ action: "ListMFADevices" }, () => {
          if (this.devices === "denied") {
            throw new MfaError("sts-denied", "STS iam:ListMFADevices was denied: not authorized");
          }
          return [...this.devices];
        }),
    };
  }
}

async function withWorld(
  credentials: string,
  config: string,
  fn: (world: World) => Promise<void>,
): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "mfa-core-test-" });
  try {
    await fn(new World(home, credentials, config));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

async function filesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

async function cacheEntryFiles(world: World): Promise<string[]> {
  return (await filesIn(`${world.mfaHome}/cache`)).filter((n) => n.endsWith(".json"));
}

function kindOf(err: unknown): string {
  assert(err instanceof MfaError, `expected an MfaError, got ${err}`);
  return err.kind;
}

const PLAIN = `[default]\n${KEYS}mfa_serial = ${SERIAL}\n`;
const ROLE_CONFIG = `[profile admin]
role_arn = ${ADMIN}
source_profile = base

[profile reader]
role_arn = ${READER}
source_profile = base
duration_seconds = 1800

[profile short-admin]
role_arn = ${ADMIN}
source_profile = base
duration_seconds = 3600

[profile deploy]
role_arn = ${DEPLOY}
source_profile = admin

[profile base]
mfa_serial = ${SERIAL}
`;
const BASE = `[base]\n${KEYS}`;

// ---------------------------------------------------------------------------------------------
// Sessions and the cache.

Deno.test("no role: one GetSessionToken, then cache hits with no STS call and no prompt", async () => {
  await withWorld(PLAIN, "", async (world) => {
    const first = await world.get();
    assertEquals(world.calls, [{
      action: "GetSessionToken",
      caller: LONG_TERM_ID,
      region: "eu-west-1",
      serialNumber: SERIAL,
      tokenCode: "100001",
      durationSeconds: 12 * H,
    }]);
    assertEquals(world.prompts.length, 1);
    assertEquals(world.prompts[0].retryNote, undefined);
    assertEquals(first.source, "sts");
    assertEquals(first.profile, "default");
    assertEquals(first.region, "eu-west-1");
    assertEquals(first.expiration.getTime(), T0 + 12 * H * 1000);
    assertEquals((await cacheEntryFiles(world)).length, 1);

    world.now += 6 * H * 1000;
    const second = await world.get();
    assertEquals(second.source, "cache");
    assertEquals(
      [second.accessKeyId, second.secretAccessKey, second.sessionToken],
      [first.accessKeyId, first.secretAccessKey, first.sessionToken],
    );
    assertEquals(second.expiration.getTime(), first.expiration.getTime());
    assertEquals(world.calls.length, 1);
    assertEquals(world.prompts.length, 1);
  });
});

Deno.test("a cached session with under 5 minutes left is replaced", async () => {
  await withWorld(PLAIN, "", async (world) => {
    const first = await world.get();
    world.now = first.expiration.getTime() - 4 * 60_000;
    const second = await world.get();
    assertEquals(second.source, "sts");
    assert(second.accessKeyId !== first.accessKeyId);
    assertEquals(world.callsOf("GetSessionToken").length, 2);
    assertEquals((await world.get()).source, "cache");
    assertEquals(world.calls.length, 2);
  });
});

Deno.test("--refresh skips the cache and replaces the entry", async () => {
  await withWorld(PLAIN, "", async (world) => {
    const first = await world.get();
    const refreshed = await world.get({ refresh: true });
    assertEquals(refreshed.source, "sts");
    assert(refreshed.accessKeyId !== first.accessKeyId);
    const after = await world.get();
    assertEquals([after.source, after.accessKeyId], ["cache", refreshed.accessKeyId]);
    assertEquals(world.calls.length, 2);
  });
});

Deno.test("concurrent cold calls share one code request and one STS call", async () => {
  await withWorld(PLAIN, "", async (world) => {
    const results = await Promise.all(Array.from({ length: 5 }, () => world.get()));
    assertEquals(world.calls.length, 1);
    assertEquals(world.prompts.length, 1);
    assertEquals(new Set(results.map((r) => r.accessKeyId)).size, 1);
    assertEquals(results.filter((r) => r.source === "sts").length, 1);
  });
});

Deno.test("--no-cache neither reads nor writes cache entries", async () => {
  await withWorld(PLAIN, ROLE_CONFIG, async (world) => {
    const a = await world.get({ "no-cache": true });
    const b = await world.get({ "no-cache": true });
    assertEquals([a.source, b.source], ["sts", "sts"]);
    assertEquals(world.calls.length, 2);
    assertEquals(await cacheEntryFiles(world), []);

    // A role ≤ 1h with --no-cache: the MFA session is not cached either.
    world.credentialsText = BASE;
    await world.get({ "no-cache": true, profile: "reader" });
    assertEquals(await cacheEntryFiles(world), []);

    // An existing entry is not read with --no-cache and stays as it was.
    world.credentialsText = PLAIN;
    await world.get();
    const [entry] = await cacheEntryFiles(world);
    const before = await Deno.readTextFile(`${world.mfaHome}/cache/${entry}`);
    const calls = world.calls.length;
    assertEquals((await world.get({ "no-cache": true })).source, "sts");
    assertEquals(world.calls.length, calls + 1);
    assertEquals(await Deno.readTextFile(`${world.mfaHome}/cache/${entry}`), before);
  });
});

Deno.test("nothing under the mfa home holds a long-term secret or an MFA code; logs hold no code", async () => {
  await withWorld(BASE, ROLE_CONFIG, async (world) => {
    await world.get({ profile: "admin" });
    await world.get({ profile: "reader" });
    const sent = world.sentCodes();
    assert(sent.length > 0);
    for (const name of await filesIn(world.mfaHome)) {
      if (name === "cache") continue;
      const text = await Deno.readTextFile(`${world.mfaHome}/${name}`);
      for (const secret of [LONG_TERM_ID, LONG_TERM_SECRET, ...sent]) {
        assert(!text.includes(secret), `${name} contains a secret`);
      }
    }
    for (const name of await filesIn(`${world.mfaHome}/cache`)) {
      const text = await Deno.readTextFile(`${world.mfaHome}/cache/${name}`);
      for (const secret of [LONG_TERM_ID, LONG_TERM_SECRET, ...sent]) {
        assert(!text.includes(secret), `cache/${name} contains a secret`);
      }
    }
    for (const { msg } of world.logs) {
      for (const secret of [LONG_TERM_SECRET, ...sent]) assert(!msg.includes(secret), msg);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Roles: direct AssumeRole, negotiation, MFA session reuse, chains.

Deno.test("role max 2h asked 12h: 12h, 6h, 2h with one code; learned; refresh makes one call", async () => {
  await withWorld(BASE, ROLE_CONFIG, async (world) => {
    world.roleMax.set(ADMIN, 2 * H);
    const creds = await world.get({ profile: "admin" });
    assertEquals(world.calls.map((c) => [c.action, c.durationSeconds]), [
      ["AssumeRole", 12 * H],
      ["AssumeRole", 6 * H],
      ["AssumeRole", 2 * H],
    ]);
    assert(world.calls.every((c) => c.tokenCode === "100001" && c.serialNumber === SERIAL));
    assert(world.calls.every((c) => c.caller === LONG_TERM_ID && c.roleArn === ADMIN));
    assertEquals(world.prompts.length, 1);
    assertEquals(creds.expiration.getTime(), T0 + 2 * H * 1000);
    assertEquals(creds.profile, "admin");
    assertEquals((await readState(world.mfaHome)).roleMaxDuration[ADMIN], 2 * H);

    assertEquals((await world.get({ profile: "admin" })).source, "cache");
    assertEquals(world.calls.length, 3);

    world.now += 60_000; // a new code for a new TOTP window
    const refreshed = await world.get({ profile: "admin", refresh: true });
    assertEquals(world.calls.slice(3).map((c) => [c.action, c.durationSeconds, c.tokenCode]), [
      ["AssumeRole", 2 * H, "100002"],
    ]);
    assertEquals(refreshed.source, "sts");
  });
});

Deno.test("a role that accepts the requested duration is not remembered as limited", async () => {
  await withWorld(BASE, ROLE_CONFIG, async (world) => {
    await world.get({ profile: "admin" });
    assertEquals(world.calls.map((c) => c.durationSeconds), [12 * H]);
    assertEquals((await readState(world.mfaHome)).roleMaxDuration[ADMIN], undefined);
  });
});

Deno.test("role ≤ 1h: MFA session then AssumeRole without a code; a second role reuses the session", async () => {
  await withWorld(BASE, ROLE_CONFIG, async (world) => {
    const reader = await world.get({ profile: "reader" });
    assertEquals(world.calls.length, 2);
    const [session, assume] = world.calls;
    assertEquals(
      [session.action, session.caller, session.serialNumber, session.tokenCode],
      ["GetSessionToken", LONG_TERM_ID, SERIAL, "100001"],
    );
    assertEquals(session.durationSeconds, 12 * H);
    assertEquals(assume.action, "AssumeRole");
    assertEquals(assume.roleArn, READER);
    assertEquals(assume.durationSeconds, 1800);
    assertEquals([assume.tokenCode, assume.serialNumber], [undefined, undefined]);
    assert(assume.caller.startsWith("ASIASESSION"), "AssumeRole is signed by the MFA session");
    assert(reader.accessKeyId.startsWith("ASIAROLE"));
    assertEquals(reader.expiration.getTime(), T0 + 1800 * 1000);

    const admin = await world.get({ profile: "short-admin" });
    assertEquals(
      world.calls.slice(2).map((c) => [c.action, c.roleArn, c.caller, c.durationSeconds]),
      [
        ["AssumeRole", ADMIN, assume.caller, H],
      ],
    );
    assert(admin.accessKeyId !== reader.accessKeyId);
    assertEquals(world.prompts.length, 1);
    assertEquals(world.sentCodes(), ["100001"]);

    // Each role has its own cache entry: asking again costs nothing.
    assertEquals((await world.get({ profile: "reader" })).accessKeyId, reader.accessKeyId);
    assertEquals((await world.get({ profile: "short-admin" })).accessKeyId, admin.accessKeyId);
    assertEquals(world.calls.length, 3);
  });
});

Deno.test("role chain: MFA session, then each hop innermost first, 1h at most", async () => {
  await withWorld(BASE, ROLE_CONFIG, async (world) => {
    const creds = await world.get({ profile: "deploy" });
    assertEquals(world.calls.map((c) => [c.action, c.roleArn, c.durationSeconds]), [
      ["GetSessionToken", undefined, 12 * H],
      ["AssumeRole", ADMIN, H],
      ["AssumeRole", DEPLOY, H],
    ]);
    const [, adminHop, deployHop] = world.calls;
    assert(adminHop.caller.startsWith("ASIASESSION"));
    assert(deployHop.caller.startsWith("ASIAROLE"), "the second hop is signed by the first");
    assertEquals([deployHop.tokenCode, adminHop.tokenCode], [undefined, undefined]);
    assertEquals(creds.expiration.getTime(), T0 + H * 1000);
    assertEquals(world.prompts.length, 1);
  });
});

Deno.test("temporary source keys: the role-chaining refusal jumps straight to 1h", async () => {
  const credentials = `[base]\n${KEYS}aws_session_token = existing-session-token\n`;
  await withWorld(credentials, ROLE_CONFIG, async (world) => {
    const creds = await world.get({ profile: "admin" });
    assertEquals(world.calls.map((c) => [c.action, c.durationSeconds]), [
      ["AssumeRole", 12 * H],
      ["AssumeRole", H],
    ]);
    assertEquals(world.calls[0].tokenCode, world.calls[1].tokenCode);
    assertEquals(creds.expiration.getTime(), T0 + H * 1000);
    assertEquals((await readState(world.mfaHome)).roleMaxDuration[ADMIN], H);
  });
});

Deno.test("a role refusing even 1h fails with sts-duration after the whole ladder", async () => {
  await withWorld(BASE, ROLE_CONFIG, async (world) => {
    world.roleMax.set(ADMIN, 1800);
    const err = await assertRejects(() => world.get({ profile: "admin" }));
    assertEquals(kindOf(err), "sts-duration");
    assertEquals(world.calls.map((c) => c.durationSeconds), [12 * H, 6 * H, 2 * H, H]);
    assertEquals(await cacheEntryFiles(world), []);
  });
});

// ---------------------------------------------------------------------------------------------
// Invalid codes and code sources.

Deno.test("prompt: a rejected code asks again with a note; the third good try succeeds", async () => {
  await withWorld(PLAIN, "", async (world) => {
    world.promptAnswers = ["111111", "222222", "333333"];
    world.badCodes = new Set(["111111", "222222"]);
    const creds = await world.get();
    assertEquals(creds.source, "sts");
    assertEquals(world.sentCodes(), ["111111", "222222", "333333"]);
    assertEquals(world.prompts.length, 3);
    assertEquals(world.prompts[0].retryNote, undefined);
    assert(world.prompts[1].retryNote, "the second prompt says the code was rejected");
    assert(world.prompts[2].retryNote);
    assert(world.logs.some((l) => l.level === "info" && /rejected/.test(l.msg)));
  });
});

Deno.test("prompt: three rejected codes fail with sts-invalid-code and cache nothing", async () => {
  await withWorld(PLAIN, "", async (world) => {
    world.promptAnswers = ["111111", "222222", "333333", "444444"];
    world.badCodes = new Set(world.promptAnswers);
    const err = await assertRejects(() => world.get());
    assertEquals(kindOf(err), "sts-invalid-code");
    assertEquals(world.prompts.length, 3);
    assertEquals(world.callsOf("GetSessionToken").length, 3);
    assertEquals(await cacheEntryFiles(world), []);
  });
});

Deno.test("static code (--code / AWS_MFA_TOKEN): a rejection fails at once", async () => {
  await withWorld(PLAIN, "", async (world) => {
    world.badCodes = new Set(["121212"]);
    for (const [options, env] of [[{ code: "121212" }, {}], [{}, { AWS_MFA_TOKEN: "121212" }]]) {
      const before = world.calls.length;
      const err = await assertRejects(() => world.get(options, env));
      assertEquals(kindOf(err), "sts-invalid-code");
      assertEquals(world.calls.length, before + 1);
    }
    assertEquals(world.prompts.length, 0);
    assertEquals(world.sleeps, []);
  });
});

Deno.test("static code is sent as given, without a prompt", async () => {
  await withWorld(PLAIN, "", async (world) => {
    await world.get({ code: "121212" });
    assertEquals(world.sentCodes(), ["121212"]);
    assertEquals(world.prompts.length, 0);
  });
});

Deno.test("MFA command: a rejected code waits for the next 30 s window and tries once more", async () => {
  await withWorld(PLAIN, "", async (world) => {
    world.shellOutputs = ["246810\n", "135791\n"];
    world.badCodes = new Set(["246810"]);
    const creds = await world.get({ "mfa-command": "my-otp aws" });
    assertEquals(creds.source, "sts");
    assertEquals(world.shellRuns, ["my-otp aws", "my-otp aws"]);
    assertEquals(world.sentCodes(), ["246810", "135791"]);
    assertEquals(world.sleeps, [msUntilNextWindow(new Date(T0))]);
    assertEquals(world.sleeps[0], 25_250, "the rest of the window plus a margin");
    assertEquals(world.prompts.length, 0);
  });
});

Deno.test("MFA command: a second rejection fails with sts-invalid-code", async () => {
  await withWorld(PLAIN, "", async (world) => {
    world.shellOutputs = ["246810\n", "135791\n", "975310\n"];
    world.badCodes = new Set(["246810", "135791", "975310"]);
    const err = await assertRejects(() => world.get({}, { AWS_MFA_COMMAND: "my-otp" }));
    assertEquals(kindOf(err), "sts-invalid-code");
    assertEquals(world.sentCodes(), ["246810", "135791"]);
    assertEquals(world.sleeps.length, 1);
    assertEquals(world.prompts.length, 0);
  });
});

Deno.test("MFA command printing a TOTP secret: a code already used waits for the next window", async () => {
  await withWorld(PLAIN, "", async (world) => {
    world.shellOutputs = [`${TOTP_SECRET}\n`];
    const secret = base32Decode(TOTP_SECRET);
    const first = await totp(secret, new Date(T0));
    const next = await totp(secret, new Date(T0 + msUntilNextWindow(new Date(T0))));
    assert(first !== next);

    await world.get({ "mfa-command": "cat secret" });
    assertEquals(world.sentCodes(), [first]);
    assertEquals(world.sleeps, []);
    const state = await readState(world.mfaHome);
    assert(
      state.usedCodes[await usedCodeKey(SERIAL, first)] !== undefined,
      "the code is remembered",
    );

    // Same window, new session: the same code would be refused by AWS; mfa waits instead.
    await world.get({ "mfa-command": "cat secret", refresh: true });
    assertEquals(world.sentCodes(), [first, next]);
    assertEquals(world.sleeps, [25_250]);
    assert(world.logs.some((l) => l.level === "info" && /already used/.test(l.msg)));
  });
});

Deno.test("a used TOTP code recorded by another process (state file) is not sent", async () => {
  await withWorld(PLAIN, "", async (world) => {
    world.shellOutputs = [`otpauth://totp/AWS:alice?secret=${TOTP_SECRET}&issuer=AWS\n`];
    const secret = base32Decode(TOTP_SECRET);
    const current = await totp(secret, new Date(T0));
    const key = await usedCodeKey(SERIAL, current);
    await updateState(world.mfaHome, (s) => {
      s.usedCodes[key] = Math.floor(T0 / 30_000);
    }, { now: new Date(T0) });
    await world.get({ "mfa-command": "otp-uri" });
    assertEquals(world.sleeps.length, 1);
    assertEquals(world.sentCodes(), [await totp(secret, new Date(world.now))]);
    assert(!world.sentCodes().includes(current));
  });
});

Deno.test("an MFA command that fails is a code error; nothing is sent", async () => {
  await withWorld(PLAIN, "", async (world) => {
    const deps = world.deps();
    deps.runShell = () => Promise.resolve({ code: 3, stdout: "", stderr: "boom" });
    const err = await assertRejects(() =>
      getCredentials(world.settings({ "mfa-command": "false" }), deps)
    );
    assertEquals(kindOf(err), "code");
    assertEquals(world.calls, []);
  });
});

// ---------------------------------------------------------------------------------------------
// MFA serial detection.

Deno.test("no mfa_serial: the device from ListMFADevices is used and remembered", async () => {
  const phone = `arn:aws:iam::${ACCOUNT}:mfa/alice-phone`;
  await withWorld(`[default]\n${KEYS}`, "", async (world) => {
    world.devices = [phone];
    await world.get();
    assertEquals(world.calls.map((c) => c.action), [
      "GetCallerIdentity",
      "ListMFADevices",
      "GetSessionToken",
    ]);
    assertEquals(world.callsOf("GetSessionToken")[0].serialNumber, phone);
    const state = await readState(world.mfaHome);
    assertEquals(Object.values(state.serials), [phone]);
    assert(!JSON.stringify(state).includes(LONG_TERM_ID), "the access key id is stored hashed");

    // The next cold fetch goes straight to STS.
    await world.get({ refresh: true });
    assertEquals(world.calls.slice(3).map((c) => [c.action, c.serialNumber]), [
      ["GetSessionToken", phone],
    ]);
  });
});

Deno.test("no mfa_serial and ListMFADevices denied: derived user ARN with a warning", async () => {
  await withWorld(`[default]\n${KEYS}`, "", async (world) => {
    world.devices = "denied";
    world.callerArn = `arn:aws:iam::${ACCOUNT}:user/engineering/alice`;
    await world.get();
    assertEquals(world.callsOf("GetSessionToken")[0].serialNumber, SERIAL);
    const warnings = world.logs.filter((l) => l.level === "warn").map((l) => l.msg);
    assertEquals(warnings.length, 1);
    assert(warnings[0].includes(SERIAL), warnings[0]);
    assertEquals(Object.values((await readState(world.mfaHome)).serials), [SERIAL]);
  });
});

Deno.test("no mfa_serial and the caller is not an IAM user: config error with a hint", async () => {
  await withWorld(`[default]\n${KEYS}`, "", async (world) => {
    world.devices = "denied";
    world.callerArn = `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`;
    const err = await assertRejects(() => world.get());
    assertEquals(kindOf(err), "config");
    assert((err as MfaError).hint?.includes("mfa_serial"));
    assertEquals(world.callsOf("GetSessionToken"), []);
    assertEquals(world.prompts.length, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Configuration errors: before any prompt or STS call.

Deno.test("unknown profile → config error with a hint, no prompt, no STS call", async () => {
  await withWorld(PLAIN, "", async (world) => {
    const explicit = await assertRejects(() => world.get({}, { AWS_PROFILE: "nope" }));
    assertEquals(kindOf(explicit), "config");
    assert((explicit as MfaError).message.includes("nope"));
    assert((explicit as MfaError).hint?.includes("mfa setup"));

    world.credentialsText = "";
    const implicit = await assertRejects(() => world.get());
    assertEquals(kindOf(implicit), "config");
    assert((implicit as MfaError).hint?.includes("mfa setup"));
    assertEquals(world.calls, []);
    assertEquals(world.prompts, []);
  });
});

Deno.test("profile without keys → config error naming the section", async () => {
  await withWorld(
    "",
    `[profile cfg]\nregion = eu-west-1\nmfa_serial = ${SERIAL}\n`,
    async (world) => {
      const err = await assertRejects(() => world.get({ profile: "cfg" }));
      assertEquals(kindOf(err), "config");
      assert((err as MfaError).message.includes("aws_access_key_id"));
      assert((err as MfaError).hint?.includes("[cfg]"));
      assertEquals(world.calls, []);
    },
  );
  // A role whose source profile has no keys.
  await withWorld("", ROLE_CONFIG, async (world) => {
    const err = await assertRejects(() => world.get({ profile: "admin" }));
    assertEquals(kindOf(err), "config");
    assert((err as MfaError).message.includes("base"));
    assertEquals(world.calls, []);
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness.

Deno.test("a cached MFA session AWS no longer accepts is replaced once", async () => {
  await withWorld(BASE, ROLE_CONFIG, async (world) => {
    await world.get({ profile: "reader" });
    const session = world.calls[0];
    assertEquals(session.action, "GetSessionToken");
    const sessionKey = world.calls[1].caller;
    world.revoked.add(sessionKey);
    world.now += 60_000;
    const admin = await world.get({ profile: "short-admin" });
    assertEquals(world.calls.slice(2).map((c) => [c.action, c.roleArn]), [
      ["AssumeRole", ADMIN],
      ["GetSessionToken", undefined],
      ["AssumeRole", ADMIN],
    ]);
    assert(world.calls[4].caller !== sessionKey, "the new AssumeRole uses the new MFA session");
    assert(admin.accessKeyId.startsWith("ASIAROLE"));
    assertEquals(world.prompts.length, 2);
  });
});

Deno.test("temporary source keys (aws_session_token): a role ≤ 1h is assumed directly with the code", async () => {
  // GetSessionToken refuses session credentials, so the MFA-session route cannot work for them.
  const credentials = `[base]\n${KEYS}aws_session_token = existing-session-token\n`;
  await withWorld(credentials, ROLE_CONFIG, async (world) => {
    const creds = await world.get({ profile: "reader" });
    assertEquals(world.calls.map((c) => [c.action, c.roleArn, c.durationSeconds]), [
      ["AssumeRole", READER, 1800],
    ]);
    assertEquals([world.calls[0].serialNumber, world.calls[0].tokenCode], [SERIAL, "100001"]);
    assertEquals(creds.expiration.getTime(), T0 + 1800 * 1000);

    // After learning that the role stops at 1h (chaining), the next cold fetch is one call too.
    await world.get({ profile: "admin" });
    assertEquals((await readState(world.mfaHome)).roleMaxDuration[ADMIN], H);
    world.now += 60_000;
    const calls = world.calls.length;
    await world.get({ profile: "admin", refresh: true });
    assertEquals(world.calls.slice(calls).map((c) => [c.action, c.durationSeconds]), [
      ["AssumeRole", H],
    ]);
  });
});

Deno.test("--no-cache works when the mfa home cannot be written", async () => {
  await withWorld(PLAIN, "", async (world) => {
    // A regular file where a directory should be: unwritable even for root.
    await Deno.writeTextFile(`${world.home}/not-a-dir`, "");
    const env = { AWS_MFA_HOME: `${world.home}/not-a-dir/mfa` };
    const creds = await world.get({ "no-cache": true }, env);
    assertEquals(creds.source, "sts");
    // Without --no-cache the failure says how to get around it.
    const err = await assertRejects(() => world.get({}, env));
    assertEquals(kindOf(err), "cache");
    assert((err as MfaError).hint?.includes("--no-cache"));
  });
});

Deno.test("AWS_MFA_COMMAND_TIMEOUT reaches the MFA command", async () => {
  await withWorld(PLAIN, "", async (world) => {
    await world.get({ "mfa-command": "my-otp" }, { AWS_MFA_COMMAND_TIMEOUT: "5" });
    assertEquals(world.shellTimeouts, [5000]);
  });
});

Deno.test("no region anywhere: IMDS disabled → us-east-1 for STS, none reported", async () => {
  await withWorld(PLAIN, "", async (world) => {
    const creds = await world.get({}, { AWS_REGION: "" });
    assertEquals(world.calls[0].region, "us-east-1");
    assertEquals(creds.region, undefined);
  });
});

Deno.test("no region configured: the EC2 metadata region is used and kept with the session", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "PUT" && path === "/latest/api/token") return new Response("imds-token");
    if (path === "/latest/meta-data/placement/region") {
      return req.headers.get("x-aws-ec2-metadata-token") === "imds-token"
        ? new Response("ap-south-1")
        : new Response("", { status: 401 });
    }
    return new Response("", { status: 404 });
  });
  try {
    await withWorld(PLAIN, "", async (world) => {
      world.depsEnv = {
        AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${server.addr.port}/`,
      };
      const creds = await world.get({}, { AWS_REGION: "" });
      assertEquals(world.calls[0].region, "ap-south-1");
      assertEquals(creds.region, "ap-south-1");
      const cached = await world.get({}, { AWS_REGION: "" });
      assertEquals([cached.source, cached.region], ["cache", "ap-south-1"]);
      // A configured region wins over the one the session was fetched in.
      assertEquals((await world.get({}, { AWS_REGION: "eu-west-3" })).region, "eu-west-3");
    });
  } finally {
    await server.shutdown();
  }
});

Deno.test("a new code after a rejection resumes at the duration being tried", async () => {
  await withWorld(BASE, ROLE_CONFIG, async (world) => {
    world.roleMax.set(ADMIN, 2 * H);
    world.promptAnswers = ["111111", "222222"];
    world.badCodes = new Set(["111111"]);
    await world.get({ profile: "admin" });
    assertEquals(world.calls.map((c) => [c.durationSeconds, c.tokenCode]), [
      [12 * H, "111111"],
      [6 * H, "111111"],
      [2 * H, "111111"],
      [2 * H, "222222"],
    ]);
    assertEquals((await readState(world.mfaHome)).roleMaxDuration[ADMIN], 2 * H);
  });
});

Deno.test("the same role with another external id or session name is another cached session", async () => {
  const config = `${ROLE_CONFIG}
[profile admin-ext]
role_arn = ${ADMIN}
source_profile = base
external_id = partner-1

[profile admin-named]
role_arn = ${ADMIN}
source_profile = base
role_session_name = alice-session
`;
  await withWorld(BASE, config, async (world) => {
    const plain = await world.get({ profile: "admin" });
    const ext = await world.get({ profile: "admin-ext" });
    const named = await world.get({ profile: "admin-named" });
    assertEquals(new Set([plain, ext, named].map((c) => c.accessKeyId)).size, 3);
    assertEquals(world.calls.map((c) => c.externalId), [undefined, "partner-1", undefined]);
    assertEquals(world.calls.map((c) => c.roleSessionName), [
      `mfa-admin-${T0 / 1000}`,
      `mfa-admin-ext-${T0 / 1000}`,
      "alice-session",
    ]);
    assertEquals((await cacheEntryFiles(world)).length, 3);
    assertEquals((await world.get({ profile: "admin-ext" })).accessKeyId, ext.accessKeyId);
    assertEquals(world.calls.length, 3);
  });
});
