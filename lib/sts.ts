/**
 * The only module that loads the AWS SDK, and only when a call is needed (dynamic import), so a cache hit
 * never pays for it. SDK errors become MfaError kinds the core can act on.
 */
import { MfaError } from "./errors.ts";
import type { StsApi, StsClientOptions, StsCredentials } from "./types.ts";

/** Per attempt; the SDK retries 5xx and network errors up to MAX_ATTEMPTS, so a dead STS fails in ~30 s. */
export const REQUEST_TIMEOUT_MS = 8_000;
export const CONNECT_TIMEOUT_MS = 3_000;
export const MAX_ATTEMPTS = 3;

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

function errorCodeOf(err: SdkError): string {
  return String(err.code ?? (err.cause as SdkError | undefined)?.code ?? "");
}

/** SDK error → MfaError with a kind the negotiation and retry logic understand. */
export function mapStsError(err: unknown, action: string, endpoint: string): MfaError {
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? "";
  // AWS echoes a malformed token code in its ValidationError: never pass a code on.
  const message = (e.message ?? String(err)).trim().replace(
    /Value '[^']*' at 'tokenCode'/g,
    "Value '***' at 'tokenCode'",
  );
  const status = e.$metadata?.httpStatusCode;
  const where = `STS ${action}`;

  if (name === "ValidationError" && /1 hour session limit|role chaining/i.test(message)) {
    return new MfaError("sts-chaining", `${where}: ${message}`, { cause: err });
  }
  if (name === "ValidationError" && /DurationSeconds|MaxSessionDuration/i.test(message)) {
    return new MfaError("sts-duration", `${where}: ${message}`, {
      cause: err,
      hint:
        "ask for a shorter session with -d, or raise the role's maximum session duration in IAM",
    });
  }
  if (/MultiFactorAuthentication failed with invalid MFA one time pass code/i.test(message)) {
    return new MfaError(
      "sts-invalid-code",
      "the MFA code was rejected by AWS (wrong or already used)",
      {
        cause: err,
        hint: "wait for the next code on your device and try again",
      },
    );
  }
  if (
    /MultiFactorAuthentication failed, unable to validate MFA code|serial/i.test(message) &&
    name === "AccessDenied"
  ) {
    return new MfaError(
      "sts-serial",
      "AWS could not validate the MFA code for this MFA device (serial)",
      {
        cause: err,
        hint:
          "check mfa_serial / --mfa-serial: it must be the ARN of the device assigned to this user",
      },
    );
  }
  if (
    name === "InvalidClientTokenId" || name === "SignatureDoesNotMatch" ||
    name === "UnrecognizedClientException"
  ) {
    return new MfaError("sts-auth", `the long-term access key was rejected by AWS (${name})`, {
      cause: err,
      hint:
        "the key may be deactivated, deleted or mistyped: check aws_access_key_id / aws_secret_access_key",
    });
  }
  if (name === "ExpiredToken" || name === "ExpiredTokenException") {
    return new MfaError("sts-auth", "the credentials used to call STS have expired", {
      cause: err,
      hint: "run again with --refresh",
    });
  }
  if (name === "AccessDenied" || name === "AccessDeniedException" || status === 403) {
    return new MfaError("sts-denied", `${where} was denied: ${message}`, {
      cause: err,
      hint: "check the role's trust policy and that the user may call this action",
    });
  }
  if (name === "RegionDisabledException") {
    return new MfaError("sts-denied", `${where}: ${message}`, {
      cause: err,
      hint: "use another --region",
    });
  }
  const code = errorCodeOf(e);
  if (
    name === "TimeoutError" || name === "AbortError" || code === "ETIMEDOUT" ||
    /timed? ?out|timeout/i.test(message)
  ) {
    return new MfaError("sts-network", `STS did not answer in time (${endpoint})`, {
      cause: err,
      hint: "check your network or proxy, or --endpoint-url; then try again",
    });
  }
  if (
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH/.test(
      code + " " + message,
    ) ||
    /connection refused|error sending request|dns error|fetch failed|network/i.test(message)
  ) {
    return new MfaError("sts-network", `cannot reach STS at ${endpoint}`, {
      cause: err,
      hint: "check your network or proxy, or --endpoint-url; then try again",
    });
  }
  if (
    (status ?? 0) >= 500 || e.$fault === "server" || name === "InternalFailure" ||
    name === "ServiceUnavailable"
  ) {
    return new MfaError(
      "sts-server",
      `STS failed with a server error (HTTP ${status ?? "5xx"}) after ${MAX_ATTEMPTS} tries`,
      {
        cause: err,
        hint: "AWS may be having trouble; try again in a minute",
      },
    );
  }
  if (/deseriali[sz]|xml|unexpected|parse|char /i.test(message) || name === "SyntaxError") {
    return new MfaError("sts-server", `STS sent a reply mfa could not read (${endpoint})`, {
      cause: err,
      hint: "check --endpoint-url / AWS_ENDPOINT_URL points at STS",
    });
  }
  return new MfaError("sts-other", `${where} failed: ${name ? `${name}: ` : ""}${message}`, {
    cause: err,
  });
}

