/**
 * The session cache (`<mfa home>/cache/<key>.json`), the per-key lock that makes N concurrent cold
 * invocations share one code request and one STS call, and the small state file (`state.json`).
 *
 * This module is on the cache-hit path: it imports nothing heavy and does nothing at import time.
 * Entries hold only temporary session credentials; the long-term access key id only ever enters
 * the cache key through a hash.
 */
import { MfaError } from "./errors.ts";
import { sha256Hex } from "./hash.ts";
import { trackTempFile, untrackTempFile } from "./temp_files.ts";
import type { Logger } from "./types.ts";

/** What identifies a cached session: the same inputs always give the same key. */
export interface CacheKeyParts {
  sourceProfile: string;
  accessKeyId: string;
  mfaSerial?: string;
  roleArn?: string;
  externalId?: string;
  sessionName?: string;
}

export interface CacheEntry {
  version: 1;
  kind: "session" | "role";
  profile: string;
  sourceProfile: string;
  roleArn?: string;
  mfaSerial?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601 */
  expiration: string;
  region?: string;
  /** ISO 8601 */
  createdAt: string;
}

/** A cached session with less than this left is treated as missing, so callers never get one about to die. */
export const MIN_REMAINING_MS = 5 * 60_000;

export const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

const KEY_PATTERN = /^[0-9a-f]{64}$/;
const ENTRY_FILE = /^([0-9a-f]{64})\.json$/;
const LOCK_FILE = /^[0-9a-f]{64}\.lock$/;
const TEMP_FILE = /\.tmp$/;
/** Temp files younger than this may belong to a writer that is about to rename them. */
const STALE_TEMP_MS = 60_000;
const TOTP_WINDOW_MS = 30_000;
/** A wait for the lock longer than this gets a note on stderr, not only a debug line. */
const TELL_WAITING_AFTER_MS = 3_000;
/** usedCodes entries older than this many TOTP windows can never be replayed: drop them. */
const USED_CODE_WINDOWS_KEPT = 10;

const isWindows = () => Deno.build.os === "windows";

/** sha256 hex of a canonical JSON array of the parts (absent and empty parts are the same). */
export function cacheKey(parts: CacheKeyParts): Promise<string> {
  return sha256Hex(JSON.stringify([
    "mfa-cache-v1",
    parts.sourceProfile,
    parts.accessKeyId,
    parts.mfaSerial || null,
    parts.roleArn || null,
    parts.externalId || null,
    parts.sessionName || null,
  ]));
}

/** Key of a remembered TOTP code in `MfaState.usedCodes`: the code itself is never stored. */
export function usedCodeKey(serial: string, code: string): Promise<string> {
  return sha256Hex(`${serial}:${code}`);
}

/** Key of a detected serial in `MfaState.serials`: the long-term access key id is never stored. */
export function serialKey(accessKeyId: string): Promise<string> {
  return sha256Hex(`serial:${accessKeyId}`);
}

/** The TOTP window (30 s step) a moment falls in, as stored in `MfaState.usedCodes`. */
export function totpWindow(now: Date): number {
  return Math.floor(now.getTime() / TOTP_WINDOW_MS);
}

export function cacheDir(mfaHome: string): string {
  return `${mfaHome}/cache`;
}

function entryPath(mfaHome: string, key: string): string {
  assertKey(key);
  return `${cacheDir(mfaHome)}/${key}.json`;
}

function assertKey(key: string): void {
  // Keys become file names: anything but a sha256 hex would be a programming error (or a traversal).
  if (!KEY_PATTERN.test(key)) throw new MfaError("internal", "invalid cache key");
}

