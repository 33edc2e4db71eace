/** `mfa exec [options] -- CMD [ARGS...]`: run one command with the session; exit with its code. */
import { usageError } from "../errors.ts";
import { isoSeconds } from "../format.ts";
import type { Credentials, Env } from "../types.ts";
import type { CommandRun } from "./types.ts";

/**
 * The child's environment: the current one with the session's variables. AWS_PROFILE and
 * AWS_DEFAULT_PROFILE go (the CLI would otherwise prefer the profile's long-term keys), and so does
 * AWS_SECURITY_TOKEN (a stale token that old tools read instead of AWS_SESSION_TOKEN).
 */
export function sessionEnv(env: Env, creds: Credentials): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  delete out.AWS_PROFILE;
  delete out.AWS_DEFAULT_PROFILE;
  delete out.AWS_SECURITY_TOKEN;
  out.AWS_ACCESS_KEY_ID = creds.accessKeyId;
  out.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
  out.AWS_SESSION_TOKEN = creds.sessionToken;
  out.AWS_CREDENTIAL_EXPIRATION = isoSeconds(creds.expiration);
  if (creds.region) out.AWS_REGION = out.AWS_DEFAULT_REGION = creds.region;
  return out;
}

/** "20:00 (in 11h 59m)": local clock time and time left, for stderr notes. */
export function describeExpiry(expiration: Date, now: Date): string {
  const clock = `${String(expiration.getHours()).padStart(2, "0")}:${
    String(expiration.getMinutes()).padStart(2, "0")
  }`;
  const minutes = Math.max(0, Math.floor((expiration.getTime() - now.getTime()) / 60_000));
  const left = minutes >= 60 ? `${Math.floor(minutes / 60)}h ${minutes % 60}m` : `${minutes}m`;
  return `${clock} (in ${left})`;
}

export const run: CommandRun = async (ctx) => {
  const argv = ctx.args.positionals;
  if (argv.length === 0) {
    throw usageError("exec needs a command after --", "usage: mfa exec [options] -- CMD [ARGS...]");
  }
  const settings = await ctx.settings();
  if (!settings.hasMfaSettings) {
    ctx.deps.log.debug(
      `profile ${settings.profile} has no MFA settings; running ${
        argv[0]
      } with the current environment`,
    );
    const passed = await ctx.deps.spawnChild(argv, ctx.env);
    return { exitCode: passed.code };
  }
  const creds = await ctx.getCredentials(settings);
  const result = await ctx.deps.spawnChild(argv, sessionEnv(ctx.env, creds));
  return { exitCode: result.code };
};
