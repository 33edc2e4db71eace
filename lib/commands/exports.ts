import { formatExports } from "../format.ts";
import { exportFormatOf } from "./export_format.ts";
import type { CommandRun } from "./types.ts";

export const run: CommandRun = async (ctx) => {
  const format = exportFormatOf(ctx);
  const creds = await ctx.getCredentials(await ctx.settings());
  return { stdout: formatExports(creds, format) };
};
