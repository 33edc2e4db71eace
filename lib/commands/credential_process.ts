/** `mfa credential-process`: the JSON object the AWS SDKs and CLI read from `credential_process`. */
import { formatCredentialProcess } from "../format.ts";
import type { CommandRun } from "./types.ts";

export const run: CommandRun = async (ctx) => {
  const settings = await ctx.settings();
  const creds = await ctx.getCredentials(settings);
  return { stdout: formatCredentialProcess(creds) };
};
