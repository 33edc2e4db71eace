import { formatClaudeExport } from "../format.ts";
import type { CommandRun } from "./types.ts";

export const run: CommandRun = async (ctx) => {
  let settings = await ctx.settings();
  if (!settings.profileFound) {
    // First run: nothing configured and a desktop at hand → the setup form (loaded only then).
    const { firstRunSettings } = await import("./setup.ts");
    settings = (await firstRunSettings(ctx, settings)) ?? settings;
  }
  const creds = await ctx.getCredentials(settings);
  return { stdout: formatClaudeExport(creds) };
};
