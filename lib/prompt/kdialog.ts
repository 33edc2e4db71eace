/** KDE dialogs: `kdialog --inputbox` for a code, one box per field for setup. */
import type { CodePromptRequest } from "../types.ts";
import {
  type AskWhat,
  cancelledError,
  codePromptText,
  DIALOG_RUN_TIMEOUT_MS,
  DIALOG_TITLE,
  type DialogDriver,
  driverFailedError,
  type FormAnswers,
  hasLinuxDesktop,
  stripFinalNewline,
  which,
} from "./driver.ts";

/**
 * Qt guesses whether a label is rich text from what it looks like, so text with `<` could render
 * as HTML: such text is escaped and marked as rich text explicitly; anything else stays plain.
 */
export function kdialogText(text: string): string {
  if (!/[<>&]/.test(text)) return text;
  const html = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<qt>${html.replace(/\r?\n/g, "<br>")}</qt>`;
}

export function kdialogArgs(req: CodePromptRequest): string[] {
  return ["kdialog", `--title=${DIALOG_TITLE}`, "--inputbox", kdialogText(codePromptText(req)), ""];
}

/** One field's box. A default starting with `-` would be read as an option: shown in the label instead. */
export function kdialogFieldArgs(
  title: string,
  text: string,
  field: { label: string; value?: string; secret?: boolean },
): string[] {
  const value = field.value ?? "";
  if (field.secret) {
    return ["kdialog", `--title=${title}`, "--password", kdialogText(`${text}\n\n${field.label}`)];
  }
  const safe = !value.startsWith("-");
  const label = safe || !value ? field.label : `${field.label} [${value}] (empty: keep)`;
  return [
    "kdialog",
    `--title=${title}`,
    "--inputbox",
    kdialogText(`${text}\n\n${label}`),
    safe ? value : "",
  ];
}

async function ask(
  argv: string[],
  ctx: Parameters<DialogDriver["askCode"]>[1],
  what: AskWhat,
): Promise<string> {
  const result = await ctx.run(argv, { timeoutMs: DIALOG_RUN_TIMEOUT_MS });
  if (result.code === 1) throw cancelledError(what);
  if (result.code !== 0) throw driverFailedError("kdialog", result.code, result.stderr);
  return stripFinalNewline(result.stdout);
}

export const kdialogDriver: DialogDriver = {
  name: "kdialog",
  kind: "gui",
  available: async (ctx) => hasLinuxDesktop(ctx.env) && !!(await which(ctx, "kdialog")),
  askCode: (req, ctx) => ask(kdialogArgs(req), ctx, "code"),
  async askForm(form, ctx) {
    const answers: FormAnswers = {};
    for (const field of form.fields) {
      const answer = await ask(kdialogFieldArgs(form.title, form.text, field), ctx, "form");
      answers[field.key] = answer === "" && field.value?.startsWith("-") ? field.value : answer;
    }
    return answers;
  },
};
