import type { ParsedArgs } from "../cli.ts";
import type { Credentials, Deps, Env, Settings } from "../types.ts";

export interface CommandContext {
  args: ParsedArgs;
  env: Env;
  deps: Deps;
  /** Flags + environment + AWS files → Settings (lazy: not every command needs them). */
  settings(): Promise<Settings>;
  /** The core: Settings → Credentials (cache, lock, code, STS). */
  getCredentials(settings: Settings): Promise<Credentials>;
  version: string;
}

export interface CommandResult {
  /** Exactly what goes to stdout. */
  stdout?: string;
  exitCode?: number;
}

export type CommandRun = (ctx: CommandContext) => Promise<CommandResult>;
