/**
 * `mfa update-profile [--target NAME] [--security-token]`: write the session into a profile of the
 * credentials file, for tools that only read profiles.
 *
 * Target: --target, else NAME when the keys live in [NAME-long-term] (dual-profile), else mfa-NAME.
 * Refused before any code is asked for when the target holds long-term keys. Only the session keys
 * change: aws_access_key_id, aws_secret_access_key, aws_session_token, expiration, and
 * aws_security_token with --security-token; without it, an aws_security_token left from an earlier
 * run is removed (old tools would read that stale token). region and other keys are left alone.
 */
import { checkWritable, readAwsFiles, writeIniSection } from "../aws_files.ts";
import { withKeyLock } from "../cache.ts";
import { MfaError, usageError } from "../errors.ts";
import { sha256Hex } from "../hash.ts";
import { describeExpiry, isoSeconds } from "../format.ts";
import { sectionHeaderFor } from "../ini.ts";
import type { Settings } from "../types.ts";
import type { CommandRun } from "./types.ts";

export function targetProfile(settings: Settings, flag: string | undefined): string {
  if (flag === undefined) {
    return settings.dualProfile ? settings.profile : `mfa-${settings.profile}`;
  }
  if (!flag.trim() || /[\[\]\r\n]/.test(flag) || flag !== flag.trim()) {
    throw usageError(
      `invalid --target ${JSON.stringify(flag)}`,
      "a profile name cannot be empty, contain [ ] or line breaks, or start or end with spaces",
    );
  }
  return flag;
}

/** Throws when writing the session into `target` would overwrite long-term keys. */
async function refuseLongTermTarget(settings: Settings, target: string): Promise<void> {
  const hint = (why: string) =>
    `${why}; write the session elsewhere with --target NAME, or keep the long-term keys in ` +
    `[${target}-long-term] so that [${target}] can hold the session`;
  if (target === settings.sourceProfile) {
    throw new MfaError("write", `refusing to overwrite [${target}]: it holds the long-term keys`, {
      hint: hint(`[${target}] is where mfa reads the long-term keys from`),
    });
  }
  const { credentials } = await readAwsFiles(settings.credentialsFile, settings.configFile);
  const section = credentials.get(target);
  if (section?.aws_access_key_id && !section.aws_session_token) {
    throw new MfaError(
      "write",
      `refusing to overwrite [${target}] in ${settings.credentialsFile}: it holds long-term keys`,
      { hint: hint("it has aws_access_key_id without aws_session_token") },
    );
  }
}

export const run: CommandRun = async (ctx) => {
  const flag = ctx.args.options.target;
  const settings = await ctx.settings();
  const target = targetProfile(settings, typeof flag === "string" ? flag : undefined);
  await refuseLongTermTarget(settings, target);
  // Before a code is spent on a session that could not be written.
  await checkWritable(settings.credentialsFile);

  const creds = await ctx.getCredentials(settings);
  const values = {
    aws_access_key_id: creds.accessKeyId,
    aws_secret_access_key: creds.secretAccessKey,
    aws_session_token: creds.sessionToken,
    expiration: isoSeconds(creds.expiration),
    aws_security_token: ctx.args.options["security-token"] ? creds.sessionToken : null,
  };
  // Two update-profile runs at once would each rewrite the file from what they read: serialize them.
  const fileKey = await sha256Hex(`credentials-file:${settings.credentialsFile}`);
  await withKeyLock(
    settings.mfaHome,
    fileKey,
    () =>
      writeIniSection(settings.credentialsFile, sectionHeaderFor("credentials", target), values),
    { log: ctx.deps.log },
  );
  ctx.deps.log.info(
    `mfa: wrote profile [${target}] in ${settings.credentialsFile}, expires ${
      describeExpiry(creds.expiration, ctx.deps.now())
    }`,
  );
  return {};
};
