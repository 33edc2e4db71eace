/** `mfa completions SHELL`: print the completion script for SHELL. */
import { COMPLETION_SHELLS, completionScript, isCompletionShell } from "../completions.ts";
import { usageError } from "../errors.ts";
import type { CommandRun } from "./types.ts";

export const run: CommandRun = (ctx) => {
  const shell = ctx.args.positionals[0];
  const shells = COMPLETION_SHELLS.join(", ");
  if (shell === undefined) {
    return Promise.reject(
      usageError(
        "completions needs a shell",
        `usage: mfa completions ${shells.replaceAll(", ", "|")}`,
      ),
    );
  }
  if (!isCompletionShell(shell)) {
    return Promise.reject(
      usageError(`unknown shell ${JSON.stringify(shell)}`, `use one of: ${shells}`),
    );
  }
  return Promise.resolve({ stdout: completionScript(shell) });
};
