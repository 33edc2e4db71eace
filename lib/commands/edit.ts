/** `mfa edit`: open the AWS config file in $VISUAL, $EDITOR or vi, and exit with the editor's code. */
import { MfaError } from "../errors.ts";
import { resolvePaths } from "../settings.ts";
import type { Env } from "../types.ts";
import type { CommandRun } from "./types.ts";

/**
 * Splits an editor setting into argv: whitespace separates, "double" or 'single' quotes group
 * (`"C:\Program Files\Notepad++\notepad++.exe" -multiInst`). Backslashes stay literal (Windows).
 */
export function splitCommandLine(command: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | undefined;
  for (const ch of command) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** $VISUAL, then $EDITOR, then vi (notepad on Windows). */
export function editorArgv(env: Env, os: string): string[] {
  for (const name of ["VISUAL", "EDITOR"]) {
    const argv = splitCommandLine(env[name] ?? "");
    if (argv.length) return argv;
  }
  return [os === "windows" ? "notepad" : "vi"];
}

function parentDir(path: string): string | undefined {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut > 0 ? path.slice(0, cut) : undefined;
}

export const run: CommandRun = async (ctx) => {
  const { configFile } = resolvePaths(ctx.args.options, ctx.env, ctx.deps.home, "edit");
  const dir = parentDir(configFile);
  if (dir) {
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new MfaError("write", `cannot create ${dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  const argv = [...editorArgv(ctx.env, ctx.deps.os), configFile];
  ctx.deps.log.debug(`running ${argv[0]}`);
  const result = await ctx.deps.spawnChild(argv, ctx.env);
  return { exitCode: result.code };
};
