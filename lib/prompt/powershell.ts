/**
 * Windows: a small WinForms dialog run by PowerShell. The script travels as -EncodedCommand
 * (UTF-16LE base64), so nothing in it meets cmd.exe or argv quoting; the user's text sits in
 * single-quoted PowerShell literals.
 */
import type { CodePromptRequest } from "../types.ts";
import {
  type AskWhat,
  cancelledError,
  codePromptText,
  DIALOG_RUN_TIMEOUT_MS,
  DIALOG_TIMEOUT_SECONDS,
  DIALOG_TITLE,
  type DialogDriver,
  driverFailedError,
  type FormAnswers,
  type FormRequest,
  stripFinalNewline,
  timedOutError,
  which,
} from "./driver.ts";

/** Not 1: PowerShell itself exits 1 when the script fails, which must not read as a cancel. */
const CANCELLED_EXIT = 10;
const TIMED_OUT_EXIT = 11;

/** A PowerShell single-quoted literal. PowerShell also takes the curly quotes ‘ ’ ‚ ‛ as quotes. */
export function psQuote(text: string): string {
  return `'${text.replace(/['\u2018\u2019\u201A\u201B]/g, "$&$&")}'`;
}

/** -EncodedCommand wants base64 of the UTF-16LE bytes. */
export function encodePowerShell(script: string): string {
  const bytes = new Uint8Array(script.length * 2);
  for (let i = 0; i < script.length; i++) {
    const unit = script.charCodeAt(i);
    bytes[2 * i] = unit & 0xff;
    bytes[2 * i + 1] = unit >> 8;
  }
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

interface PsField {
  label: string;
  value: string;
  secret: boolean;
}

/**
 * A form with one text box per field, OK/Cancel, topmost, closing itself after the timeout.
 * Labels have UseMnemonic off, or an `&` in the text would turn into an underline.
 * Prints the boxes' texts as a JSON array (UTF-8, no BOM); distinct exit codes for cancel and timeout.
 */
export function powershellFormScript(title: string, text: string, fields: PsField[]): string {
  const rows = fields.map((f, i) =>
    [
      `$l = New-Object System.Windows.Forms.Label; $l.Text = ${psQuote(f.label)}; ` +
      `$l.AutoSize = $true; $l.UseMnemonic = $false; $panel.Controls.Add($l)`,
      `$b = New-Object System.Windows.Forms.TextBox; $b.Width = 420; ` +
      `$b.Text = ${psQuote(f.value)}; $b.UseSystemPasswordChar = $${f.secret}; ` +
      `$panel.Controls.Add($b); $boxes += $b`,
      i === 0 ? "$first = $b" : "",
    ].filter(Boolean).join("\n")
  );
  return [
    "$ErrorActionPreference = 'Stop'",
    "[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false",
    "Add-Type -AssemblyName System.Windows.Forms, System.Drawing",
    "[System.Windows.Forms.Application]::EnableVisualStyles()",
    "$form = New-Object System.Windows.Forms.Form",
    `$form.Text = ${psQuote(title)}`,
    "$form.TopMost = $true; $form.StartPosition = 'CenterScreen'",
    "$form.FormBorderStyle = 'FixedDialog'; $form.MaximizeBox = $false; $form.MinimizeBox = $false",
    "$form.AutoSize = $true; $form.AutoSizeMode = 'GrowAndShrink'",
    "$panel = New-Object System.Windows.Forms.FlowLayoutPanel",
    "$panel.FlowDirection = 'TopDown'; $panel.AutoSize = $true; $panel.WrapContents = $false",
    "$panel.Padding = New-Object System.Windows.Forms.Padding(10)",
    "$form.Controls.Add($panel)",
    `$intro = New-Object System.Windows.Forms.Label; $intro.Text = ${psQuote(text)}`,
    "$intro.AutoSize = $true; $intro.UseMnemonic = $false",
    "$intro.MaximumSize = New-Object System.Drawing.Size(420, 0)",
    "$panel.Controls.Add($intro)",
    "$boxes = @()",
    ...rows,
    "$buttons = New-Object System.Windows.Forms.FlowLayoutPanel",
    "$buttons.AutoSize = $true; $buttons.FlowDirection = 'RightToLeft'; $buttons.Width = 420",
    "$cancel = New-Object System.Windows.Forms.Button; $cancel.Text = 'Cancel'",
    "$cancel.DialogResult = [System.Windows.Forms.DialogResult]::Cancel",
    "$ok = New-Object System.Windows.Forms.Button; $ok.Text = 'OK'",
    "$ok.DialogResult = [System.Windows.Forms.DialogResult]::OK",
    "$buttons.Controls.Add($cancel); $buttons.Controls.Add($ok); $panel.Controls.Add($buttons)",
    "$form.AcceptButton = $ok; $form.CancelButton = $cancel",
    "$timer = New-Object System.Windows.Forms.Timer",
    `$timer.Interval = ${DIALOG_TIMEOUT_SECONDS * 1000}`,
    "$timer.Add_Tick({ $timer.Stop(); $form.Tag = 'timeout'; $form.Close() })",
    "$form.Add_Shown({ $form.Activate(); $first.Focus(); $timer.Start() })",
    "$result = $form.ShowDialog()",
    `if ($form.Tag -eq 'timeout') { exit ${TIMED_OUT_EXIT} }`,
    `if ($result -ne [System.Windows.Forms.DialogResult]::OK) { exit ${CANCELLED_EXIT} }`,
    "[Console]::Out.Write((ConvertTo-Json -Compress -InputObject @($boxes | ForEach-Object { $_.Text })))",
    "exit 0",
  ].join("\n");
}

function argv(script: string): string[] {
  return [
    "powershell.exe",
    "-NoProfile",
    "-NonInteractive",
    "-STA",
    "-EncodedCommand",
    encodePowerShell(script),
  ];
}

export function powershellArgs(req: CodePromptRequest): string[] {
  return argv(
    powershellFormScript(DIALOG_TITLE, codePromptText(req), [
      { label: "Code", value: "", secret: false },
    ]),
  );
}

export function powershellFormArgs(form: FormRequest): string[] {
  const fields = form.fields.map((f) => ({
    label: f.label,
    value: f.secret ? "" : f.value ?? "",
    secret: f.secret ?? false,
  }));
  return argv(powershellFormScript(form.title, form.text, fields));
}

/** The JSON array of texts the script prints. */
export function parsePowerShellAnswers(stdout: string, count: number): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.replace(/^\uFEFF/, "").trim() || "[]");
  } catch {
    parsed = undefined;
  }
  // ConvertTo-Json prints a one-element array as a bare string.
  const values = typeof parsed === "string" ? [parsed] : parsed;
  if (!Array.isArray(values) || values.length !== count) {
    throw driverFailedError("powershell", 0, "unexpected output from the dialog script");
  }
  return values.map((v) => (typeof v === "string" ? v : ""));
}

async function show(
  args: string[],
  count: number,
  ctx: Parameters<DialogDriver["askCode"]>[1],
  what: AskWhat,
): Promise<string[]> {
  const result = await ctx.run(args, { timeoutMs: DIALOG_RUN_TIMEOUT_MS });
  if (result.code === CANCELLED_EXIT) throw cancelledError(what);
  if (result.code === TIMED_OUT_EXIT) throw timedOutError("PowerShell");
  if (result.code !== 0) throw driverFailedError("powershell", result.code, result.stderr);
  return parsePowerShellAnswers(stripFinalNewline(result.stdout), count);
}

export const powershellDriver: DialogDriver = {
  name: "powershell",
  kind: "gui",
  available: async (ctx) => ctx.os === "windows" && !!(await which(ctx, "powershell.exe")),
  async askCode(req, ctx) {
    const [code] = await show(powershellArgs(req), 1, ctx, "code");
    return code;
  },
  async askForm(form, ctx) {
    const values = await show(powershellFormArgs(form), form.fields.length, ctx, "form");
    const answers: FormAnswers = {};
    form.fields.forEach((f, i) => answers[f.key] = values[i]);
    return answers;
  },
};
