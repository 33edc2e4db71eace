import { detectExportFormat, type ExportFormat } from "../format.ts";
import type { CommandContext } from "./types.ts";

/** --format, else the shell that will read the output (looked up only when no --format was given). */
export function exportFormatOf(ctx: CommandContext): ExportFormat {
  const chosen = ctx.args.options.format as ExportFormat | undefined;
  return chosen ??
    detectExportFormat(ctx.env, { os: ctx.deps.os, parentProcess: ctx.deps.parentProcess() });
}
