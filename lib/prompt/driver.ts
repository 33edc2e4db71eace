/**
 * The one shape every prompt driver has (terminal, osascript, zenity, kdialog, yad, PowerShell):
 * can it run here, ask for a code, ask for a setup form. Drivers are plain objects; the list and its
 * order are built in index.ts.
 */
import { MfaError } from "../errors.ts";
import type { CodePromptRequest, Deps, Env, Logger } from "../types.ts";

/** What a driver may touch. `which` and `openTty` default to the real PATH and /dev/tty. */
export interface PromptContext {
  env: Env;
  os: Deps["os"];
  run: Deps["run"];
  hasTerminal: () => boolean;
  log: Logger;
  /** Full path of an executable on PATH, or undefined. Tests pass a fake. */
  which?: (name: string) => Promise<string | undefined>;
  /** Opens the controlling terminal. Tests pass a fake. */
  openTty?: () => Tty;
}

/** The controlling terminal (/dev/tty; Windows CONIN$/CONOUT$), never stdin/stdout. */
export interface Tty {
  write(text: string): void;
  /**
   * Shows `prompt`, then reads one line without its newline; null at end of input (Ctrl-D).
   * Hidden: no echo (switched off before the prompt appears, so nothing typed shows), ^C cancels.
   */
  readLine(opts?: { prompt?: string; hidden?: boolean }): Promise<string | null>;
  close(): void;
}

export interface FormField {
  key: string;
  label: string;
  /** Current value, shown pre-filled (never set for a secret: it would end up in argv). */
  value?: string;
  /** Typed without echo, never pre-filled; the label says what an empty answer means. */
  secret?: boolean;
}

export interface FormRequest {
  title: string;
  /** Shown above the fields (may hold an error from the last try). */
  text: string;
  fields: FormField[];
}

/** Answers by field key. A driver that cannot pre-fill returns the field's value for an empty answer. */
export type FormAnswers = Record<string, string>;

export interface DialogDriver {
  name: string;
  kind: "terminal" | "gui";
  available(ctx: PromptContext): boolean | Promise<boolean>;
  /** The raw answer. Throws MfaError("cancelled") when the user cancels, MfaError("code") when it cannot run. */
  askCode(req: CodePromptRequest, ctx: PromptContext): Promise<string>;
  askForm(form: FormRequest, ctx: PromptContext): Promise<FormAnswers>;
}

export const DIALOG_TITLE = "mfa";
/** A dialog nobody answers gives up after this long (the dialog's own timer; run() kills a bit later). */
export const DIALOG_TIMEOUT_SECONDS = 300;
export const DIALOG_RUN_TIMEOUT_MS = (DIALOG_TIMEOUT_SECONDS + 15) * 1000;
/** ASCII unit separator: cannot be typed into a form field, so it splits form answers safely. */
export const FIELD_SEPARATOR = "\x1f";

/** The text of a code dialog: the retry note (when any) above the request. */
export function codePromptText(req: CodePromptRequest): string {
  return req.retryNote ? `${req.retryNote}\n\n${req.message}` : req.message;
}

/** What the user was doing, for the cancel message: the code prompt or the setup form. */
export type AskWhat = "code" | "form";

export function cancelledError(what: AskWhat = "code"): MfaError {
  return new MfaError(
    "cancelled",
    what === "code" ? "MFA code entry was cancelled" : "setup was cancelled",
  );
}

export function timedOutError(driver: string): MfaError {
  return new MfaError(
    "code",
    `no answer in the ${driver} dialog within ${DIALOG_TIMEOUT_SECONDS / 60} minutes`,
    {
      hint: "run the command again and enter the code, or pass --code 123456",
    },
  );
}

/** The dialog program could not run or failed (no display, crashed): index.ts tries the next driver. */
export class DriverFailedError extends MfaError {
  constructor(message: string, cause?: unknown) {
    super("code", message, { cause });
  }
}

export function driverFailedError(driver: string, code: number, stderr: string): DriverFailedError {
  const detail = stderr.trim().split(/\r?\n/).find((line) => line.trim() !== "");
  return new DriverFailedError(
    `${driver} failed (exit ${code}${detail ? `: ${detail.trim().slice(0, 160)}` : ""})`,
  );
}

/** Dialogs print the answer followed by a newline. */
export function stripFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}

/** Splits a form answer printed as values joined by `separator` into answers by field key. */
export function splitFormAnswer(
  output: string,
  fields: FormField[],
  separator = FIELD_SEPARATOR,
): FormAnswers {
  const parts = stripFinalNewline(output).split(separator);
  const answers: FormAnswers = {};
  fields.forEach((field, i) => answers[field.key] = parts[i] ?? "");
  return answers;
}

/** For drivers that cannot pre-fill a field: an empty answer means "keep the current value". */
export function keepCurrentWhenEmpty(answers: FormAnswers, fields: FormField[]): FormAnswers {
  const out: FormAnswers = {};
  for (const field of fields) {
    const answer = answers[field.key] ?? "";
    out[field.key] = answer === "" && !field.secret ? field.value ?? "" : answer;
  }
  return out;
}

/** Is there a graphical session (X11 or Wayland)? Only then are the Linux dialogs worth trying. */
export function hasLinuxDesktop(env: Env): boolean {
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** Full path of `name` on env.PATH (Windows: tries PATHEXT), or undefined. */
export async function findOnPath(
  name: string,
  env: Env,
  os: Deps["os"],
): Promise<string | undefined> {
  const windows = os === "windows";
  // Windows spells it Path; environment names are case-insensitive there.
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === "PATH") ?? "PATH";
  const dirs = (env[pathKey] ?? "").split(windows ? ";" : ":").filter(Boolean);
  const exts = windows && !/\.[a-z]+$/i.test(name)
    ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";").filter(Boolean)
    : [""];
  for (const dir of dirs) {
    for (const ext of exts) {
      const path = `${dir}${windows ? "\\" : "/"}${name}${ext}`;
      try {
        const info = await Deno.stat(path);
        if (info.isFile && (windows || info.mode === null || (info.mode & 0o111) !== 0)) {
          return path;
        }
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export function which(ctx: PromptContext, name: string): Promise<string | undefined> {
  return ctx.which ? ctx.which(name) : findOnPath(name, ctx.env, ctx.os);
}

/**
 * A dialog program run once per question (zenity, yad, osascript): argv builders, how its exit code
 * reads, and how its form answer becomes field values.
 */
export function programDriver(spec: {
  name: string;
  available: DialogDriver["available"];
  codeArgs: (req: CodePromptRequest) => string[];
  formArgs: (form: FormRequest) => string[];
  /** Throws for a cancel, a timeout or a failure to run. */
  check: (result: { code: number; stderr: string }, what: AskWhat) => void;
  finishForm?: (answers: FormAnswers, fields: FormField[]) => FormAnswers;
}): DialogDriver {
  const ask = async (argv: string[], ctx: PromptContext, what: AskWhat) => {
    const result = await ctx.run(argv, { timeoutMs: DIALOG_RUN_TIMEOUT_MS });
    spec.check(result, what);
    return result.stdout;
  };
  return {
    name: spec.name,
    kind: "gui",
    available: spec.available,
    askCode: async (req, ctx) => stripFinalNewline(await ask(spec.codeArgs(req), ctx, "code")),
    async askForm(form, ctx) {
      const answers = splitFormAnswer(await ask(spec.formArgs(form), ctx, "form"), form.fields);
      return spec.finishForm ? spec.finishForm(answers, form.fields) : answers;
    },
  };
}
