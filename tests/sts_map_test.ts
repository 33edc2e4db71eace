import { assert, assertEquals } from "./assert.ts";
import type { ErrorKind } from "../lib/errors.ts";
import { mapStsError } from "../lib/sts.ts";

const ENDPOINT = "sts.eu-west-1.amazonaws.com";

/** An error shaped like the ones the AWS SDK v3 throws (ServiceException or a transport error). */
function sdkError(
  name: string,
  message: string,
  extra: { status?: number; fault?: "client" | "server"; code?: string; cause?: unknown } = {},
): Error {
  const err = new Error(message, { cause: extra.cause }) as Error & Record<string, unknown>;
  err.name = name;
  if (extra.status !== undefined) {
    err.$metadata = { httpStatusCode: extra.status, requestId: "req-1", attempts: 1 };
  }
  if (extra.fault) err.$fault = extra.fault;
  if (extra.code) err.code = extra.code;
  return err;
}

const CASES: { what: string; err: unknown; kind: ErrorKind; messageHas?: string }[] = [
  {
    what: "AssumeRole over the role's MaxSessionDuration",
    err: sdkError(
      "ValidationError",
      "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      { status: 400, fault: "client" },
    ),
    kind: "sts-duration",
  },
  {
    what: "GetSessionToken over 129600",
    err: sdkError(
      "ValidationError",
      "1 validation error detected: Value '200000' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600",
      { status: 400, fault: "client" },
    ),
    kind: "sts-duration",
  },
  {
    what: "role chaining 1h limit",
    err: sdkError(
      "ValidationError",
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
      { status: 400, fault: "client" },
    ),
    kind: "sts-chaining",
  },
  {
    what: "wrong MFA code",
    err: sdkError(
      "AccessDenied",
      "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
      { status: 403, fault: "client" },
    ),
    kind: "sts-invalid-code",
  },
  {
    what: "MFA serial not assigned to the user",
    err: sdkError("AccessDenied", "MultiFactorAuthentication failed, unable to validate MFA code", {
      status: 403,
      fault: "client",
    }),
    kind: "sts-serial",
  },
  {
    what: "unknown access key",
    err: sdkError(
      "InvalidClientTokenId",
      "The security token included in the request is invalid.",
      { status: 403, fault: "client" },
    ),
    kind: "sts-auth",
  },
  {
    what: "wrong secret key",
    err: sdkError(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided.",
      { status: 403, fault: "client" },
    ),
    kind: "sts-auth",
  },
  {
    what: "expired session used to assume a role",
    err: sdkError("ExpiredToken", "The security token included in the request is expired", {
      status: 400,
      fault: "client",
    }),
    kind: "sts-auth",
  },
  {
    what: "trust policy denies AssumeRole",
    err: sdkError(
      "AccessDenied",
      "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Admin",
      { status: 403, fault: "client" },
    ),
    kind: "sts-denied",
    messageHas: "not authorized",
  },
  {
    what: "connection refused (node http handler)",
    err: sdkError("Error", "connect ECONNREFUSED 127.0.0.1:1", { code: "ECONNREFUSED" }),
    kind: "sts-network",
    messageHas: ENDPOINT,
  },
  {
    what: "connection refused (code only on the cause)",
    err: sdkError("Error", "request failed", {
      cause: Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" }),
    }),
    kind: "sts-network",
  },
  {
    what: "DNS failure",
    err: sdkError("Error", "getaddrinfo ENOTFOUND sts.nowhere.invalid", { code: "ENOTFOUND" }),
    kind: "sts-network",
  },
  {
    what: "fetch-style connection error",
    err: new TypeError(
      "error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)",
    ),
    kind: "sts-network",
  },
  {
    what: "request timeout",
    err: sdkError("TimeoutError", "Connection timed out after 3000 ms"),
    kind: "sts-network",
    messageHas: "in time",
  },
  {
    what: "aborted request",
    err: sdkError("AbortError", "Request aborted"),
    kind: "sts-network",
  },
  {
    what: "HTTP 500",
    err: sdkError("InternalFailure", "An internal error occurred.", {
      status: 500,
      fault: "server",
    }),
    kind: "sts-server",
    messageHas: "500",
  },
  {
    what: "HTTP 503 with an unknown error name",
    err: sdkError("UnknownError", "UnknownError", { status: 503 }),
    kind: "sts-server",
  },
  {
    what: "malformed reply (deserialization error)",
    err: sdkError(
      "Error",
      "char 'h' is not expected.:1:1\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.",
      { status: 200 },
    ),
    kind: "sts-server",
    messageHas: ENDPOINT,
  },
  {
    what: "malformed reply (SyntaxError)",
    err: new SyntaxError("Unexpected token < in JSON at position 0"),
    kind: "sts-server",
  },
  {
    what: "region disabled",
    err: sdkError(
      "RegionDisabledException",
      "STS is not activated in this region for account:123456789012.",
      { status: 403, fault: "client" },
    ),
    kind: "sts-denied",
  },
  {
    what: "anything else",
    err: sdkError("PackedPolicyTooLarge", "Packed policy consumes 120% of allotted space", {
      status: 400,
      fault: "client",
    }),
    kind: "sts-other",
    messageHas: "PackedPolicyTooLarge",
  },
];

for (const c of CASES) {
  Deno.test(`mapStsError: ${c.what} → ${c.kind}`, () => {
    const mapped = mapStsError(c.err, "AssumeRole", ENDPOINT);
    assertEquals(mapped.kind, c.kind, mapped.message);
    assertEquals(mapped.exitCode, 1);
    assertEquals(mapped.cause, c.err, "the SDK error stays attached for -v");
    assert(mapped.message.length > 0);
    if (c.messageHas) {
      assert(mapped.message.includes(c.messageHas), `${mapped.message} lacks ${c.messageHas}`);
    }
  });
}

Deno.test("mapStsError: every actionable kind carries a hint", () => {
  for (const c of CASES) {
    const mapped = mapStsError(c.err, "GetSessionToken", ENDPOINT);
    if (mapped.kind === "sts-chaining" || mapped.kind === "sts-other") continue;
    assert(mapped.hint, `${c.what} has no hint`);
  }
});

Deno.test("mapStsError: odd inputs (a string, undefined) still give an MfaError", () => {
  assertEquals(mapStsError("boom", "GetSessionToken", ENDPOINT).kind, "sts-other");
  assertEquals(mapStsError(undefined, "GetSessionToken", ENDPOINT).kind, "sts-other");
});

Deno.test("mapStsError: a token code AWS echoes in a ValidationError is not passed on", () => {
  const err = sdkError(
    "ValidationError",
    "1 validation error detected: Value '97531' at 'tokenCode' failed to satisfy constraint: Member must have length greater than or equal to 6",
    { status: 400, fault: "client" },
  );
  const mapped = mapStsError(err, "GetSessionToken", ENDPOINT);
  assert(!mapped.message.includes("97531"), mapped.message);
  assert(!String(mapped.hint ?? "").includes("97531"));
  assert(mapped.message.includes("tokenCode"), mapped.message);
});
