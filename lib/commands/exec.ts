/** `mfa exec [options] -- CMD [ARGS...]`: run one command with the session; exit with its code. */
import { usageError } from "../errors.ts";
import { credentialVariables } from "../format.ts";
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
  for (const [name, value] of credentialVariables(creds)) out[name] = value;
  return out;
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
