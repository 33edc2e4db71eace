import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  base32Decode,
  interpretCodeSourceOutput,
  parseOtpauth,
  totp,
  type TotpAlgorithm,
  totpWindow,
} from "../lib/code/totp.ts";
import { MfaError } from "../lib/errors.ts";

const ascii = (text: string) => new TextEncoder().encode(text);

/** The MfaError `fn` throws (fails the test when it throws nothing or something else). */
function mfaErrorOf(fn: () => unknown, label = ""): MfaError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MfaError) return err;
    throw new Error(`expected an MfaError ${label}, got ${err}`);
  }
  throw new Error(`expected an MfaError ${label}, nothing was thrown`);
}

// RFC 6238 Appendix B: the seed for each algorithm is "1234567890" repeated to the hash's key length.
const SEEDS: Record<TotpAlgorithm, Uint8Array> = {
  SHA1: ascii("12345678901234567890"),
  SHA256: ascii("12345678901234567890123456789012"),
  SHA512: ascii("1234567890123456789012345678901234567890123456789012345678901234"),
};

const RFC6238_VECTORS: [number, TotpAlgorithm, string][] = [
  [59, "SHA1", "94287082"],
  [59, "SHA256", "46119246"],
  [59, "SHA512", "90693936"],
  [1111111109, "SHA1", "07081804"],
  [1111111109, "SHA256", "68084774"],
  [1111111109, "SHA512", "25091201"],
  [1111111111, "SHA1", "14050471"],
  [1111111111, "SHA256", "67062674"],
  [1111111111, "SHA512", "99943326"],
  [1234567890, "SHA1", "89005924"],
  [1234567890, "SHA256", "91819424"],
  [1234567890, "SHA512", "93441116"],
  [2000000000, "SHA1", "69279037"],
  [2000000000, "SHA256", "90698825"],
  [2000000000, "SHA512", "38618901"],
  [20000000000, "SHA1", "65353130"],
  [20000000000, "SHA256", "77737706"],
  [20000000000, "SHA512", "47863826"],
];

Deno.test("totp: RFC 6238 Appendix B vectors (SHA1, SHA256, SHA512, 8 digits)", async () => {
  for (const [seconds, algorithm, expected] of RFC6238_VECTORS) {
    const code = await totp(SEEDS[algorithm], new Date(seconds * 1000), { digits: 8, algorithm });
    assertEquals(code, expected, `${algorithm} at ${seconds}`);
  }
});

Deno.test("totp: RFC 4226 Appendix D HOTP vectors through a 1-second period", async () => {
  const expected = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
  ];
  for (const [counter, code] of expected.entries()) {
    assertEquals(await totp(SEEDS.SHA1, new Date(counter * 1000), { period: 1 }), code);
  }
});

Deno.test("totp: defaults are 6 digits, 30 s, SHA1; the last 6 digits of the 8-digit code", async () => {
  const at = new Date(1111111109 * 1000);
  assertEquals(await totp(SEEDS.SHA1, at), "081804");
  // Same window, same code; next window differs.
  assertEquals(await totp(SEEDS.SHA1, new Date(1111111080 * 1000)), "081804");
  assertEquals(await totp(SEEDS.SHA1, new Date(1111111110 * 1000)), "050471");
});

Deno.test("totpWindow: counts periods since the epoch", () => {
  assertEquals(totpWindow(new Date(0)), 0);
  assertEquals(totpWindow(new Date(29_999)), 0);
  assertEquals(totpWindow(new Date(30_000)), 1);
  assertEquals(totpWindow(new Date(59_000), 60), 0);
  assertEquals(totpWindow(new Date(1111111109 * 1000)), 37037036);
});

Deno.test("base32Decode: RFC 4648 section 10 vectors", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["MY======", "f"],
    ["MZXQ====", "fo"],
    ["MZXW6===", "foo"],
    ["MZXW6YQ=", "foob"],
    ["MZXW6YTB", "fooba"],
    ["MZXW6YTBOI======", "foobar"],
  ];
  for (const [encoded, decoded] of vectors) {
    assertEquals(new TextDecoder().decode(base32Decode(encoded)), decoded, encoded);
  }
});

Deno.test("base32Decode: case-insensitive, spaces and padding ignored", () => {
  const expected = new Uint8Array([0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x21, 0xde, 0xad, 0xbe, 0xef]);
  assertEquals(base32Decode("JBSWY3DPEHPK3PXP"), expected);
  assertEquals(base32Decode("jbsw y3dp ehpk 3pxp"), expected);
  assertEquals(base32Decode("JBSWY3DPEHPK3PXP\n"), expected);
  assertEquals(base32Decode("mzxw6ytboi======"), ascii("foobar"));
});

