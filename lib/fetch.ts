/**
 * The cold path, loaded only on a cache miss: MFA serial, the planned STS calls, duration negotiation
 * (SPEC 3.5), code retries (SPEC 3.6) and learned role maxima.
 */
import {
  type CacheEntry,
  cacheKey,
  cachePolicy,
  type MfaState,
  readState,
  readThrough,
  serialKey,
  totpWindow,
  updateState,
  usedCodeKey,
} from "./cache.ts";
import { createCodeSupplier, type UsedCodes } from "./code/index.ts";
import { MfaError } from "./errors.ts";
import { formatDuration } from "./duration.ts";
import { nextDuration, planCalls } from "./plan.ts";
import type {
  Deps,
  LongTermKeys,
  RoleSettings,
  Settings,
  StsApi,
  StsCredentials,
} from "./types.ts";

const isDurationError = (err: unknown): err is MfaError =>
  err instanceof MfaError && (err.kind === "sts-duration" || err.kind === "sts-chaining");

/**
 * Tries durations highest first with the same code until STS accepts one. `cursor` survives code retries,
 * so a new code resumes at the duration that was being tried.
 */
async function negotiate<T>(
  durations: number[],
  cursor: { current: number; tried: number[]; rejected: boolean },
  deps: Deps,
  call: (seconds: number) => Promise<T>,
): Promise<{ value: T; seconds: number; rejected: boolean }> {
  if (cursor.current === 0) cursor.current = durations[0];
  for (;;) {
    const seconds = cursor.current;
    try {
      const value = await call(seconds);
      return { value, seconds, rejected: cursor.rejected };
    } catch (err) {
      if (!isDurationError(err)) throw err;
      cursor.tried.push(seconds);
      const next = nextDuration(cursor.tried, seconds, err.kind === "sts-chaining");
      if (next === undefined) throw err;
      deps.log.debug(`STS refused ${formatDuration(seconds)}; trying ${formatDuration(next)}`);
      cursor.current = next;
      cursor.rejected = true;
    }
  }
}

const newCursor = () => ({ current: 0, tried: [] as number[], rejected: false });

function sessionName(settings: Settings, role: RoleSettings, now: Date): string {
  if (role.sessionName) return role.sessionName;
  const profile = settings.profile.replace(/[^\w+=,.@-]/g, "-").slice(0, 40);
  return `mfa-${profile}-${Math.floor(now.getTime() / 1000)}`;
}

/** Runs `call` with a code, asking for another when STS rejects it, as the code source allows. */
async function withMfaCode<T>(
  settings: Settings,
  deps: Deps,
  serial: string,
  call: (code: string) => Promise<T>,
): Promise<T> {
  const used: UsedCodes = {
    async wasUsed(code) {
      const state = await readState(settings.mfaHome);
      return state.usedCodes[await usedCodeKey(serial, code)] !== undefined;
    },
  };
  const supplier = createCodeSupplier(settings, deps, used);
  for (let retry = 0;; retry++) {
    const code = await supplier.get(retry);
    deps.log.debug(`got an MFA code from the ${supplier.kind} source`);
    try {
      const value = await call(code);
      const hash = await usedCodeKey(serial, code);
      await saveState(settings, deps, (s) => {
        s.usedCodes[hash] = totpWindow(deps.now());
      });
      return value;
    } catch (err) {
      if (!(err instanceof MfaError) || err.kind !== "sts-invalid-code") throw err;
      if (!(await supplier.onRejected(retry + 1))) throw err;
      deps.log.info("mfa: AWS rejected the MFA code; trying again");
    }
  }
}

async function detectSerial(
  settings: Settings,
  deps: Deps,
  sts: StsApi,
  keys: LongTermKeys,
): Promise<string> {
  const id = await serialKey(keys.accessKeyId);
  const known = (await readState(settings.mfaHome)).serials[id];
  if (known) {
    deps.log.debug("using the MFA device detected earlier");
    return known;
  }
  deps.log.debug("no mfa_serial configured; detecting the MFA device");
  const who = await sts.getCallerIdentity();
  let serial: string | undefined;
  try {
    const devices = await sts.listMfaDevices();
    serial = devices[0];
    if (devices.length > 1) {
      deps.log.warn(`several MFA devices found; using ${serial} (set mfa_serial to choose)`);
    }
  } catch (err) {
    if (!(err instanceof MfaError)) throw err;
    deps.log.debug(`iam:ListMFADevices failed: ${err.message}`);
  }
  if (!serial) {
    const match = /^arn:(aws[a-z-]*):iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(who.arn);
    if (!match) {
      throw new MfaError("config", `cannot work out the MFA device for ${who.arn}`, {
        hint: `set mfa_serial in profile ${settings.profile} or pass --mfa-serial ARN`,
      });
    }
    serial = `arn:${match[1]}:iam::${match[2]}:mfa/${match[3]}`;
    deps.log.warn(`could not list MFA devices; assuming ${serial} (set mfa_serial to be sure)`);
  }
  await saveState(settings, deps, (s) => {
    s.serials[id] = serial!;
  });
  return serial;
}

async function rememberRoleMax(
  settings: Settings,
  deps: Deps,
  role: RoleSettings,
  seconds: number,
): Promise<void> {
  await saveState(settings, deps, (s) => {
    s.roleMaxDuration[role.arn] = seconds;
  });
}