function isOptionalString(value: unknown): boolean {
  return value === undefined || typeof value === "string";
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

/** Shape check of a parsed cache file; anything else counts as corrupted. */
export function isCacheEntry(value: unknown): value is CacheEntry {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  return e.version === 1 &&
    (e.kind === "session" || e.kind === "role") &&
    isNonEmptyString(e.profile) &&
    isNonEmptyString(e.sourceProfile) &&
    isNonEmptyString(e.accessKeyId) &&
    isNonEmptyString(e.secretAccessKey) &&
    // A session token is what makes these temporary credentials: never cache keys without one.
    isNonEmptyString(e.sessionToken) &&
    isNonEmptyString(e.expiration) && !Number.isNaN(Date.parse(e.expiration)) &&
    isNonEmptyString(e.createdAt) &&
    isOptionalString(e.roleArn) &&
    isOptionalString(e.mfaSerial) &&
    isOptionalString(e.region);
}

/** Milliseconds until the entry expires (negative when expired). */
export function remainingMs(entry: CacheEntry, now: Date): number {
  return Date.parse(entry.expiration) - now.getTime();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The cached session for `key` when it has at least MIN_REMAINING_MS left. A missing, unreadable,
 * corrupted or nearly expired entry is a miss (the caller fetches and overwrites it).
 */
export async function readCacheEntry(
  mfaHome: string,
  key: string,
  now: Date,
  log: Logger,
): Promise<CacheEntry | undefined> {
  const path = entryPath(mfaHome, key);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      log.debug(`cannot read cache entry ${path} (${errorText(err)}); fetching a new session`);
    }
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isCacheEntry(parsed)) {
    log.debug(`ignoring corrupted cache entry ${path}; it will be replaced`);
    return undefined;
  }
  const left = remainingMs(parsed, now);
  if (left < MIN_REMAINING_MS) {
    const what = left <= 0 ? "has expired" : `expires in ${Math.floor(left / 1000)}s`;
    log.debug(`cached session for ${parsed.profile} ${what}; fetching a new one`);
    return undefined;
  }
  return parsed;
}

/** Creates `dir` (and parents) as 0700 and narrows it to 0700 if it exists with a wider mode. */
async function ensurePrivateDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (isWindows()) return;
  const info = await Deno.stat(dir);
  if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(dir, 0o700);
}

async function ensureCacheDir(mfaHome: string): Promise<void> {
  await ensurePrivateDir(mfaHome);
  await ensurePrivateDir(cacheDir(mfaHome));
}

/** Writes a 0600 temp file beside `path`, syncs it and renames it over `path`: never a partial file. */
async function writeFileAtomic(path: string, text: string): Promise<void> {
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(16);
  const temp = `${path}.${Deno.pid}.${random}.tmp`;
  const bytes = new TextEncoder().encode(text);
  trackTempFile(temp); // Ctrl-C removes it (main.ts)
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    // The create mode went through the umask; make it exactly 0600.
    if (!isWindows()) await Deno.chmod(temp, 0o600);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  } finally {
    untrackTempFile(temp);
  }
}

function cacheWriteError(dir: string, err: unknown): MfaError {
  if (err instanceof MfaError) return err;
  return new MfaError("cache", `cannot write to the mfa cache ${dir}: ${errorText(err)}`, {
    hint:
      `make ${dir} writable by you, point AWS_MFA_HOME at a writable directory, or use --no-cache`,
    cause: err,
  });
}

export async function writeCacheEntry(
  mfaHome: string,
  key: string,
  entry: CacheEntry,
): Promise<void> {
  const path = entryPath(mfaHome, key);
  if (!isCacheEntry(entry)) throw new MfaError("internal", "refusing to cache an invalid entry");
  try {
    await ensureCacheDir(mfaHome);
    await writeFileAtomic(path, `${JSON.stringify(entry, null, 2)}\n`);
  } catch (err) {
    throw cacheWriteError(cacheDir(mfaHome), err);
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}

/** Is `file` still the file at `path`? (`mfa clear --all` may delete a lock file while we wait on it.) */
async function isStillAtPath(file: Deno.FsFile, path: string): Promise<boolean> {
  if (isWindows()) return true; // an open file cannot be deleted there
  const [held, current] = await Promise.all([file.stat(), Deno.stat(path).catch(() => null)]);
  if (current === null) return false;
  return held.ino === current.ino && held.dev === current.dev;
}

/**
 * Takes an exclusive OS lock on `lockPath`, polling with a non-blocking attempt so the wait is
 * bounded. The OS drops the lock when the holder exits, even on SIGKILL, so stale locks never block.
 */
async function acquireFileLock(
  lockPath: string,
  what: string,
  timeoutMs: number,
  log: Logger,
): Promise<Deno.FsFile> {
  const startedAt = Date.now();
  const deadline = startedAt + timeoutMs;
  let delayMs = 10;
  let announced = false;
  let told = false;
  for (;;) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(lockPath, { read: true, write: true, create: true, mode: 0o600 });
    } catch (err) {
      throw new MfaError("cache", `cannot open the lock file ${lockPath}: ${errorText(err)}`, {
        hint: "make the mfa home writable by you, point AWS_MFA_HOME elsewhere, or use --no-cache",
        cause: err,
      });
    }
    let keep = false;
    try {
      while (!(await file.tryLock(true))) {
        if (!announced) {
          log.debug(`waiting for another mfa process (${what})`);
          announced = true;
        }
        if (!told && Date.now() - startedAt >= TELL_WAITING_AFTER_MS) {
          // Long enough to puzzle a user: the other process is most likely showing a code prompt.
          log.info("mfa: waiting for another mfa process (it may be asking for an MFA code)");
          told = true;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new MfaError(
            "cache",
            `timed out after ${
              formatSeconds(timeoutMs)
            } waiting for another mfa process (lock ${lockPath})`,
            {
              hint:
                "check for a stuck mfa prompt (another mfa may be waiting for an MFA code) and answer or end it",
            },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, left)));
        delayMs = Math.min(delayMs * 2, 200);
      }
      keep = await isStillAtPath(file, lockPath);
    } catch (err) {
      if (err instanceof MfaError) throw err;
      throw new MfaError("cache", `cannot lock ${lockPath}: ${errorText(err)}`, {
        hint: "use a local file system for AWS_MFA_HOME, or use --no-cache",
        cause: err,
      });
    } finally {
      if (!keep) file.close();
    }
    if (keep) {
      if (announced) log.debug(`the other mfa process finished (${what})`);
      return file;
    }
    // The file we locked was removed meanwhile: lock whatever is at the path now.
  }
}

