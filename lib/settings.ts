/**
 * Flags + environment + AWS files → Settings. Pure: every input is passed in.
 * Precedence: flag > environment (first listed wins) > profile key > default.
 */
import type { OptionValues } from "./cli.ts";
import { MfaError, usageError } from "./errors.ts";
import { checkDurationRange, DEFAULT_DURATION, parseDuration } from "./duration.ts";
import type { Env, LongTermKeys, PromptMode, RoleSettings, Settings } from "./types.ts";

export type ProfileMap = Map<string, Record<string, string>>;
export interface AwsProfiles {
  credentials: ProfileMap;
  config: ProfileMap;
}

export interface SettingsPaths {
  credentialsFile: string;
  configFile: string;
  mfaHome: string;
  credentialsFileIgnored: boolean;
}

const LONG_TERM_SUFFIX = "-long-term";
const MAX_ROLE_CHAIN = 5;

export const SERIAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:mfa\/[\w+=,.@\/-]+$/;
/** Hardware tokens are identified by a serial number instead of an ARN. */
const HARDWARE_SERIAL = /^[A-Za-z0-9]{9,64}$/;
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/;

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** First non-empty value among the flag and the environment variables, with where it came from. */
function pick(
  flag: string | undefined,
  env: Env,
  names: string[],
): { value: string; source: string } | undefined {
  if (flag !== undefined) return { value: flag, source: "flag" };
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return { value, source: name };
  }
  return undefined;
}

export function expandHome(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/") || path.startsWith("~\\")) return home + path.slice(1);
  return path;
}

/** Where the AWS files and mfa's own directory are. Resolved first: the files are read before resolveSettings. */
export function resolvePaths(
  options: OptionValues,
  env: Env,
  home: string,
  command: string,
): SettingsPaths {
  const credentialsFlag = str(options["credentials-file"]);
  let credentialsFile = credentialsFlag ?? env.AWS_SHARED_CREDENTIALS_FILE;
  let credentialsFileIgnored = false;
  // Claude Code setups set AWS_SHARED_CREDENTIALS_FILE=/dev/null so Claude ignores static keys; mfa still needs them.
  if (
    command === "claude-export" && credentialsFlag === undefined && credentialsFile === "/dev/null"
  ) {
    credentialsFile = undefined;
    credentialsFileIgnored = true;
  }
  const configFile = str(options["config-file"]) ?? env.AWS_CONFIG_FILE;
  return {
    credentialsFile: expandHome(credentialsFile || `${home}/.aws/credentials`, home),
    configFile: expandHome(configFile || `${home}/.aws/config`, home),
    mfaHome: expandHome(env.AWS_MFA_HOME || `${home}/.aws/mfa`, home),
    credentialsFileIgnored,
  };
}

export function isTruthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

export function resolveVerbose(options: OptionValues, env: Env): boolean {
  return options.verbose === true || isTruthy(env.AWS_MFA_DEBUG);
}

export function resolveProfileName(options: OptionValues, env: Env): {
  name: string;
  explicit: boolean;
} {
  const chosen = pick(str(options.profile), env, ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]);
  const name = chosen?.value.trim() ?? "default";
  if (name === "" || /[\[\]\r\n]/.test(name)) {
    throw usageError(`invalid profile name ${JSON.stringify(name)}`);
  }
  return { name, explicit: chosen !== undefined };
}

function describe(source: string): string {
  return source === "flag" ? "" : ` (from ${source})`;
}

export function validateCode(code: string, source: string): string {
  const trimmed = code.trim();
  if (!/^\d{6}$/.test(trimmed)) {
    // Never echo the code itself.
    throw usageError(
      `invalid MFA code${describe(source)}: it must be exactly 6 digits`,
      "pass the current 6-digit code from your MFA device, e.g. --code 123456",
    );
  }
  return trimmed;
}

export function validateSerial(serial: string, source: string): string {
  if (SERIAL_ARN.test(serial) || (!serial.startsWith("arn:") && HARDWARE_SERIAL.test(serial))) {
    return serial;
  }
  throw usageError(
    `invalid MFA serial ${JSON.stringify(serial)}${describe(source)}`,
    "use the device ARN, e.g. arn:aws:iam::123456789012:mfa/alice (IAM console → Security credentials)",
  );
}

export function validateRoleArn(arn: string, source: string): string {
  if (ROLE_ARN.test(arn)) return arn;
  throw usageError(
    `invalid role ARN ${JSON.stringify(arn)}${describe(source)}`,
    "use arn:aws:iam::123456789012:role/NAME",
  );
}

function validateUrl(url: string, source: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return url;
  } catch { /* fall through */ }
  throw usageError(
    `invalid endpoint URL ${JSON.stringify(url)}${describe(source)}`,
    "e.g. https://sts.eu-west-1.amazonaws.com",
  );
}

