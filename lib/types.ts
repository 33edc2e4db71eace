/** Shared shapes: the one value the core returns, resolved settings, and the deps that bring in the world. */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  region?: string;
  /** Profile the user asked for (the session target). */
  profile: string;
  /** Where the credentials came from: "cache" or "sts" (or "env" for exec pass-through). */
  source: "cache" | "sts" | "env";
}

export type PromptMode = "auto" | "terminal" | "gui" | "none";

export interface RoleSettings {
  arn: string;
  externalId?: string;
  sessionName?: string;
  /** Role this role is assumed from (role chaining via source_profile pointing at a role profile). */
  via?: RoleSettings;
}

export interface LongTermKeys {
  accessKeyId: string;
  secretAccessKey: string;
  /** A session token on the "long-term" keys: they are already temporary; STS calls still work. */
  sessionToken?: string;
}

export interface Settings {
  /** Profile name the user asked for (flag/env/default). */
  profile: string;
  /** The profile exists in the credentials or config file (as NAME, NAME-long-term or via source_profile). */
  profileFound: boolean;
  /** The profile name came from a flag or the environment (not the `default` fallback). */
  profileExplicit: boolean;
  /** Section of the credentials file that holds the long-term keys (NAME-long-term or NAME or source_profile). */
  sourceProfile: string;
  /** True when sourceProfile is NAME-long-term (dual-profile convention). */
  dualProfile: boolean;
  longTerm?: LongTermKeys;
  mfaSerial?: string;
  role?: RoleSettings;
  durationSeconds: number;
  /** True when the duration came from a flag, env or profile (not the default). */
  durationExplicit: boolean;
  /** Region from flag, environment or profile; undefined means ask IMDS, then us-east-1. */
  region?: string;
  endpointUrl?: string;
  code?: string;
  mfaCommand?: string;
  /** Kill the mfa command after this long (AWS_MFA_COMMAND_TIMEOUT); default COMMAND_TIMEOUT_MS. */
  mfaCommandTimeoutMs?: number;
  opItem?: string;
  opAccount?: string;
  prompt: PromptMode;
  credentialsFile: string;
  configFile: string;
  /** True when the credentials path was /dev/null and treated as unset (claude-export). */
  credentialsFileIgnored?: boolean;
  refresh: boolean;
  noCache: boolean;
  verbose: boolean;
  /** ~/.aws/mfa or AWS_MFA_HOME */
  mfaHome: string;
  /** Does the profile carry any MFA setting at all (serial, role, code source)? exec passes through if not. */
  hasMfaSettings: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Temporary credentials as STS returns them. */
export interface StsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface StsClientOptions {
  region: string;
  endpointUrl?: string;
  credentials: LongTermKeys | StsCredentials;
}

export interface StsApi {
  getSessionToken(input: {
    serialNumber?: string;
    tokenCode?: string;
    durationSeconds: number;
  }): Promise<StsCredentials>;
  assumeRole(input: {
    roleArn: string;
    roleSessionName: string;
    externalId?: string;
    serialNumber?: string;
    tokenCode?: string;
    durationSeconds: number;
  }): Promise<StsCredentials>;
  getCallerIdentity(): Promise<{ account: string; arn: string; userId: string }>;
  /** iam:ListMFADevices for the caller; serial numbers. */
  listMfaDevices(): Promise<string[]>;
}

export type StsFactory = (opts: StsClientOptions) => StsApi | Promise<StsApi>;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CodePromptRequest {
  /** Shown to the user, e.g. "MFA code for work (arn:aws:iam::123:mfa/alice)". */
  message: string;
  profile: string;
  serial?: string;
  /** Shown on a retry: "The code was rejected; try again." */
  retryNote?: string;
}

/** Asks the user for an MFA code; returns the raw answer. Throws MfaError("cancelled") or ("code"). */
export type CodePrompter = (
  req: CodePromptRequest,
  mode: PromptMode,
  command: string,
) => Promise<string>;

export interface Logger {
  /** Shown only with -v / AWS_MFA_DEBUG=1. Never pass a secret or code. */
  debug(msg: string): void;
  /** Always shown, prefixed "mfa: warning:". */
  warn(msg: string): void;
  /** Always shown, plain note. */
  info(msg: string): void;
}

export interface Deps {
  env: Env;
  home: string;
  os: "linux" | "darwin" | "windows";
  now(): Date;
  sleep(ms: number): Promise<void>;
  sts: StsFactory;
  /** Run a command (argv form), capture output. timeoutMs kills it. */
  run(argv: string[], opts?: { timeoutMs?: number; stdin?: string; env?: Env }): Promise<RunResult>;
  /** Run a shell command line (mfa_process, --mfa-command) capturing stdout. */
  runShell(command: string, opts?: { timeoutMs?: number }): Promise<RunResult>;
  /** Run a child with inherited stdio and the given environment; forwards SIGINT/SIGTERM/SIGHUP. */
  spawnChild(argv: string[], env: Env): Promise<{ code: number; signal?: number }>;
  /** Name of the process that started mfa (the shell that will read `exports`), when it can be found. */
  parentProcess(): string | undefined;
  /** Is there a controlling terminal we can prompt on (/dev/tty opens; Windows: CONIN$)? */
  hasTerminal(): boolean;
  prompt: CodePrompter;
  log: Logger;
  /** Name of the command being run (claude-export, exports, ...): picks prompt order. */
  command: string;
}
