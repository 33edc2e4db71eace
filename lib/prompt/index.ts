/**
 * Asking the user for an MFA code: which drivers, in which order (SPEC 4), and re-asking right away
 * when the answer is not 6 digits. The driver list is built here, explicitly, and nowhere else.
 */
import { MfaError } from "../errors.ts";
import type { CodePrompter, CodePromptRequest, PromptMode } from "../types.ts";
import {
  type DialogDriver,
  DriverFailedError,
  hasLinuxDesktop,
  type PromptContext,
} from "./driver.ts";
import { kdialogDriver } from "./kdialog.ts";
import { osascriptDriver } from "./osascript.ts";
import { powershellDriver } from "./powershell.ts";
import { terminalDriver } from "./terminal.ts";
import { yadDriver } from "./yad.ts";
import { zenityDriver } from "./zenity.ts";

export type { PromptContext } from "./driver.ts";

/** Their caller owns the terminal (Claude Code, an SDK): a dialog is the better first try. */
const GUI_FIRST_COMMANDS = new Set(["claude-export", "credential-process"]);
/** Answers that are not 6 digits are asked again this many times in all, then handed on as they are. */
export const MAX_ANSWER_TRIES = 3;
export const NOT_A_CODE_NOTE = "That is not a 6-digit code; try again.";

export const NO_WAY_HINT =
  "pass --code 123456 or AWS_MFA_TOKEN, set --mfa-command / mfa_process, run from a terminal, " +
  "or from a desktop session";

/** The desktop dialogs for this OS, best first (kdialog leads on KDE, zenity elsewhere). */
export function guiDrivers(ctx: Pick<PromptContext, "os" | "env">): DialogDriver[] {
  if (ctx.os === "darwin") return [osascriptDriver];
  if (ctx.os === "windows") return [powershellDriver];
  const kde = /kde/i.test(ctx.env.XDG_CURRENT_DESKTOP ?? "");
  return kde ? [kdialogDriver, zenityDriver, yadDriver] : [zenityDriver, kdialogDriver, yadDriver];
}

/** Drivers to try, in order, for a prompt mode and command. */
export function driverOrder(
  mode: PromptMode,
  command: string,
  ctx: Pick<PromptContext, "os" | "env">,
): DialogDriver[] {
  const gui = guiDrivers(ctx);
  switch (mode) {
    case "none":
      return [];
    case "terminal":
      return [terminalDriver];
    case "gui":
      return gui;
    case "auto":
      return GUI_FIRST_COMMANDS.has(command) ? [...gui, terminalDriver] : [terminalDriver, ...gui];
  }
}

/** Spaces are allowed the way authenticator apps show codes ("123 456"). */
export function normalizeCode(answer: string): string {
  return answer.replace(/\s+/g, "");
}

/** Asks until the answer is 6 digits, up to MAX_ANSWER_TRIES; the last answer goes back as it is. */
export async function askForValidCode(
  driver: DialogDriver,
  req: CodePromptRequest,
  ctx: PromptContext,
): Promise<string> {
  let request = req;
  let answer = "";
  for (let attempt = 1; attempt <= MAX_ANSWER_TRIES; attempt++) {
    answer = normalizeCode(await driver.askCode(request, ctx));
    if (/^\d{6}$/.test(answer)) return answer;
    request = { ...req, retryNote: NOT_A_CODE_NOTE };
  }
  return answer;
}

function whyNoDesktop(ctx: PromptContext): string {
  if (ctx.os === "darwin") return "osascript is not usable (an SSH session?)";
  if (ctx.os === "windows") return "powershell.exe was not found";
  if (!hasLinuxDesktop(ctx.env)) return "DISPLAY and WAYLAND_DISPLAY are unset";
  return "none of zenity, kdialog, yad is on PATH";
}

function whyNothing(mode: PromptMode, ctx: PromptContext): string {
  switch (mode) {
    case "none":
      return "prompting is off (--prompt none or AWS_MFA_PROMPT=none)";
    case "terminal":
      return "no terminal to ask on";
    case "gui":
      return `no desktop dialog (${whyNoDesktop(ctx)})`;
    case "auto":
      return `no terminal and no desktop dialog (${whyNoDesktop(ctx)})`;
  }
}

export function noWayToAskError(why: string): MfaError {
  return new MfaError("code", `no way to ask for an MFA code: ${why}`, { hint: NO_WAY_HINT });
}

export function createPrompter(ctx: PromptContext): CodePrompter {
  return async (req, mode, command) => {
    const failures: string[] = [];
    let tried = false;
    for (const driver of driverOrder(mode, command, ctx)) {
      if (!(await driver.available(ctx))) continue;
      tried = true;
      ctx.log.debug(`asking for the MFA code with ${driver.name}`);
      try {
        return await askForValidCode(driver, req, ctx);
      } catch (err) {
        // A dialog that could not run at all (no display, crashed, not found): the next may work.
        if (err instanceof MfaError && !(err instanceof DriverFailedError)) throw err;
        const message = err instanceof Error ? err.message : String(err);
        const note = err instanceof DriverFailedError ? message : `${driver.name}: ${message}`;
        ctx.log.debug(note);
        failures.push(note);
      }
    }
    const why = tried ? failures.join("; ") : whyNothing(mode, ctx);
    throw noWayToAskError(why);
  };
}