async function withFileLock<T>(
  lockPath: string,
  what: string,
  fn: () => Promise<T>,
  timeoutMs: number,
  log: Logger,
): Promise<T> {
  const file = await acquireFileLock(lockPath, what, timeoutMs, log);
  try {
    return await fn();
  } finally {
    file.close(); // closing releases the lock
  }
}

/** How a caller uses the cache: read it (not with --refresh/--no-cache), write it (not with --no-cache). */
export interface CachePolicy {
  mfaHome: string;
  read: boolean;
  write: boolean;
  now: () => Date;
  log: Logger;
}

export function cachePolicy(
  settings: { mfaHome: string; noCache: boolean; refresh: boolean },
  deps: { now: () => Date; log: Logger },
): CachePolicy {
  return {
    mfaHome: settings.mfaHome,
    read: !settings.noCache && !settings.refresh,
    write: !settings.noCache,
    now: deps.now,
    log: deps.log,
  };
}

/**
 * A hit returns at once; a miss takes the key's lock, checks again (another process may have fetched
 * while we waited), fetches once and writes. So N concurrent cold callers make one fetch.
 */
export async function readThrough(
  policy: CachePolicy,
  key: string,
  fetch: () => Promise<CacheEntry>,
): Promise<{ entry: CacheEntry; cached: boolean }> {
  const read = () =>
    policy.read ? readCacheEntry(policy.mfaHome, key, policy.now(), policy.log) : undefined;
  const hit = await read();
  if (hit) return { entry: hit, cached: true };
  if (!policy.write) return { entry: await fetch(), cached: false };
  return await withKeyLock(policy.mfaHome, key, async () => {
    const fresh = await read();
    if (fresh) {
      policy.log.debug("another mfa process fetched this session meanwhile; using it");
      return { entry: fresh, cached: true };
    }
    const entry = await fetch();
    await writeCacheEntry(policy.mfaHome, key, entry);
    return { entry, cached: false };
  }, { log: policy.log });
}

/** Runs `fn` holding the exclusive lock of one cache key (`<cache dir>/<key>.lock`). */
export async function withKeyLock<T>(
  mfaHome: string,
  key: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; log: Logger },
): Promise<T> {
  assertKey(key);
  try {
    await ensureCacheDir(mfaHome);
  } catch (err) {
    throw cacheWriteError(cacheDir(mfaHome), err);
  }
  return withFileLock(
    `${cacheDir(mfaHome)}/${key}.lock`,
    `cache key ${key.slice(0, 12)}`,
    fn,
    opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    opts.log,
  );
}

export interface MfaState {
  version: 1;
  /** role ARN -> the longest DurationSeconds it accepted */
  roleMaxDuration: Record<string, number>;
  /** usedCodeKey(serial, code) -> TOTP window it was used in */
  usedCodes: Record<string, number>;
  /** serialKey(access key id) -> detected MFA serial */
  serials: Record<string, string>;
}

function emptyState(): MfaState {
  return { version: 1, roleMaxDuration: {}, usedCodes: {}, serials: {} };
}