/** AWS_MFA_COMMAND_TIMEOUT: how long the mfa command may run, `20` or `2m`; undefined = the default. */
export function commandTimeoutMs(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const seconds = parseDuration(text, "AWS_MFA_COMMAND_TIMEOUT");
  if (seconds < 1) {
    throw usageError(
      `invalid AWS_MFA_COMMAND_TIMEOUT ${JSON.stringify(text)}: it must be at least 1 second`,
      "e.g. AWS_MFA_COMMAND_TIMEOUT=30 or 2m",
    );
  }
  return seconds * 1000;
}

/** Values of one profile: config `[profile x]` then credentials `[x]` (credentials win, as in the SDKs). */
function profileValues(files: AwsProfiles, name: string): Record<string, string> | undefined {
  const config = files.config.get(name);
  const credentials = files.credentials.get(name);
  if (!config && !credentials) return undefined;
  return { ...config, ...credentials };
}

function keysOf(values: Record<string, string> | undefined): LongTermKeys | undefined {
  const accessKeyId = values?.aws_access_key_id?.trim();
  const secretAccessKey = values?.aws_secret_access_key?.trim();
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = values?.aws_session_token?.trim() || undefined;
  return { accessKeyId, secretAccessKey, sessionToken };
}

interface ProfileChain {
  sourceProfile: string;
  dualProfile: boolean;
  role?: RoleSettings;
  /** Values consulted for mfa_serial, duration_seconds, ... in order. */
  layers: Record<string, string>[];
}

/** Follows role_arn/source_profile to the profile that holds the keys. */
function followProfile(
  files: AwsProfiles,
  name: string,
  roleFlag: string | undefined,
): ProfileChain {
  const longTermName = `${name}${LONG_TERM_SUFFIX}`;
  const own = profileValues(files, name) ?? {};
  const roleArn = roleFlag ?? own.role_arn;
  const roleOf = (values: Record<string, string>, arn: string): RoleSettings => ({
    arn,
    externalId: values.external_id || undefined,
    sessionName: values.role_session_name || undefined,
  });

  if (files.credentials.has(longTermName)) {
    const longTerm = files.credentials.get(longTermName)!;
    return {
      sourceProfile: longTermName,
      dualProfile: true,
      role: roleArn ? roleOf(own, roleArn) : undefined,
      layers: [own, longTerm],
    };
  }
  if (!roleArn || !own.source_profile || own.source_profile === name) {
    return {
      sourceProfile: name,
      dualProfile: false,
      role: roleArn ? roleOf(own, roleArn) : undefined,
      layers: [own],
    };
  }
  // role_arn + source_profile: the keys live in the source (which may itself be a role: chaining).
  const layers = [own];
  let role: RoleSettings = roleOf(own, roleArn);
  const outer = role;
  let current = own.source_profile;
  const seen = new Set([name]);
  for (let depth = 0; depth < MAX_ROLE_CHAIN; depth++) {
    if (seen.has(current)) {
      throw new MfaError("config", `profile ${name}: source_profile loop through ${current}`, {
        hint: "fix source_profile in the AWS config",
      });
    }
    seen.add(current);
    const values = profileValues(files, current) ?? {};
    layers.push(values);
    const longTerm = `${current}${LONG_TERM_SUFFIX}`;
    if (values.role_arn && values.source_profile && !files.credentials.has(longTerm)) {
      role.via = roleOf(values, values.role_arn);
      role = role.via;
      current = values.source_profile;
      continue;
    }
    if (files.credentials.has(longTerm)) {
      layers.push(files.credentials.get(longTerm)!);
      return { sourceProfile: longTerm, dualProfile: false, role: outer, layers };
    }
    return { sourceProfile: current, dualProfile: false, role: outer, layers };
  }
  throw new MfaError("config", `profile ${name}: role chain longer than ${MAX_ROLE_CHAIN}`, {
    hint: "shorten the source_profile chain",
  });
}

/**
 * A bad value from the AWS files is a runtime (config) error, exit 1; exit 2 is for the command line and
 * the environment (SPEC 6).
 */
function fromFiles<T>(fromProfile: boolean, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!fromProfile || !(err instanceof MfaError) || err.kind !== "usage") throw err;
    throw new MfaError("config", `${err.message} in the AWS files`, {
      hint: `${err.hint ? `${err.hint}; ` : ""}fix it with \`mfa edit\``,
      cause: err,
    });
  }
}

