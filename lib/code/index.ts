/**
 * Where an MFA code comes from, first that applies (SPEC 3.6): --code/AWS_MFA_TOKEN → --mfa-command/
 * mfa_process → 1Password → prompt. Each supplier also says what to do when STS rejects its code.
 */
import { MfaError } from "../errors.ts";
import type { Deps, Settings } from "../types.ts";
import { interpretCodeSourceOutput, totp } from "./totp.ts";

export const COMMAND_TIMEOUT_MS = 30_000;
export const TOTP_PERIOD = 30;
const MAX_PROMPT_TRIES = 3;

export interface CodeSupplier {
  /** "code", "command", "op", "prompt": for -v notes, never the code. */
  kind: string;
  /** Next code. `retry` counts STS rejections so far. */
  get(retry: number): Promise<string>;
  /** STS rejected the last code: may we try again (after waiting if needed)? */
  onRejected(retry: number): Promise<boolean>;
  /** Codes computed or fetched without a human: re-use is avoided by remembering their hashes. */
  automatic: boolean;
}

/** Remembers codes already sent so an automatic source never sends the same one twice. */
export interface UsedCodes {
  wasUsed(code: string): Promise<boolean>;
}

export function msUntilNextWindow(now: Date, period = TOTP_PERIOD): number {
  const periodMs = period * 1000;
  return periodMs - (now.getTime() % periodMs) + 250;
}

async function waitForNextWindow(deps: Deps, why: string): Promise<void> {
  const ms = msUntilNextWindow(deps.now());
  deps.log.info(`mfa: ${why}; waiting ${Math.ceil(ms / 1000)}s for the next code`);
  await deps.sleep(ms);
}

/** Runs the mfa command and turns its output into a code (computing TOTP locally for secrets/URIs). */
async function codeFromCommand(
  command: string,
  timeoutMs: number,
  deps: Deps,
  used: UsedCodes,
): Promise<string> {
  deps.log.debug("running the MFA command");
  const result = await deps.runShell(command, { timeoutMs }).catch((err) => {
    if (!(err instanceof MfaError && /did not finish/.test(err.message))) throw err;
    throw new MfaError("code", `the MFA command did not finish within ${timeoutMs / 1000}s`, {
      hint:
        "check that it does not wait for input; AWS_MFA_COMMAND_TIMEOUT=SECONDS allows more time",
    });
  });
  // 130: Ctrl-C at a terminal reached the command too; exit as interrupted, whichever sees it first.
  if (result.code === 130) throw new MfaError("cancelled", "the MFA command was interrupted");
  if (result.code !== 0) {
    throw new MfaError("code", `the MFA command failed with exit code ${result.code}`, {
      hint: "run it by hand to see what is wrong, or fix --mfa-command / mfa_process",
    });
  }
  const output = interpretCodeSourceOutput(result.stdout);
  if (output.kind === "code") return output.code;
  let code = await totp(output.secret, deps.now(), output);
  if (await used.wasUsed(code)) {
    // STS accepts a code once: wait for the next window rather than be rejected.
    await waitForNextWindow(deps, "this TOTP code was already used");
    code = await totp(output.secret, deps.now(), output);
  }
  return code;
}

export function createCodeSupplier(settings: Settings, deps: Deps, used: UsedCodes): CodeSupplier {
  if (settings.code) {
    const code = settings.code;
    return {
      kind: "code",
      automatic: false,
      get: () => Promise.resolve(code),
      onRejected: () => Promise.resolve(false),
    };
  }
  const prompter = promptSupplier(settings, deps);
  if (settings.mfaCommand) {
    const command = settings.mfaCommand;
    return {
      kind: "command",
      automatic: true,
      get: () =>
        codeFromCommand(command, settings.mfaCommandTimeoutMs ?? COMMAND_TIMEOUT_MS, deps, used),
      async onRejected(retry) {
        if (retry > 1) return false;
        await waitForNextWindow(deps, "the code from the MFA command was rejected");
        return true;
      },
    };
  }
  if (settings.opItem) {
    const item = settings.opItem;
    let fellBack = false;
    return {
      kind: "op",
      automatic: true,
      async get(retry) {
        if (!fellBack) {
          const { codeFromOnePassword } = await import("./op.ts");
          const code = await codeFromOnePassword(item, settings.opAccount, deps);
          if (code) return code;
          fellBack = true;
        }
        return prompter.get(retry);
      },
      async onRejected(retry) {
        if (fellBack) return prompter.onRejected(retry);
        if (retry > 1) return false;
        await waitForNextWindow(deps, "the code from 1Password was rejected");
        return true;
      },
    };
  }
  return prompter;
}

function promptSupplier(settings: Settings, deps: Deps): CodeSupplier {
  return {
    kind: "prompt",
    automatic: false,
    async get(retry) {
      const target = settings.role
        ? `${settings.profile} (${settings.role.arn})`
        : settings.profile;
      const answer = await deps.prompt(
        {
          message: `MFA code for ${target}`,
          profile: settings.profile,
          serial: settings.mfaSerial,
          retryNote: retry > 0 ? "AWS rejected that code; enter the next one." : undefined,
        },
        settings.prompt,
        deps.command,
      );
      const code = answer.trim();
      if (!/^\d{6}$/.test(code)) {
        // The drivers re-ask on a malformed answer; one that still gets here is a runtime failure.
        throw new MfaError("code", "the MFA code entered is not 6 digits", {
          hint: "enter the 6-digit code your MFA device shows",
        });
      }
      return code;
    },
    onRejected: (retry) => Promise.resolve(retry < MAX_PROMPT_TRIES),
  };
}
