/**
 * macOS: `display dialog` through osascript. The user's text reaches AppleScript as `argv` items,
 * never spliced into the script, so no quoting can break out of it. The first argv item is always
 * our fixed title: osascript's option parsing stops there, so a text starting with `-` is safe.
 */
import type { CodePromptRequest } from "../types.ts";
import {
  type AskWhat,
  cancelledError,
  codePromptText,
  DIALOG_TIMEOUT_SECONDS,
  DIALOG_TITLE,
  type DialogDriver,
  driverFailedError,
  FIELD_SEPARATOR,
  type FormRequest,
  programDriver,
  timedOutError,
  which,
} from "./driver.ts";

/** -1712 is AppleScript's own "timed out" error number; we raise it when the dialog gave up. */
const GAVE_UP = -1712;

/**
 * The code is typed visibly: it is useless 30 s later, and seeing it avoids typos. `activate`
 * brings the dialog in front when the caller is a background process (Claude Code, an SDK).
 */
const CODE_SCRIPT = [
  "on run argv",
  "activate",
  `set r to display dialog (item 2 of argv) with title (item 1 of argv) default answer "" ` +
  `buttons {"Cancel", "OK"} default button "OK" cancel button "Cancel" ` +
  `giving up after ${DIALOG_TIMEOUT_SECONDS}`,
  `if gave up of r then error "no answer" number ${GAVE_UP}`,
  "return text returned of r",
  "end run",
];

/** argv: title, text, then (label, default, "1" when secret) per field. Answers joined by US. */
const FORM_SCRIPT = [
  "on run argv",
  "activate",
  "set answers to {}",
  "set i to 3",
  "repeat while i is less than or equal to (count of argv)",
  "set theText to (item 2 of argv) & return & return & (item i of argv)",
  `if item (i + 2) of argv is "1" then`,
  `set r to display dialog theText with title (item 1 of argv) default answer "" ` +
  `with hidden answer buttons {"Cancel", "OK"} default button "OK" cancel button "Cancel" ` +
  `giving up after ${DIALOG_TIMEOUT_SECONDS}`,
  "else",
  `set r to display dialog theText with title (item 1 of argv) default answer ` +
  `(item (i + 1) of argv) buttons {"Cancel", "OK"} default button "OK" cancel button "Cancel" ` +
  `giving up after ${DIALOG_TIMEOUT_SECONDS}`,
  "end if",
  `if gave up of r then error "no answer" number ${GAVE_UP}`,
  "set end of answers to text returned of r",
  "set i to i + 3",
  "end repeat",
  `set AppleScript's text item delimiters to (character id ${FIELD_SEPARATOR.charCodeAt(0)})`,
  "return answers as text",
  "end run",
];

function scriptArgs(lines: string[]): string[] {
  return lines.flatMap((line) => ["-e", line]);
}

export function osascriptArgs(req: CodePromptRequest): string[] {
  return ["osascript", ...scriptArgs(CODE_SCRIPT), DIALOG_TITLE, codePromptText(req)];
}

export function osascriptFormArgs(form: FormRequest): string[] {
  const fieldArgs = form.fields.flatMap((f) => [
    f.label,
    f.secret ? "" : f.value ?? "",
    f.secret ? "1" : "0",
  ]);
  return ["osascript", ...scriptArgs(FORM_SCRIPT), form.title, form.text, ...fieldArgs];
}

/** osascript exits 1 for every script error; the number in stderr says which. */
function check(result: { code: number; stderr: string }, what: AskWhat): void {
  if (result.code === 0) return;
  if (/\(-128\)/.test(result.stderr)) throw cancelledError(what);
  if (result.stderr.includes(`(${GAVE_UP})`)) throw timedOutError("osascript");
  throw driverFailedError("osascript", result.code, result.stderr);
}

/** Over SSH a dialog would pop up on someone's screen, or fail: only for a local session. */
export const osascriptDriver: DialogDriver = programDriver({
  name: "osascript",
  available: async (ctx) =>
    ctx.os === "darwin" && !ctx.env.SSH_CONNECTION && !ctx.env.SSH_TTY &&
    !!(await which(ctx, "osascript")),
  codeArgs: osascriptArgs,
  formArgs: osascriptFormArgs,
  check,
});
