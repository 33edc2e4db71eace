/**
 * An in-repo STS + IAM + EC2 IMDSv2 fake over real HTTP. The real @aws-sdk clients and the AWS CLI
 * talk to it through an endpoint URL: AWS Query protocol in (form-encoded POST, Action=, Version=),
 * AWS's XML shapes, error codes, messages and HTTP statuses out.
 *
 * Run as a script: `deno run --allow-net tests/fake_sts.ts [--port N] [--allow-code-reuse]`
 * prints `FAKE_STS_URL=http://127.0.0.1:PORT` and serves until killed.
 * Control endpoints for other processes: GET /_calls (JSON), DELETE /_calls, POST /_fault (JSON Fault
 * or null). Silent unless FAKE_STS_DEBUG=1.
 */
import { base32Decode, totp, totpWindow } from "../lib/code/totp.ts";

export interface FakeUser {
  accessKeyId: string;
  secretAccessKey: string;
  account: string;
  userName: string;
  mfaSerial: string;
  /** base32 */
  totpSecret: string;
  /** The access key was deactivated or deleted: every call gets InvalidClientTokenId. */
  expired?: boolean;
  /** ListMFADevices answer; default [mfaSerial]. */
  mfaDevices?: string[] | "denied";
}

export interface FakeRole {
  arn: string;
  /** Seconds, default 3600. */
  maxSessionDuration: number;
  externalId?: string;
  /** Deny AssumeRole unless the request (or the calling session) carries MFA. Default false. */
  requireMfa?: boolean;
}

export type Fault =
  & (
    | { kind: "status"; status: number; times?: number; code?: string; message?: string }
    | { kind: "delay"; ms: number; times?: number }
    | { kind: "malformed"; times?: number }
    | { kind: "clock-skew"; seconds: number }
  )
  & {
    /** Which requests the fault hits: STS/IAM ("api", the default), IMDS, or both. */
    scope?: "api" | "imds" | "all";
  };

export interface FakeStsOptions {
  users?: FakeUser[];
  roles?: FakeRole[];
  port?: number;
  allowCodeReuse?: boolean;
  /**
   * Windows either side of now whose codes are accepted (AWS: 1, the default). The CLI sandbox widens
   * it so a test's precomputed codes stay valid across a window boundary while it runs.
   */
  windowTolerance?: number;
  /** IMDS placement region, default "eu-west-3". */
  region?: string;
  /** The fake's clock (TOTP windows, expirations); default the real one. */
  now?: () => Date;
}

export interface FakeCall {
  /** STS/IAM Action, or "IMDS" (params.method, params.path). */
  action: string;
  accessKeyId: string;
  params: Record<string, string>;
  status: number;
  errorCode?: string;
  at: number;
}

export interface FakeSts {
  url: string;
  imdsUrl: string;
  calls: FakeCall[];
  setFault(f?: Fault): void;
  /** The code the user's MFA device shows now (or windowOffset windows away). Consumes nothing. */
  codeFor(accessKeyId: string, windowOffset?: number): Promise<string>;
  callsOf(action: string): FakeCall[];
  /** Temporary credentials this fake issued under that access key id (undefined: never issued). */
  issued(accessKeyId: string):
    | { secretAccessKey: string; sessionToken: string; expiration: number; roleArn?: string }
    | undefined;
  close(): Promise<void>;
}

export const DEFAULT_USER: FakeUser = {
  accessKeyId: "AKIAFAKEDEFAULT00001",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYFAKEKEY001",
  account: "123456789012",
  userName: "alice",
  mfaSerial: "arn:aws:iam::123456789012:mfa/alice",
  totpSecret: "JBSWY3DPEHPK3PXP",
};

export const DEFAULT_ROLES: FakeRole[] = [
  { arn: "arn:aws:iam::123456789012:role/one-hour", maxSessionDuration: 3600 },
  { arn: "arn:aws:iam::123456789012:role/two-hours", maxSessionDuration: 7200 },
  { arn: "arn:aws:iam::123456789012:role/twelve-hours", maxSessionDuration: 43200 },
  {
    arn: "arn:aws:iam::123456789012:role/with-external-id",
    maxSessionDuration: 3600,
    externalId: "fake-external-id",
  },
];

