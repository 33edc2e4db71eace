/** `mfa shell [--force]`: start the user's shell with the session; exit with its code. */
import { MfaError } from "../errors.ts";
import type { Deps, Env } from "../types.ts";
import { describeExpiry } from "../format.ts";
import { sessionEnv } from "./exec.ts";
import type { CommandRun } from "./types.ts";

/** Shells to try, in order: $SHELL; on Windows PowerShell 7, Windows PowerShell, %COMSPEC%. */
export function shellCandidates(env: Env, os: Deps["os"]): string[] {
  if (env.SHELL) return [env.SHELL];
  if (os === "windows") return ["pwsh.exe", "powershell.exe", env.COMSPEC || "cmd.exe"];
  return ["/bin/sh"];
}

export const run: CommandRun = async (ctx) => {
  const inside = ctx.env.AWS_MFA_SHELL;
  if (inside && !ctx.args.options.force) {
    throw new MfaError("nested-shell", `already inside an mfa shell (profile ${inside})`, {
      hint: "exit the current mfa shell first, or pass --force",
    });
  }
  const settings = await ctx.settings();
  const creds = await ctx.getCredentials(settings);
  const env = { ...sessionEnv(ctx.env, creds), AWS_MFA_SHELL: settings.profile };
  const candidates = shellCandidates(ctx.env, ctx.deps.os);
  for (const [index, shell] of candidates.entries()) {
    ctx.deps.log.info(
      `mfa: starting ${shell} with ${settings.profile} credentials, expires ${
        describeExpiry(creds.expiration, ctx.deps.now())
      }`,
    );
    try {
      const result = await ctx.deps.spawnChild([shell], env);
      return { exitCode: result.code };
    } catch (err) {
      const notFound = err instanceof MfaError && err.exitCode === 127;
      if (!notFound || index === candidates.length - 1) throw err;
    }
  }
  throw new MfaError("internal", "no shell to start"); // unreachable: candidates is never empty
};
