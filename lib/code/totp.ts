/**
 * TOTP (RFC 6238 over RFC 4226) and the formats an MFA command may print: a code, an otpauth:// URI
 * or a base32 secret. Pure: Web Crypto only. No message here ever contains a secret or a code.
 */
import { MfaError } from "../errors.ts";

export type TotpAlgorithm = "SHA1" | "SHA256" | "SHA512";

export interface TotpOptions {
  digits?: number;
  period?: number;
  algorithm?: TotpAlgorithm;
}

export interface TotpParams {
  secret: Uint8Array;
  digits: number;
  period: number;
  algorithm: TotpAlgorithm;
}

export type CodeSourceOutput = { kind: "code"; code: string } | ({ kind: "totp" } & TotpParams);

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HASH_NAMES: Record<TotpAlgorithm, string> = {
  SHA1: "SHA-1",
  SHA256: "SHA-256",
  SHA512: "SHA-512",
};
/** Fewer base32 characters than this (80 bits) is more likely garbage than a TOTP secret. */
const MIN_SECRET_CHARS = 16;

/** RFC 4648 base32; case-insensitive, spaces and `=` padding ignored. */
export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/[\s=]/g, "").toUpperCase();
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const char of clean) {
    const digit = BASE32_ALPHABET.indexOf(char);
    if (digit < 0) {
      // Never echo the character: the text may be a secret.
      throw new MfaError("code", "the TOTP secret is not valid base32 (A-Z, 2-7)");
    }
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (value >>> bits) & 0xff;
    }
  }
  return out;
}

/** The RFC 6238 time step counter for a moment. */
export function totpWindow(at: Date, period = 30): number {
  return Math.floor(at.getTime() / 1000 / period);
}

/** The TOTP code for `at` (RFC 6238; RFC 4226 dynamic truncation). */
export async function totp(secret: Uint8Array, at: Date, opts: TotpOptions = {}): Promise<string> {
  const digits = opts.digits ?? 6;
  const period = opts.period ?? 30;
  const algorithm = opts.algorithm ?? "SHA1";
  const counter = new DataView(new ArrayBuffer(8));
  const step = totpWindow(at, period);
  counter.setUint32(0, Math.floor(step / 2 ** 32));
  counter.setUint32(4, step >>> 0);
  const key = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(secret),
    { name: "HMAC", hash: HASH_NAMES[algorithm] },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, counter.buffer));
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) |
    (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** `otpauth://totp/LABEL?secret=...&digits=&period=&algorithm=` (Key Uri Format). */
export function parseOtpauth(uri: string): TotpParams {
  const bad = (what: string) =>
    new MfaError("code", `the otpauth:// URI ${what}`, {
      hint:
        "expected otpauth://totp/LABEL?secret=BASE32SECRET (digits, period, algorithm optional)",
    });
  let url: URL;
  try {
    url = new URL(uri.trim());
  } catch {
    throw bad("cannot be parsed");
  }
  if (url.protocol !== "otpauth:") throw bad("does not start with otpauth://");
  const type = url.hostname.toLowerCase();
  if (type === "hotp") throw bad("is a counter-based (hotp) token; only totp is supported");
  if (type !== "totp") throw bad("is not of type totp");
  const secretText = url.searchParams.get("secret");
  if (!secretText) throw bad("has no secret");
  const secret = base32Decode(secretText);
  if (secret.length === 0) throw bad("has an empty secret");
  const digits = integerParam(url, "digits", 6);
  if (digits === undefined || digits < 6 || digits > 8) throw bad("has digits outside 6..8");
  const period = integerParam(url, "period", 30);
  if (period === undefined || period < 1) throw bad("has an invalid period");
  const algorithmText = (url.searchParams.get("algorithm") ?? "SHA1").toUpperCase();
  if (!(algorithmText in HASH_NAMES)) throw bad("has an algorithm other than SHA1, SHA256, SHA512");
  return { secret, digits, period, algorithm: algorithmText as TotpAlgorithm };
}

function integerParam(url: URL, name: string, fallback: number): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null || text === "") return fallback;
  return /^\d{1,6}$/.test(text) ? Number(text) : undefined;
}

/** What an MFA command printed: a ready code, or a TOTP secret to compute the code from. */
export function interpretCodeSourceOutput(stdout: string): CodeSourceOutput {
  const text = stdout.trim();
  if (/^\d{6}$/.test(text)) return { kind: "code", code: text };
  if (/^otpauth:\/\//i.test(text)) return { kind: "totp", ...parseOtpauth(text) };
  const compact = text.replace(/\s/g, "");
  if (/^[A-Za-z2-7]+=*$/.test(compact) && compact.replace(/=+$/, "").length >= MIN_SECRET_CHARS) {
    return {
      kind: "totp",
      secret: base32Decode(compact),
      digits: 6,
      period: 30,
      algorithm: "SHA1",
    };
  }
  // Never include the output: it could be a secret printed in an unexpected shape.
  throw new MfaError(
    "code",
    "the MFA command printed neither a 6-digit code, an otpauth:// URI nor a base32 secret",
    {
      hint:
        "make the command print only the code (e.g. `oathtool --totp -b SECRET`), an otpauth:// URI or the base32 secret",
    },
  );
}