function pickRecord<V>(value: unknown, keep: (v: unknown) => v is V): Record<string, V> {
  const out: Record<string, V> = {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) if (keep(v)) out[k] = v;
  return out;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Keeps whatever parts of a parsed state file are well-formed. */
function normalizeState(value: unknown): MfaState {
  if (typeof value !== "object" || value === null) return emptyState();
  const s = value as Record<string, unknown>;
  if (s.version !== 1) return emptyState();
  return {
    version: 1,
    roleMaxDuration: pickRecord(s.roleMaxDuration, isFiniteNumber),
    usedCodes: pickRecord(s.usedCodes, isFiniteNumber),
    serials: pickRecord(s.serials, isNonEmptyString),
  };
}

function statePath(mfaHome: string): string {
  return `${mfaHome}/state.json`;
}

/** The state file; missing or corrupt reads as an empty state. */
export async function readState(mfaHome: string): Promise<MfaState> {
  try {
    return normalizeState(JSON.parse(await Deno.readTextFile(statePath(mfaHome))));
  } catch {
    return emptyState();
  }
}

const silentLog: Logger = { debug() {}, warn() {}, info() {} };

/**
 * Read-modify-write of the state file under `<mfa home>/state.lock`, so concurrent processes never
 * lose each other's updates. Prunes used-code entries too old to matter. Returns the written state.
 */
export async function updateState(
  mfaHome: string,
  mutate: (state: MfaState) => void | Promise<void>,
  opts: { now?: Date; log?: Logger; timeoutMs?: number } = {},
): Promise<MfaState> {
  try {
    await ensurePrivateDir(mfaHome);
  } catch (err) {
    throw cacheWriteError(mfaHome, err);
  }
  return await withFileLock(
    `${mfaHome}/state.lock`,
    "state file",
    async () => {
      const state = await readState(mfaHome);
      await mutate(state);
      const oldest = totpWindow(opts.now ?? new Date()) - USED_CODE_WINDOWS_KEPT;
      for (const [k, window] of Object.entries(state.usedCodes)) {
        if (window < oldest) delete state.usedCodes[k];
      }
      try {
        await writeFileAtomic(statePath(mfaHome), `${JSON.stringify(state, null, 2)}\n`);
      } catch (err) {
        throw cacheWriteError(mfaHome, err);
      }
      return state;
    },
    opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    opts.log ?? silentLog,
  );
}

async function readDirNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const item of Deno.readDir(dir)) if (item.isFile) names.push(item.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw new MfaError("cache", `cannot read the mfa cache ${dir}: ${errorText(err)}`, {
      cause: err,
    });
  }
  return names.sort();
}

async function readEntryFile(path: string): Promise<CacheEntry | undefined> {
  try {
    const parsed: unknown = JSON.parse(await Deno.readTextFile(path));
    return isCacheEntry(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Every well-formed cache entry, expired ones included; corrupted files are skipped. */
export async function listCacheEntries(
  mfaHome: string,
): Promise<{ key: string; entry: CacheEntry }[]> {
  const dir = cacheDir(mfaHome);
  const out: { key: string; entry: CacheEntry }[] = [];
  for (const name of await readDirNames(dir)) {
    const match = ENTRY_FILE.exec(name);
    if (!match) continue;
    const entry = await readEntryFile(`${dir}/${name}`);
    if (entry) out.push({ key: match[1], entry });
  }
  return out;
}

async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Removes a lock file only while holding it; waiters notice the file is gone and lock the new one. */
async function removeIdleLockFile(path: string): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true });
  } catch {
    return;
  }
  try {
    if (await file.tryLock(true)) await removeIfPresent(path);
  } finally {
    file.close();
  }
}

/**
 * Removes the entries `filter` accepts and returns how many. Without a filter removes everything:
 * corrupted entries, idle lock files and stale temp files too.
 */
export async function clearCache(
  mfaHome: string,
  filter?: (entry: CacheEntry) => boolean,
): Promise<number> {
  const dir = cacheDir(mfaHome);
  let removed = 0;
  try {
    for (const name of await readDirNames(dir)) {
      const path = `${dir}/${name}`;
      if (ENTRY_FILE.test(name)) {
        if (filter) {
          const entry = await readEntryFile(path);
          if (!entry || !filter(entry)) continue;
        }
        if (await removeIfPresent(path)) removed++;
      } else if (!filter && LOCK_FILE.test(name)) {
        await removeIdleLockFile(path);
      } else if (!filter && TEMP_FILE.test(name)) {
        const info = await Deno.stat(path).catch(() => null);
        const age = info?.mtime ? Date.now() - info.mtime.getTime() : 0;
        if (age > STALE_TEMP_MS) await removeIfPresent(path);
      }
    }
  } catch (err) {
    if (err instanceof MfaError) throw err;
    throw new MfaError("cache", `cannot clear the mfa cache ${dir}: ${errorText(err)}`, {
      hint: `check the permissions of ${dir}`,
      cause: err,
    });
  }
  return removed;
}
