import { formatClaudeExport } from "../format.ts";
import type { CommandRun } from "./types.ts";

export const run: CommandRun = async (ctx) => {
  const creds = await ctx.getCredentials(await ctx.settings());
  return { stdout: formatClaudeExport(creds) };
};