function toCredentials(
  raw:
    | { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date }
    | undefined,
  action: string,
  endpoint: string,
): StsCredentials {
  if (
    !raw?.AccessKeyId || !raw.SecretAccessKey || !raw.SessionToken ||
    !(raw.Expiration instanceof Date) || isNaN(raw.Expiration.getTime())
  ) {
    throw new MfaError(
      "sts-server",
      `STS ${action} answered without complete credentials (${endpoint})`,
      {
        hint: "check --endpoint-url / AWS_ENDPOINT_URL points at STS",
      },
    );
  }
  return {
    accessKeyId: raw.AccessKeyId,
    secretAccessKey: raw.SecretAccessKey,
    sessionToken: raw.SessionToken,
    expiration: raw.Expiration,
  };
}

function clientConfig(opts: StsClientOptions, endpoint: string | undefined) {
  return {
    region: opts.region,
    endpoint,
    credentials: {
      accessKeyId: opts.credentials.accessKeyId,
      secretAccessKey: opts.credentials.secretAccessKey,
      sessionToken: opts.credentials.sessionToken,
    },
    maxAttempts: MAX_ATTEMPTS,
    // Without throwOnRequestTimeout the SDK only warns (on stderr) and keeps waiting.
    requestHandler: {
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionTimeout: CONNECT_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  };
}

export interface StsEndpoints {
  /** IAM endpoint for ListMFADevices (AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL). */
  iamEndpointUrl?: string;
}

export async function createStsClient(
  opts: StsClientOptions,
  extra: StsEndpoints = {},
): Promise<StsApi> {
  const sdk = await import("@aws-sdk/client-sts");
  const endpoint = opts.endpointUrl;
  const shown = endpoint ?? `sts.${opts.region}.amazonaws.com`;
  const client = new sdk.STSClient(clientConfig(opts, endpoint));
  const send = async <T>(action: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw mapStsError(err, action, shown);
    }
  };
  return {
    async getSessionToken(input) {
      const out = await send<{ Credentials?: Parameters<typeof toCredentials>[0] }>(
        "GetSessionToken",
        () =>
          client.send(
            new sdk.GetSessionTokenCommand({
              SerialNumber: input.serialNumber,
              TokenCode: input.tokenCode,
              DurationSeconds: input.durationSeconds,
            }),
          ),
      );
      return toCredentials(out.Credentials, "GetSessionToken", shown);
    },
    async assumeRole(input) {
      const out = await send<{ Credentials?: Parameters<typeof toCredentials>[0] }>(
        "AssumeRole",
        () =>
          client.send(
            new sdk.AssumeRoleCommand({
              RoleArn: input.roleArn,
              RoleSessionName: input.roleSessionName,
              ExternalId: input.externalId,
              SerialNumber: input.serialNumber,
              TokenCode: input.tokenCode,
              DurationSeconds: input.durationSeconds,
            }),
          ),
      );
      return toCredentials(out.Credentials, "AssumeRole", shown);
    },
    async getCallerIdentity() {
      const out = await send<{ Account?: string; Arn?: string; UserId?: string }>(
        "GetCallerIdentity",
        () => client.send(new sdk.GetCallerIdentityCommand({})),
      );
      if (!out.Account || !out.Arn) {
        throw new MfaError(
          "sts-server",
          `STS GetCallerIdentity answered without an identity (${shown})`,
        );
      }
      return { account: out.Account, arn: out.Arn, userId: out.UserId ?? "" };
    },
    async listMfaDevices() {
      const iam = await import("@aws-sdk/client-iam");
      const iamClient = new iam.IAMClient(clientConfig(opts, extra.iamEndpointUrl));
      try {
        const out = await iamClient.send(new iam.ListMFADevicesCommand({}));
        return (out.MFADevices ?? []).map((d) => d.SerialNumber ?? "").filter(Boolean);
      } catch (err) {
        throw mapStsError(err, "iam:ListMFADevices", extra.iamEndpointUrl ?? "iam.amazonaws.com");
      }
    },
  };
}
