/**
 * Reading and writing the AWS shared files. Reading is on the cache-hit path: it imports only the
 * INI code, the error type and the (tiny) temp-file registry. Writing is atomic: temp file in the same directory, fsync, rename.
 */
import { MfaError } from "./errors.ts";
import { type IniProfiles, parseAwsIni, setIniSection } from "./ini.ts";
import { trackTempFile, untrackTempFile } from "./temp_files.ts";

export interface AwsFiles {
  credentials: IniProfiles;
  config: IniProfiles;
}

function reason(err: unknown): string {
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.IsADirectory) return "it is a directory";
  return err instanceof Error ? err.message : String(err);
}

/** The file's text, or undefined when it does not exist. Throws the raw Deno error otherwise. */
async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

async function readProfiles(
  path: string,
  kind: "config" | "credentials",
): Promise<IniProfiles> {
  let text: string | undefined;
  try {
    text = await readIfExists(path);
  } catch (err) {
    throw new MfaError("config", `cannot read ${path}: ${reason(err)}`, {
      hint: `check that ${path} is a readable file (or point --${
        kind === "config" ? "config-file" : "credentials-file"
      } elsewhere)`,
      cause: err,
    });
  }
  return text === undefined ? new Map() : parseAwsIni(text, path, kind);
}

/** Both AWS files as profile name -> keys. A missing file is an empty map. */
export async function readAwsFiles(credentialsFile: string, configFile: string): Promise<AwsFiles> {
  const [credentials, config] = await Promise.all([
    readProfiles(credentialsFile, "credentials"),
    readProfiles(configFile, "config"),
  ]);
  return { credentials, config };
}

class NotAFile extends Error {}

export interface WriteOptions {
  /** Tests only: called after the temp file is written and synced, before the rename. */
  testHooks?: { afterTempWrite?: () => Promise<void> };
}

function dirAndBase(path: string): { dir: string; base: string } {
  const cut = Math.max(
    path.lastIndexOf("/"),
    Deno.build.os === "windows" ? path.lastIndexOf("\\") : -1,
  );
  return cut < 0
    ? { dir: ".", base: path }
    : { dir: path.slice(0, cut) || "/", base: path.slice(cut + 1) };
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function writeError(path: string, what: string, err?: unknown): MfaError {
  return new MfaError("write", `cannot write ${path}: ${what}`, {
    hint:
      "check the file's and its directory's permissions, or choose another file with --credentials-file",
    cause: err,
  });
}

/** The file to write (through a symlink), its current text and mode; refuses what is not a file. */
async function resolveTarget(
  path: string,
): Promise<{ target: string; oldText: string | undefined; mode: number | null }> {
  try {
    const oldText = await readIfExists(path);
    if (oldText === undefined) return { target: path, oldText, mode: 0o600 };
    const target = await Deno.realPath(path);
    const info = await Deno.stat(target);
    // Renaming over /dev/null or a FIFO would replace the device, not write into it.
    if (!info.isFile) throw new NotAFile();
    return { target, oldText, mode: info.mode === null ? null : info.mode & 0o7777 };
  } catch (err) {
    if (err instanceof NotAFile) throw writeError(path, "it is not a regular file");
    throw writeError(path, `cannot read it: ${reason(err)}`, err);
  }
}

/**
 * Fails as writeIniSection would, without changing anything: update-profile checks before it spends
 * an MFA code on a session it could not write.
 */
export async function checkWritable(path: string): Promise<void> {
  const { target } = await resolveTarget(path);
  const { dir, base } = dirAndBase(target);
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new NotAFile();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return; // created on write
    throw writeError(path, `${dir} is not a usable directory`, err);
  }
  const probe = `${dir}/.${base}.mfa-tmp-${randomSuffix()}`;
  trackTempFile(probe);
  try {
    (await Deno.open(probe, { write: true, createNew: true, mode: 0o600 })).close();
    await Deno.remove(probe);
  } catch (err) {
    await Deno.remove(probe).catch(() => {});
    throw writeError(path, reason(err), err);
  } finally {
    untrackTempFile(probe);
  }
}

/**
 * Sets keys of `[header]` in the INI file at `path` (see setIniSection), atomically: a crash leaves
 * the old or the new file. A symlinked file is written through the link. A new file is 0600 (its
 * directory 0700); an existing file keeps its mode.
 */
export async function writeIniSection(
  path: string,
  header: string,
  values: Record<string, string | null>,
  opts: WriteOptions = {},
): Promise<void> {
  const fail = (what: string, err?: unknown) => writeError(path, what, err);
  const { target, oldText, mode } = await resolveTarget(path);
  const newText = setIniSection(oldText ?? "", header, values);
  if (newText === oldText) return;

  const { dir, base } = dirAndBase(target);
  if (oldText === undefined) {
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fail(`cannot create ${dir}: ${reason(err)}`, err);
    }
  }
  const temp = `${dir}/.${base}.mfa-tmp-${randomSuffix()}`;
  trackTempFile(temp); // Ctrl-C removes it (main.ts)
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode: mode ?? 0o600 });
    try {
      const bytes = new TextEncoder().encode(newText);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    // The create mode went through the umask; set the exact one.
    if (mode !== null && Deno.build.os !== "windows") await Deno.chmod(temp, mode);
    await opts.testHooks?.afterTempWrite?.();
    await Deno.rename(temp, target);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw fail(reason(err), err);
  } finally {
    untrackTempFile(temp);
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable (POSIX); best effort. */
async function syncDirectory(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the data itself is already synced.
  }
}
