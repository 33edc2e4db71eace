/**
 * 1Password: `op item get ITEM --otp [--account A]` prints the item's current TOTP code. Any
 * failure is a warning and undefined, so the caller falls back to prompting (SPEC 3.6).
 */
import { oneLine } from "../errors.ts";
import type { Deps } from "../types.ts";

/** op may wait for a biometric unlock (Touch ID, the desktop app): give the user time. */
export const OP_TIMEOUT_MS = 15_000;

export function opArgs(item: string, account: string | undefined): string[] {
  return ["op", "item", "get", item, "--otp", ...(account ? ["--account", account] : [])];
}

export async function codeFromOnePassword(
  item: string,
  account: string | undefined,
  deps: Pick<Deps, "run" | "log">,
): Promise<string | undefined> {
  const fallback = "; asking for the code instead";
  let result;
  try {
    deps.log.debug(`asking 1Password (op) for the code of item ${JSON.stringify(item)}`);
    result = await deps.run(opArgs(item, account), { timeoutMs: OP_TIMEOUT_MS });
  } catch (err) {
    deps.log.warn(
      `1Password: ${oneLine(err instanceof Error ? err.message : String(err))}${fallback}`,
    );
    return undefined;
  }
  if (result.code === 127) {
    deps.log.warn(`1Password: the op command is not installed${fallback}`);
    return undefined;
  }
  if (result.code !== 0) {
    deps.log.warn(`1Password: op item get failed (exit ${result.code})${fallback}`);
    // op's stderr says why (not signed in, no such item); it never holds the code.
    const why = oneLine(result.stderr).slice(0, 300);
    if (why) deps.log.debug(`op said: ${why}`);
    return undefined;
  }
  const code = result.stdout.trim();
  if (!/^\d{6}$/.test(code)) {
    // Never print what it did say: it could be a secret.
    deps.log.warn(
      `1Password: op did not print a 6-digit code for ${JSON.stringify(item)}${fallback}`,
    );
    return undefined;
  }
  return code;
}
