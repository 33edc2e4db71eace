import { detectExportFormat, type ExportFormat, formatExports } from "../format.ts";
import type { CommandRun } from "./types.ts";

export const run: CommandRun = async (ctx) => {
  const format = (ctx.args.options.format as ExportFormat | undefined) ??
    detectExportFormat(ctx.env);
  const creds = await ctx.getCredentials(await ctx.settings());
  return { stdout: formatExports(creds, format) };
};
