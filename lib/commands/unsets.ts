/** `mfa unsets [--format F]`: statements that clear every variable `exports` sets. No AWS files needed. */
import { formatUnsets } from "../format.ts";
import { exportFormatOf } from "./export_format.ts";
import type { CommandRun } from "./types.ts";

export const run: CommandRun = (ctx) =>
  Promise.resolve({ stdout: formatUnsets(exportFormatOf(ctx)) });