const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_VERSION = "2011-06-15";
const IAM_VERSION = "2010-05-08";
const IAM_ACTIONS = new Set(["ListMFADevices"]);
const STS_ACTIONS = new Set(["GetSessionToken", "AssumeRole", "GetCallerIdentity"]);
const CHAINED_ROLE_LIMIT = 3600;

/** Temporary credentials the fake issued, and who they stand for. */
interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: number;
  user: FakeUser;
  mfa: boolean;
  /** Set when the session came from AssumeRole. */
  role?: { arn: string; sessionName: string; roleId: string };
}

interface Caller {
  user: FakeUser;
  session?: Session;
  arn: string;
}

/** An AWS error answer. */
class AwsFault {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
    readonly type: "Sender" | "Receiver" = status >= 500 ? "Receiver" : "Sender",
  ) {}
}

const xmlEscape = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[c]};`,
  );

/** AWS prints timestamps without milliseconds. */
const awsTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

const INVALID_TOKEN = () =>
  new AwsFault(
    403,
    "InvalidClientTokenId",
    "The security token included in the request is invalid.",
  );
const MFA_SERIAL_FAILED = () =>
  new AwsFault(
    403,
    "AccessDenied",
    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial " +
      "number is valid and associated with this user.",
  );
const MFA_CODE_FAILED = () =>
  new AwsFault(
    403,
    "AccessDenied",
    "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
  );

function randomChars(count: number, alphabet: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(count));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Stable id from a name, like AIDA.../AROA... ids: the same name gives the same id. */
function stableId(prefix: string, name: string): string {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  let out = "";
  while (out.length < 17) {
    hash = Math.imul(hash ^ (hash >>> 15), 2246822507) ^ out.length;
    out += UPPER_ALNUM[(hash >>> 0) % UPPER_ALNUM.length];
  }
  return prefix + out;
}

/** Collects "Value 'x' at 'field' failed to satisfy constraint: ..." like AWS's validation layer. */
class Validation {
  readonly problems: string[] = [];

  check(ok: boolean, value: string | undefined, field: string, constraint: string) {
    if (ok) return;
    const shown = value === undefined ? "null" : `'${value}'`;
    this.problems.push(
      `Value ${shown} at '${field}' failed to satisfy constraint: Member must ${constraint}`,
    );
  }

  required(value: string | undefined, field: string) {
    this.check(value !== undefined, value, field, "not be null");
  }

  integerRange(value: string | undefined, field: string, min: number, max: number) {
    if (value === undefined) return;
    const n = Number(value);
    this.check(n >= min, value, field, `have value greater than or equal to ${min}`);
    this.check(n <= max, value, field, `have value less than or equal to ${max}`);
  }

  length(value: string | undefined, field: string, min: number, max: number) {
    if (value === undefined) return;
    this.check(value.length >= min, value, field, `have length greater than or equal to ${min}`);
    this.check(value.length <= max, value, field, `have length less than or equal to ${max}`);
  }

  pattern(value: string | undefined, field: string, regex: RegExp, shown: string) {
    if (value === undefined) return;
    this.check(regex.test(value), value, field, `satisfy regular expression pattern: ${shown}`);
  }

  throwIfAny() {
    const n = this.problems.length;
    if (n === 0) return;
    throw new AwsFault(
      400,
      "ValidationError",
      `${n} validation error${n === 1 ? "" : "s"} detected: ${this.problems.join("; ")}`,
    );
  }
}

function validateMfaParams(v: Validation, params: Record<string, string>) {
  v.length(params.SerialNumber, "serialNumber", 9, 256);
  v.pattern(params.SerialNumber, "serialNumber", /^[\w+=/:,.@-]*$/, "[\\w+=/:,.@-]*");
  v.length(params.TokenCode, "tokenCode", 6, 6);
  v.pattern(params.TokenCode, "tokenCode", /^\d*$/, "[\\d]*");
}

function accessKeyIdOf(request: Request, query: URLSearchParams): string | undefined {
  const auth = request.headers.get("authorization") ?? "";
  const fromHeader = /Credential=([^/,\s]+)\//.exec(auth)?.[1];
  if (fromHeader) return fromHeader;
  const fromQuery = query.get("X-Amz-Credential");
  return fromQuery ? fromQuery.split("/")[0] : undefined;
}

function debugEnabled(): boolean {
  try {
    const status = Deno.permissions.querySync?.({ name: "env", variable: "FAKE_STS_DEBUG" });
    return status?.state === "granted" && Deno.env.get("FAKE_STS_DEBUG") === "1";
  } catch {
    return false;
  }
}

// deno-lint-ignore require-await -- async so that a failure to listen is a rejection, not a throw
export async function startFakeSts(opts: FakeStsOptions = {}): Promise<FakeSts> {
  const users = opts.users ?? [DEFAULT_USER];
  const roles = opts.roles ?? DEFAULT_ROLES;
  const region = opts.region ?? "eu-west-3";
  const now = () => (opts.now ? opts.now().getTime() : Date.now());
  const debug = debugEnabled();
  const log = (msg: string) => {
    if (debug) console.error(`fake-sts: ${msg}`);
  };

  const calls: FakeCall[] = [];
  const sessions = new Map<string, Session>();
  /** Per user: "window:code" pairs already accepted (AWS accepts each code once). */
  const usedCodes = new Map<string, Set<string>>();
  const imdsTokens = new Map<string, number>();
  let fault: Fault | undefined;
  const closing = new AbortController();

  const userArn = (u: FakeUser) => `arn:aws:iam::${u.account}:user/${u.userName}`;

  function identify(request: Request, query: URLSearchParams): Caller {
    const accessKeyId = accessKeyIdOf(request, query);
    if (!accessKeyId) {
      throw new AwsFault(
        403,
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
      );
    }
    const session = sessions.get(accessKeyId);
    if (session) {
      const token = request.headers.get("x-amz-security-token") ??
        query.get("X-Amz-Security-Token");
      if (token !== session.sessionToken) throw INVALID_TOKEN();
      if (now() >= session.expiration) {
        throw new AwsFault(
          403,
          "ExpiredToken",
          "The security token included in the request is expired",
        );
      }
      const arn = session.role
        ? `arn:aws:sts::${accountOfArn(session.role.arn)}:assumed-role/${
          roleNameOf(session.role.arn)
        }/${session.role.sessionName}`
        : userArn(session.user);
      return { user: session.user, session, arn };
    }
    const user = users.find((u) => u.accessKeyId === accessKeyId);
    if (!user || user.expired) throw INVALID_TOKEN();
    return { user, arn: userArn(user) };
  }

  /** The codes the user's device shows around now, keyed "window:code". */
  async function codesAroundNow(user: FakeUser): Promise<string[]> {
    const secret = base32Decode(user.totpSecret);
    const current = totpWindow(new Date(now()));
    const tolerance = opts.windowTolerance ?? 1;
    const windows = [current];
    for (let d = 1; d <= tolerance; d++) windows.push(current - d, current + d);
    return await Promise.all(
      windows.map(async (w) => `${w}:${await totp(secret, new Date(w * 30_000))}`),
    );
  }

  /**
   * Throws unless SerialNumber/TokenCode prove the user's device; returns the key to burn on success.
   * Synchronous, so that a check and its burn cannot interleave with a concurrent request's.
   */
  function checkMfa(user: FakeUser, params: Record<string, string>, codes: string[]): string {
    if (params.SerialNumber !== user.mfaSerial) throw MFA_SERIAL_FAILED();
    const key = codes.find((k) => k.endsWith(`:${params.TokenCode}`));
    if (!key || (!opts.allowCodeReuse && usedCodes.get(user.accessKeyId)?.has(key))) {
      throw MFA_CODE_FAILED();
    }
    return key;
  }

  function burnCode(user: FakeUser, key: string) {
    const used = usedCodes.get(user.accessKeyId) ?? new Set<string>();
    used.add(key);
    usedCodes.set(user.accessKeyId, used);
  }

  function issue(
    user: FakeUser,
    durationSeconds: number,
    mfa: boolean,
    role?: Session["role"],
  ): Session {
    const skew = fault?.kind === "clock-skew" ? fault.seconds * 1000 : 0;
    const session: Session = {
      accessKeyId: `ASIA${randomChars(16, UPPER_ALNUM)}`,
      secretAccessKey: randomChars(40, BASE64_CHARS),
      // Real tokens are long base64 blobs with + / and =: keep those bytes for quoting tests.
      sessionToken: `IQoJb3JpZ2luX2VjEFAKE/+${randomChars(320, BASE64_CHARS)}==`,
      // Validity follows the fake's true clock; the skewed one only changes what is reported.
      expiration: now() + durationSeconds * 1000,
      user,
      mfa,
      role,
    };
    sessions.set(session.accessKeyId, session);
    return { ...session, expiration: session.expiration + skew };
  }

  const credentialsXml = (s: Session) =>
    `<Credentials><AccessKeyId>${s.accessKeyId}</AccessKeyId>` +
    `<SecretAccessKey>${xmlEscape(s.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${xmlEscape(s.sessionToken)}</SessionToken>` +
    `<Expiration>${awsTime(s.expiration)}</Expiration></Credentials>`;

  async function getSessionToken(caller: Caller, params: Record<string, string>): Promise<string> {
    const withMfa = params.SerialNumber !== undefined || params.TokenCode !== undefined;
    const codes = withMfa ? await codesAroundNow(caller.user) : [];
    // No await below this line: see checkMfa.
    const v = new Validation();
    v.integerRange(params.DurationSeconds, "durationSeconds", 900, 129600);
    validateMfaParams(v, params);
    v.throwIfAny();
    if (caller.session) {
      throw new AwsFault(
        403,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
      );
    }
    const codeKey = withMfa ? checkMfa(caller.user, params, codes) : undefined;
    if (codeKey) burnCode(caller.user, codeKey);
    const duration = Number(params.DurationSeconds ?? 43200);
    const session = issue(caller.user, duration, withMfa);
    return `<GetSessionTokenResult>${credentialsXml(session)}</GetSessionTokenResult>`;
  }

  async function assumeRole(caller: Caller, params: Record<string, string>): Promise<string> {
    const withMfa = params.SerialNumber !== undefined || params.TokenCode !== undefined;
    const codes = withMfa ? await codesAroundNow(caller.user) : [];
    // No await below this line: see checkMfa.
    const v = new Validation();
    v.required(params.RoleArn, "roleArn");
    v.length(params.RoleArn, "roleArn", 20, 2048);
    v.required(params.RoleSessionName, "roleSessionName");
    v.length(params.RoleSessionName, "roleSessionName", 2, 64);
    v.pattern(params.RoleSessionName, "roleSessionName", /^[\w+=,.@-]*$/, "[\\w+=,.@-]*");
    v.integerRange(params.DurationSeconds, "durationSeconds", 900, 43200);
    v.length(params.ExternalId, "externalId", 2, 1224);
    validateMfaParams(v, params);
    v.throwIfAny();
    const role = roles.find((r) => r.arn === params.RoleArn);
    const notAuthorized = () =>
      new AwsFault(
        403,
        "AccessDenied",
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${params.RoleArn}`,
      );
    if (!role) throw notAuthorized();
    if ((role.externalId ?? undefined) !== params.ExternalId) throw notAuthorized();
    const duration = Number(params.DurationSeconds ?? 3600);
    // AWS caps any AssumeRole made with temporary credentials at one hour (role chaining).
    if (caller.session && duration > CHAINED_ROLE_LIMIT) {
      throw new AwsFault(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
      );
    }
    if (duration > (role.maxSessionDuration ?? 3600)) {
      throw new AwsFault(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      );
    }
    const codeKey = withMfa ? checkMfa(caller.user, params, codes) : undefined;
    const mfa = withMfa || (caller.session?.mfa ?? false);
    if (role.requireMfa && !mfa) throw notAuthorized();
    if (codeKey) burnCode(caller.user, codeKey);
    const roleId = stableId("AROA", role.arn);
    const sessionName = params.RoleSessionName;
    const session = issue(caller.user, duration, mfa, { arn: role.arn, sessionName, roleId });
    const assumedArn = `arn:aws:sts::${accountOfArn(role.arn)}:assumed-role/${
      roleNameOf(role.arn)
    }/${sessionName}`;
    return `<AssumeRoleResult><AssumedRoleUser><AssumedRoleId>${roleId}:${xmlEscape(sessionName)}` +
      `</AssumedRoleId><Arn>${xmlEscape(assumedArn)}</Arn></AssumedRoleUser>` +
      `${credentialsXml(session)}</AssumeRoleResult>`;
  }

  function getCallerIdentity(caller: Caller): string {
    const role = caller.session?.role;
    const userId = role
      ? `${role.roleId}:${role.sessionName}`
      : stableId("AIDA", userArn(caller.user));
    const account = role ? accountOfArn(role.arn) : caller.user.account;
    return `<GetCallerIdentityResult><Arn>${xmlEscape(caller.arn)}</Arn>` +
      `<UserId>${
        xmlEscape(userId)
      }</UserId><Account>${account}</Account></GetCallerIdentityResult>`;
  }

  function listMfaDevices(caller: Caller, params: Record<string, string>): string {
    if (caller.session?.role && params.UserName === undefined) {
      throw new AwsFault(
        400,
        "ValidationError",
        "Must specify userName when calling with non-User credentials",
      );
    }
    const user = caller.user;
    const devices = user.mfaDevices ?? [user.mfaSerial];
    const asked = params.UserName ?? user.userName;
    if (devices === "denied" || asked !== user.userName) {
      throw new AwsFault(
        403,
        "AccessDenied",
        `User: ${caller.arn} is not authorized to perform: iam:ListMFADevices on resource: user ` +
          `${asked} because no identity-based policy allows the iam:ListMFADevices action`,
      );
    }
    const members = devices.map((serial) =>
      `<member><UserName>${xmlEscape(user.userName)}</UserName>` +
      `<SerialNumber>${xmlEscape(serial)}</SerialNumber>` +
      `<EnableDate>2024-01-15T10:00:00Z</EnableDate></member>`
    ).join("");
    return `<ListMFADevicesResult><IsTruncated>false</IsTruncated><MFADevices>${members}` +
      `</MFADevices></ListMFADevicesResult>`;
  }

  function xmlResponse(status: number, body: string, requestId: string): Response {
    return new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`, {
      status,
      headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    });
  }

  function errorResponse(f: AwsFault, ns: string, requestId: string): Response {
    const response = xmlResponse(
      f.status,
      `<ErrorResponse xmlns="${ns}"><Error><Type>${f.type}</Type><Code>${f.code}</Code>` +
        `<Message>${xmlEscape(f.message)}</Message></Error><RequestId>${requestId}</RequestId>` +
        `</ErrorResponse>`,
      requestId,
    );
    response.headers.set("x-fake-error-code", f.code);
    return response;
  }

  /** Applies the current fault (if it hits this kind of request); a Response replaces the answer. */
  async function applyFault(
    scope: "api" | "imds",
    action: string,
    ns: string,
    requestId: string,
  ): Promise<Response | undefined> {
    const f = fault;
    if (!f || f.kind === "clock-skew") return undefined;
    const hits = (f.scope ?? "api") === "all" || (f.scope ?? "api") === scope;
    if (!hits) return undefined;
    if (f.times !== undefined) {
      f.times -= 1;
      if (f.times <= 0) fault = undefined;
    }
    if (f.kind === "delay") {
      // request.signal is not used: Deno warns about its legacy semantics on stderr.
      await abortableSleep(f.ms, closing.signal);
      return undefined;
    }
    if (f.kind === "malformed") {
      return new Response(
        `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${ns}"><${action}Result>` +
          `<Credentials><AccessKeyId>ASIA`,
        { status: 200, headers: { "content-type": "text/xml" } },
      );
    }
    const defaults: Record<number, [string, string]> = {
      400: ["Throttling", "Rate exceeded"],
      429: ["Throttling", "Rate exceeded"],
      500: ["InternalFailure", "An internal error occurred."],
      503: ["ServiceUnavailable", "Service is unavailable. Please try again later."],
    };
    const [code, message] = defaults[f.status] ?? [`Http${f.status}`, `Fake HTTP ${f.status}`];
    return errorResponse(
      new AwsFault(f.status, f.code ?? code, f.message ?? message),
      ns,
      requestId,
    );
  }

  async function handleApi(request: Request, url: URL): Promise<Response> {
    const requestId = crypto.randomUUID();
    const body = request.method === "POST" ? await request.text() : "";
    const form = new URLSearchParams(body);
    const params: Record<string, string> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    for (const [k, v] of form) params[k] = v;
    const action = params.Action ?? "";
    const isIam = IAM_ACTIONS.has(action) || params.Version === IAM_VERSION;
    const ns = isIam ? IAM_NS : STS_NS;
    const call: FakeCall = {
      action,
      accessKeyId: accessKeyIdOf(request, url.searchParams) ?? "",
      params: Object.fromEntries(
        Object.entries(params).filter(([k]) => k !== "Action" && k !== "Version"),
      ),
      status: 200,
      at: Date.now(),
    };
    calls.push(call);
    const faulted = await applyFault("api", action, ns, requestId);
    let response: Response;
    let errorCode: string | undefined;
    if (faulted) {
      response = faulted;
      errorCode = faulted.headers.get("x-fake-error-code") ?? "malformed";
    } else {
      try {
        const known = isIam ? IAM_ACTIONS.has(action) : STS_ACTIONS.has(action);
        const version = isIam ? IAM_VERSION : STS_VERSION;
        if (!known || params.Version !== version) {
          throw new AwsFault(
            400,
            "InvalidAction",
            `Could not find operation ${action} for version ${
              params.Version ?? "NO_VERSION_SPECIFIED"
            }`,
          );
        }
        const caller = identify(request, url.searchParams);
        let result: string;
        if (action === "GetSessionToken") result = await getSessionToken(caller, params);
        else if (action === "AssumeRole") result = await assumeRole(caller, params);
        else if (action === "GetCallerIdentity") result = getCallerIdentity(caller);
        else result = listMfaDevices(caller, params);
        response = xmlResponse(
          200,
          `<${action}Response xmlns="${ns}">${result}<ResponseMetadata><RequestId>${requestId}` +
            `</RequestId></ResponseMetadata></${action}Response>`,
          requestId,
        );
      } catch (err) {
        if (!(err instanceof AwsFault)) throw err;
        errorCode = err.code;
        response = errorResponse(err, ns, requestId);
      }
    }
    call.status = response.status;
    if (errorCode) call.errorCode = errorCode;
    log(`${action} ${call.accessKeyId} -> ${response.status}${errorCode ? ` ${errorCode}` : ""}`);
    return response;
  }

  async function handleImds(request: Request, url: URL): Promise<Response> {
    const call: FakeCall = {
      action: "IMDS",
      accessKeyId: "",
      params: { method: request.method, path: url.pathname },
      status: 200,
      at: Date.now(),
    };
    calls.push(call);
    const answer = async (): Promise<Response> => {
      const faulted = await applyFault("imds", "", "", "");
      if (faulted) {
        return new Response("", { status: faulted.status === 200 ? 500 : faulted.status });
      }
      if (url.pathname === "/latest/api/token") {
        if (request.method !== "PUT") return new Response("", { status: 405 });
        const ttl = Number(request.headers.get("x-aws-ec2-metadata-token-ttl-seconds"));
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) {
          return new Response("", { status: 400 });
        }
        const token = randomChars(56, BASE64_CHARS);
        imdsTokens.set(token, now() + ttl * 1000);
        return new Response(token, {
          headers: {
            "content-type": "text/plain",
            "x-aws-ec2-metadata-token-ttl-seconds": `${ttl}`,
          },
        });
      }
      const token = request.headers.get("x-aws-ec2-metadata-token") ?? "";
      const validUntil = imdsTokens.get(token);
      if (validUntil === undefined || validUntil <= now()) return new Response("", { status: 401 });
      if (request.method !== "GET") return new Response("", { status: 405 });
      const values: Record<string, string> = {
        "/latest/meta-data/placement/region": region,
        "/latest/meta-data/placement/availability-zone": `${region}a`,
      };
      const value = values[url.pathname];
      return value === undefined
        ? new Response("", { status: 404 })
        : new Response(value, { headers: { "content-type": "text/plain" } });
    };
    const response = await answer();
    call.status = response.status;
    if (response.status >= 300) call.errorCode = `Http${response.status}`;
    log(`IMDS ${request.method} ${url.pathname} -> ${response.status}`);
    return response;
  }

  async function handleControl(request: Request, url: URL): Promise<Response> {
    if (url.pathname === "/_calls" && request.method === "GET") return Response.json(calls);
    if (url.pathname === "/_calls" && request.method === "DELETE") {
      calls.length = 0;
      return new Response(null, { status: 204 });
    }
    if (url.pathname === "/_fault" && request.method === "POST") {
      const text = await request.text();
      fault = text.trim() ? (JSON.parse(text) ?? undefined) : undefined;
      return new Response(null, { status: 204 });
    }
    return new Response("not found\n", { status: 404 });
  }

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    signal: closing.signal,
    onListen: () => {},
    onError: (err) => {
      log(`internal error: ${err instanceof Error ? err.stack : err}`);
      return new Response("internal error", { status: 500 });
    },
  }, (request) => {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/_")) return handleControl(request, url);
    if (url.pathname.startsWith("/latest/")) return handleImds(request, url);
    return handleApi(request, url);
  });
  const base = `http://127.0.0.1:${server.addr.port}`;

  return {
    url: base,
    imdsUrl: base,
    calls,
    setFault(f?: Fault) {
      fault = f ? { ...f } : undefined;
    },
    async codeFor(accessKeyId: string, windowOffset = 0): Promise<string> {
      const user = users.find((u) => u.accessKeyId === accessKeyId);
      if (!user) throw new Error(`fake STS: no user with access key ${accessKeyId}`);
      return await totp(base32Decode(user.totpSecret), new Date(now() + windowOffset * 30_000));
    },
    callsOf: (action: string) => calls.filter((c) => c.action === action),
    issued(accessKeyId: string) {
      const s = sessions.get(accessKeyId);
      return s && {
        secretAccessKey: s.secretAccessKey,
        sessionToken: s.sessionToken,
        expiration: s.expiration,
        roleArn: s.role?.arn,
      };
    },
    async close() {
      if (!closing.signal.aborted) closing.abort();
      await server.finished;
    },
  };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

function accountOfArn(arn: string): string {
  return arn.split(":")[4] ?? "";
}

function roleNameOf(arn: string): string {
  return arn.split(":role/")[1]?.split("/").pop() ?? "";
}

if (import.meta.main) {
  const portIndex = Deno.args.indexOf("--port");
  const port = portIndex >= 0 ? Number(Deno.args[portIndex + 1]) : 0;
  const fake = await startFakeSts({
    port,
    allowCodeReuse: Deno.args.includes("--allow-code-reuse"),
  });
  console.log(`FAKE_STS_URL=${fake.url}`);
}
