/** yad (a zenity fork): `yad --entry` for a code, `yad --form` (pre-filled) for setup. */
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
  programDriver,
  timedOutError,
  which,
} from "./driver.ts";

/** yad's --text is Pango markup and goes through g_strcompress (backslash escapes). */
export function yadText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

export function yadArgs(req: CodePromptRequest): string[] {
  return [
    "yad",
    "--entry",
    `--title=${DIALOG_TITLE}`,
    `--text=${yadText(codePromptText(req))}`,
    `--timeout=${DIALOG_TIMEOUT_SECONDS}`,
    "--center",
    "--on-top",
  ];
}

/**
 * Field labels are `LABEL[:TYPE]` (`:H` hides the text), so a `:` in a label is dropped. Values
 * follow `--`, so one starting with `-` is not read as an option.
 */
export function yadFormArgs(form: FormRequest): string[] {
  const args = [
    "yad",
    "--form",
    `--title=${form.title}`,
    `--text=${yadText(form.text)}`,
    `--separator=${FIELD_SEPARATOR}`,
    `--timeout=${DIALOG_TIMEOUT_SECONDS}`,
    "--center",
    "--on-top",
  ];
  for (const field of form.fields) {
    const label = field.label.replace(/:/g, "");
    args.push(`--field=${field.secret ? `${label}:H` : label}`);
  }
  args.push("--", ...form.fields.map((field) => (field.secret ? "" : field.value ?? "")));
  return args;
}

/** 1 is Cancel, 252 Escape or the window closed, 70 the timeout. */
function check(result: { code: number; stderr: string }, what: AskWhat): void {
  if (result.code === 0) return;
  if (result.code === 70) throw timedOutError("yad");
  if ((result.code === 1 || result.code === 252) && !/cannot open display/i.test(result.stderr)) {
    throw cancelledError(what);
  }
  throw driverFailedError("yad", result.code, result.stderr);
}

export const yadDriver: DialogDriver = programDriver({
  name: "yad",
  available: async (ctx) => hasLinuxDesktop(ctx.env) && !!(await which(ctx, "yad")),
  codeArgs: yadArgs,
  formArgs: yadFormArgs,
  check,
});