export function resolveSettings(
  options: OptionValues,
  env: Env,
  files: AwsProfiles,
  paths: SettingsPaths,
): Settings {
  const { name: profile, explicit: profileExplicit } = resolveProfileName(options, env);
  const roleFlag = pick(str(options["role-arn"]), env, ["AWS_MFA_ROLE_ARN"]);
  if (roleFlag) validateRoleArn(roleFlag.value, roleFlag.source);
  const chain = followProfile(files, profile, roleFlag?.value);
  const profileKey = (...keys: string[]): string | undefined => {
    for (const layer of chain.layers) {
      for (const key of keys) {
        const value = layer[key]?.trim();
        if (value) return value;
      }
    }
    return undefined;
  };
  const profileFound = profileValues(files, profile) !== undefined ||
    files.credentials.has(`${profile}${LONG_TERM_SUFFIX}`);

  // MFA serial.
  const serialPick = pick(str(options["mfa-serial"]), env, ["AWS_MFA_SERIAL"]);
  const serialValue = serialPick?.value ?? profileKey("mfa_serial", "aws_mfa_device");
  const mfaSerial = serialValue
    ? fromFiles(
      !serialPick,
      () => validateSerial(serialValue, serialPick?.source ?? "profile " + profile),
    )
    : undefined;

  if (chain.role) {
    const role = chain.role;
    fromFiles(!roleFlag, () => validateRoleArn(role.arn, roleFlag?.source ?? `profile ${profile}`));
    for (let via = role.via; via; via = via.via) {
      const arn = via.arn;
      fromFiles(true, () => validateRoleArn(arn, "source_profile"));
    }
  }

  // Duration.
  const durationPick = pick(str(options.duration), env, ["AWS_MFA_TTL", "AWS_SESSION_DURATION"]);
  const durationText = durationPick?.value ?? profileKey("duration_seconds");
  const durationSource = durationPick
    ? (durationPick.source === "flag" ? "duration" : `duration (from ${durationPick.source})`)
    : "duration_seconds";
  const durationSeconds = fromFiles(!durationPick, () => {
    const seconds = durationText !== undefined
      ? parseDuration(durationText, durationSource)
      : DEFAULT_DURATION;
    checkDurationRange(seconds, chain.role !== undefined, durationSource);
    return seconds;
  });

  // Region: flag > env > profile (IMDS and the us-east-1 fallback are the core's, they need the network).
  const regionPick = pick(str(options.region), env, ["AWS_REGION", "AWS_DEFAULT_REGION"]);
  const region = regionPick?.value.trim() || profileKey("region");
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    fromFiles(!regionPick, () => {
      throw usageError(`invalid region ${JSON.stringify(region)}`, "e.g. us-east-1, eu-west-3");
    });
  }

  const codePick = pick(str(options.code), env, ["AWS_MFA_TOKEN"]);
  const code = codePick ? validateCode(codePick.value, codePick.source) : undefined;

  const mfaCommand = pick(str(options["mfa-command"]), env, ["AWS_MFA_COMMAND"])?.value ??
    profileKey("mfa_process");
  const mfaCommandTimeoutMs = commandTimeoutMs(env.AWS_MFA_COMMAND_TIMEOUT);
  const opItem = pick(str(options["op-item"]), env, ["AWS_MFA_UPDATER_OP_ITEM_NAME"])?.value ??
    profileKey("mfa_op_item");
  const opAccount = pick(str(options["op-account"]), env, ["AWS_MFA_UPDATER_OP_ACCOUNT"])?.value ??
    profileKey("mfa_op_account");

  const promptPick = pick(str(options.prompt), env, ["AWS_MFA_PROMPT"]);
  const prompt = (promptPick?.value ?? "auto") as PromptMode;
  if (!["auto", "terminal", "gui", "none"].includes(prompt)) {
    throw usageError(
      `invalid prompt mode ${JSON.stringify(prompt)}${describe(promptPick!.source)}`,
      "use auto, terminal, gui or none",
    );
  }

  const endpointPick = pick(str(options["endpoint-url"]), env, [
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL",
  ]);
  const endpointUrl = endpointPick
    ? validateUrl(endpointPick.value, endpointPick.source)
    : undefined;

  const longTerm = keysOf(files.credentials.get(chain.sourceProfile)) ??
    keysOf(profileValues(files, chain.sourceProfile));

  return {
    profile,
    profileFound,
    profileExplicit,
    sourceProfile: chain.sourceProfile,
    dualProfile: chain.dualProfile,
    longTerm,
    mfaSerial,
    role: chain.role,
    durationSeconds,
    durationExplicit: durationText !== undefined,
    region,
    endpointUrl,
    code,
    mfaCommand,
    mfaCommandTimeoutMs,
    opItem,
    opAccount,
    prompt,
    credentialsFile: paths.credentialsFile,
    configFile: paths.configFile,
    credentialsFileIgnored: paths.credentialsFileIgnored,
    refresh: options.refresh === true,
    noCache: options["no-cache"] === true,
    verbose: resolveVerbose(options, env),
    mfaHome: paths.mfaHome,
    hasMfaSettings: Boolean(
      mfaSerial || chain.role || code || mfaCommand || opItem || chain.dualProfile,
    ),
  };
}
