/**
 * `mfa clear [--all]`: removes this profile's cached sessions, or every one. `--all` reads only the
 * mfa home, so it works even when the AWS files are broken.
 */
import { type CacheEntry, clearCache } from "../cache.ts";
import { MfaError } from "../errors.ts";
import { resolvePaths, resolveProfileName } from "../settings.ts";
import type { CommandRun } from "./types.ts";

function sessions(count: number): string {
  return count === 1 ? "1 cached session" : `${count} cached sessions`;
}

export const run: CommandRun = async (ctx) => {
  const { mfaHome } = resolvePaths(ctx.args.options, ctx.env, ctx.deps.home, "clear");
  if (ctx.args.options.all === true) {
    const count = await clearCache(mfaHome);
    ctx.deps.log.info(`removed ${sessions(count)}`);
    return {};
  }
  const { name: profile } = resolveProfileName(ctx.args.options, ctx.env);
  // A role profile's base MFA session (cached under its source profile) counts as its own; other
  // profiles' role sessions made from the same keys stay.
  const names = new Set([profile]);
  try {
    names.add((await ctx.settings()).sourceProfile);
  } catch (err) {
    // Broken or missing AWS files must not stop a clear: the profile name alone still matches.
    if (!(err instanceof MfaError) || err.kind === "usage") throw err;
    ctx.deps.log.debug(`clearing by profile name only: ${err.message}`);
  }
  const count = await clearCache(mfaHome, (e: CacheEntry) => names.has(e.profile));
  ctx.deps.log.info(`removed ${sessions(count)} for profile ${profile}`);
  return {};
};