Deno.test("base32Decode: an invalid character is a code error that does not echo the input", () => {
  for (const text of ["JBSWY3DPEHPK3PX1", "JBSWY3DP-EHPK", "ABC8"]) {
    const err = mfaErrorOf(() => base32Decode(text));
    assertEquals(err.kind, "code");
    assertEquals(err.message.includes(text), false);
  }
});

Deno.test("parseOtpauth: defaults and explicit parameters", () => {
  const basic = parseOtpauth("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP");
  assertEquals(basic, {
    secret: base32Decode("JBSWY3DPEHPK3PXP"),
    digits: 6,
    period: 30,
    algorithm: "SHA1",
  });
  const full = parseOtpauth(
    "otpauth://TOTP/ACME%20Co:john?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&issuer=ACME" +
      "&algorithm=sha256&digits=8&period=60\n",
  );
  assertEquals(full.secret, SEEDS.SHA1);
  assertEquals([full.digits, full.period, full.algorithm], [8, 60, "SHA256"]);
});

Deno.test("parseOtpauth: otpauth URI yields the RFC code", async () => {
  const params = parseOtpauth(
    "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8",
  );
  assertEquals(await totp(params.secret, new Date(59_000), params), "94287082");
});

Deno.test("parseOtpauth: hotp, bad scheme, missing secret and bad parameters are code errors", () => {
  const bad = [
    "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1",
    "https://totp/x?secret=JBSWY3DPEHPK3PXP",
    "otpauth://totp/x",
    "otpauth://totp/x?secret=",
    "otpauth://totp/x?secret=JBSWY3DPEHPK3PX!",
    "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=5",
    "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=abc",
    "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0",
    "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
    "otpauth://",
    "not a uri",
  ];
  for (const uri of bad) {
    const err = mfaErrorOf(() => parseOtpauth(uri), uri);
    assertEquals(err.kind, "code", uri);
    assertEquals(err.message.includes("JBSWY3DPEHPK3PX"), false, uri);
  }
  const hotp = mfaErrorOf(() => parseOtpauth(bad[0]));
  assertEquals(hotp.message.includes("hotp"), true);
});

Deno.test("interpretCodeSourceOutput: a 6-digit code, trimmed", () => {
  assertEquals(interpretCodeSourceOutput("123456"), { kind: "code", code: "123456" });
  assertEquals(interpretCodeSourceOutput("  012345\n"), { kind: "code", code: "012345" });
  assertEquals(interpretCodeSourceOutput("\r\n987654\r\n"), { kind: "code", code: "987654" });
});

Deno.test("interpretCodeSourceOutput: otpauth URI and base32 secrets become TOTP parameters", () => {
  const uri = interpretCodeSourceOutput(
    "otpauth://totp/aws?secret=JBSWY3DPEHPK3PXP&period=60\n",
  );
  assertEquals(uri.kind, "totp");
  if (uri.kind === "totp") assertEquals(uri.period, 60);
  const hello = base32Decode("JBSWY3DPEHPK3PXP");
  const cases: [string, Uint8Array][] = [
    ["JBSWY3DPEHPK3PXP", hello],
    ["jbsw y3dp ehpk 3pxp\n", hello],
    ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", SEEDS.SHA1],
    ["MZXW6YTBOJUWU23MNU======", ascii("foobarijklm")],
  ];
  for (const [text, secret] of cases) {
    assertEquals(interpretCodeSourceOutput(text), {
      kind: "totp",
      secret,
      digits: 6,
      period: 30,
      algorithm: "SHA1",
    }, text);
  }
});

Deno.test("interpretCodeSourceOutput: garbage is a code error that never contains the output", () => {
  const garbage = [
    "",
    "   ",
    "12345",
    "1234567",
    "12345a",
    "123 456",
    "JBSWY3DPEHPK", // base32 but too short to be a secret
    "error: item not found",
    "JBSWY3DPEHPK3PXP1890", // 0, 1, 8, 9 are not base32
    "code: 123456",
  ];
  for (const text of garbage) {
    const err = mfaErrorOf(() => interpretCodeSourceOutput(text), text);
    assertEquals(err.kind, "code");
    assertEquals(
      err.message,
      "the MFA command printed neither a 6-digit code, an otpauth:// URI nor a base32 secret",
    );
    if (text.trim()) assertEquals(`${err.message} ${err.hint}`.includes(text.trim()), false, text);
    assertEquals(typeof err.hint, "string");
  }
});

Deno.test("interpretCodeSourceOutput: a bad otpauth URI is a code error", () => {
  const err = mfaErrorOf(() =>
    interpretCodeSourceOutput("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP")
  );
  assertEquals(err.kind, "code");
});

Deno.test("totp: the secret bytes are not mutated and any key length works", async () => {
  const secret = new Uint8Array([1, 2, 3]);
  const code = await totp(secret, new Date(0));
  assertEquals(secret, new Uint8Array([1, 2, 3]));
  assertEquals(/^\d{6}$/.test(code), true);
  assertEquals(await totp(secret, new Date(0)), code);
});
