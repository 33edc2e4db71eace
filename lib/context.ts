/** Builds what every command gets: parsed args, environment, deps, and lazy settings/credentials. */
import { readAwsFiles } from "./aws_files.ts";
import type { ParsedArgs } from "./cli.ts";
import type { CommandContext } from "./commands/types.ts";
import { getCredentials } from "./credentials.ts";
import { MfaError } from "./errors.ts";
import { resolvePaths, resolveSettings } from "./settings.ts";
import type { Deps, Env, Settings } from "./types.ts";

export async function loadSettings(args: ParsedArgs, env: Env, deps: Deps): Promise<Settings> {
  if (!deps.home) {
    throw new MfaError("config", "cannot find your home directory (HOME is not set)", {
      hint: "set HOME, or pass --credentials-file and --config-file",
    });
  }
  const paths = resolvePaths(args.options, env, deps.home, args.command);
  if (paths.credentialsFileIgnored) {
    deps.log.debug(
      `AWS_SHARED_CREDENTIALS_FILE=/dev/null ignored for claude-export; reading ${paths.credentialsFile}`,
    );
  }
  const files = await readAwsFiles(paths.credentialsFile, paths.configFile);
  return resolveSettings(args.options, env, files, paths);
}

export function createContext(
  args: ParsedArgs,
  env: Env,
  deps: Deps,
  version: string,
): CommandContext {
  let settings: Promise<Settings> | undefined;
  return {
    args,
    env,
    deps,
    version,
    settings: () => (settings ??= loadSettings(args, env, deps)),
    getCredentials: (s) => getCredentials(s, deps),
  };
}
