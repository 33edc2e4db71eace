/** The setup form: one native form when asked for (--gui) and possible, else questions on the terminal. */
import { MfaError } from "../errors.ts";
import type { DialogDriver, PromptContext } from "./driver.ts";
import { guiDrivers } from "./index.ts";
import { terminalDriver } from "./terminal.ts";

/** The first desktop dialog usable here, if any. */
export async function firstDesktopDriver(ctx: PromptContext): Promise<DialogDriver | undefined> {
  for (const driver of guiDrivers(ctx)) {
    if (await driver.available(ctx)) return driver;
  }
  return undefined;
}

export async function desktopAvailable(ctx: PromptContext): Promise<boolean> {
  return (await firstDesktopDriver(ctx)) !== undefined;
}

/** gui: the desktop form (terminal questions when there is no desktop); else the reverse. */
export async function chooseFormDriver(ctx: PromptContext, gui: boolean): Promise<DialogDriver> {
  const desktop = await firstDesktopDriver(ctx);
  const terminal = ctx.hasTerminal() ? terminalDriver : undefined;
  const driver = gui ? desktop ?? terminal : terminal ?? desktop;
  if (!driver) {
    throw new MfaError("code", "setup needs a terminal or a desktop session to ask its questions", {
      hint: "run mfa setup in a terminal, or mfa setup --gui in a desktop session",
    });
  }
  if (gui && driver !== desktop) ctx.log.info("mfa: no desktop dialog available; asking here");
  return driver;
}
