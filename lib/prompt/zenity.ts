/** GNOME/GTK dialogs: `zenity --entry` for a code, `zenity --forms` for setup. */
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
  hasLinuxDesktop,
  keepCurrentWhenEmpty,
  programDriver,
  timedOutError,
  which,
} from "./driver.ts";

/** `--entry --text` goes through g_strcompress (backslash escapes) and a mnemonic label (`_`). */
export function zenityEntryText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/_/g, "__");
}

/** `--forms --text` is Pango markup, also through g_strcompress. Field labels are plain text. */
export function zenityMarkup(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

export function zenityArgs(req: CodePromptRequest): string[] {
  return [
    "zenity",
    "--entry",
    `--title=${DIALOG_TITLE}`,
    `--text=${zenityEntryText(codePromptText(req))}`,
    `--timeout=${DIALOG_TIMEOUT_SECONDS}`,
  ];
}

/** zenity cannot pre-fill form entries: the label shows the current value, empty keeps it. */
export function zenityFormArgs(form: FormRequest): string[] {
  const args = [
    "zenity",
    "--forms",
    `--title=${form.title}`,
    `--text=${zenityMarkup(form.text)}`,
    `--separator=${FIELD_SEPARATOR}`,
    `--timeout=${DIALOG_TIMEOUT_SECONDS}`,
  ];
  for (const field of form.fields) {
    if (field.secret) args.push(`--add-password=${field.label}`);
    else args.push(`--add-entry=${field.value ? `${field.label} [${field.value}]` : field.label}`);
  }
  return args;
}

/** Exit 1 is Cancel/Escape, unless zenity could not even open the display. */
function check(result: { code: number; stderr: string }, what: AskWhat): void {
  if (result.code === 0) return;
  if (result.code === 5) throw timedOutError("zenity");
  if (result.code === 1 && !/cannot open display/i.test(result.stderr)) throw cancelledError(what);
  throw driverFailedError("zenity", result.code, result.stderr);
}

export const zenityDriver: DialogDriver = programDriver({
  name: "zenity",
  available: async (ctx) => hasLinuxDesktop(ctx.env) && !!(await which(ctx, "zenity")),
  codeArgs: zenityArgs,
  formArgs: zenityFormArgs,
  check,
  finishForm: keepCurrentWhenEmpty,
});