/** state.json only saves work (used codes, serials, role maxima): a failed write is not fatal. */
async function saveState(
  settings: Settings,
  deps: Deps,
  mutate: (state: MfaState) => void,
): Promise<void> {
  try {
    await updateState(settings.mfaHome, mutate, { now: deps.now(), log: deps.log });
  } catch (err) {
    if (!(err instanceof MfaError)) throw err;
    deps.log.debug(`not saving the mfa state: ${err.message}`);
  }
}

/** GetSessionToken with the MFA code, stepping the duration down when STS refuses it. */
function newMfaSession(
  settings: Settings,
  deps: Deps,
  sts: StsApi,
  serial: string,
  durations: number[],
  purpose: string,
): Promise<StsCredentials> {
  const cursor = newCursor();
  return withMfaCode(
    settings,
    deps,
    serial,
    async (code) =>
      (await negotiate(durations, cursor, deps, (seconds) => {
        deps.log.debug(`STS GetSessionToken for ${formatDuration(seconds)}${purpose}`);
        return sts.getSessionToken({
          serialNumber: serial,
          tokenCode: code,
          durationSeconds: seconds,
        });
      })).value,
  );
}

export async function fetchFromSts(
  settings: Settings,
  deps: Deps,
  keys: LongTermKeys,
  region: string,
): Promise<StsCredentials> {
  const sts = await deps.sts({ region, endpointUrl: settings.endpointUrl, credentials: keys });
  const serial = settings.mfaSerial ?? (await detectSerial(settings, deps, sts, keys));
  const state = await readState(settings.mfaHome);
  const plan = planCalls({
    durationSeconds: settings.durationSeconds,
    role: settings.role,
    learnedMax: settings.role ? state.roleMaxDuration[settings.role.arn] : undefined,
    sourceIsSession: keys.sessionToken !== undefined,
  });

  if (plan.kind === "session") {
    return await newMfaSession(settings, deps, sts, serial, plan.durations, "");
  }

  if (plan.kind === "role-direct") {
    const role = plan.role;
    const name = sessionName(settings, role, deps.now());
    const cursor = newCursor();
    const out = await withMfaCode(
      settings,
      deps,
      serial,
      (code) =>
        negotiate(plan.durations, cursor, deps, (seconds) => {
          deps.log.debug(`STS AssumeRole ${role.arn} with MFA for ${formatDuration(seconds)}`);
          return sts.assumeRole({
            roleArn: role.arn,
            roleSessionName: name,
            externalId: role.externalId,
            serialNumber: serial,
            tokenCode: code,
            durationSeconds: seconds,
          });
        }),
    );
    if (out.rejected) await rememberRoleMax(settings, deps, role, out.seconds);
    return out.value;
  }

  // role-via-session: one MFA session (cached per source) serves every role of ≤ 1h.
  let session = await mfaSession(settings, deps, keys, sts, serial, plan.sessionDurations, false);
  for (let attempt = 0;; attempt++) {
    try {
      return await assumeHops(settings, deps, region, session, plan.hops, plan.roleDuration);
    } catch (err) {
      // A cached MFA session revoked or expired early: get a new one once.
      if (attempt > 0 || !(err instanceof MfaError) || err.kind !== "sts-auth") throw err;
      deps.log.debug("the cached MFA session was refused; getting a new one");
      session = await mfaSession(settings, deps, keys, sts, serial, plan.sessionDurations, true);
    }
  }
}

async function mfaSession(
  settings: Settings,
  deps: Deps,
  keys: LongTermKeys,
  sts: StsApi,
  serial: string,
  durations: number[],
  forceNew: boolean,
): Promise<StsCredentials> {
  const key = await cacheKey({
    sourceProfile: settings.sourceProfile,
    accessKeyId: keys.accessKeyId,
    mfaSerial: settings.mfaSerial,
  });
  const policy = cachePolicy(settings, deps);
  if (forceNew) policy.read = false;
  const fetchSession = async (): Promise<CacheEntry> => {
    const issued = await newMfaSession(settings, deps, sts, serial, durations, " (for roles)");
    return {
      version: 1,
      kind: "session",
      profile: settings.sourceProfile,
      sourceProfile: settings.sourceProfile,
      mfaSerial: settings.mfaSerial,
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
      expiration: issued.expiration.toISOString(),
      region: settings.region,
      createdAt: deps.now().toISOString(),
    };
  };
  const { entry, cached } = await readThrough(policy, key, fetchSession);
  if (cached) deps.log.debug("reusing the cached MFA session for this role");
  return {
    accessKeyId: entry.accessKeyId,
    secretAccessKey: entry.secretAccessKey,
    sessionToken: entry.sessionToken,
    expiration: new Date(entry.expiration),
  };
}

async function assumeHops(
  settings: Settings,
  deps: Deps,
  region: string,
  session: StsCredentials,
  hops: RoleSettings[],
  roleDuration: number,
): Promise<StsCredentials> {
  let current = session;
  for (const hop of hops) {
    const sts = await deps.sts({ region, endpointUrl: settings.endpointUrl, credentials: current });
    const name = sessionName(settings, hop, deps.now());
    const out = await negotiate([roleDuration], newCursor(), deps, (seconds) => {
      deps.log.debug(`STS AssumeRole ${hop.arn} for ${formatDuration(seconds)} (no code)`);
      return sts.assumeRole({
        roleArn: hop.arn,
        roleSessionName: name,
        externalId: hop.externalId,
        durationSeconds: seconds,
      });
    });
    current = out.value;
  }
  return current;
}
