/**
 * The pure half of `mfa setup`: what the form shows (pre-filled from flags, the AWS files, the
 * environment and ~/.config/claude-aws-mfa.json), what the answers must look like, and which keys
 * of which sections they turn into.
 */
import type { AwsFiles } from "./aws_files.ts";
import { checkDurationRange, formatDuration, parseDuration } from "./duration.ts";
import { MfaError } from "./errors.ts";
import type { AwsFileKind } from "./ini.ts";
import { sectionHeaderFor } from "./ini.ts";
import { validateRoleArn, validateSerial } from "./settings.ts";
import type { Env } from "./types.ts";

export interface SetupValues {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  mfaSerial: string;
  roleArn: string;
  duration: string;
  /** A command printing the code, or a 6-digit code to use right now (not saved). */
  mfaCommand: string;
}

export type SetupKey = keyof SetupValues;

export interface SetupFieldSpec {
  key: SetupKey;
  label: string;
  secret?: boolean;
}

export const SETUP_FIELDS: SetupFieldSpec[] = [
  { key: "region", label: "Region" },
  { key: "accessKeyId", label: "Access key ID" },
  { key: "secretAccessKey", label: "Secret access key", secret: true },
  { key: "mfaSerial", label: "MFA device ARN" },
  { key: "roleArn", label: "Role ARN (optional)" },
  { key: "duration", label: "Session duration" },
  { key: "mfaCommand", label: "MFA command, or a code now (optional)" },
];

/** An answer of "-" (or an emptied pre-filled field) removes the setting. */
export const CLEAR_MARK = "-";
export const DEFAULT_SETUP_REGION = "us-east-1";
export const DEFAULT_SETUP_DURATION = "12h";
const LONG_TERM_SUFFIX = "-long-term";

/** The form's starting point. The current secret is kept here, never put in a field. */
export interface SetupPrefill {
  values: SetupValues;
  /** The secret that goes with the configured access key id (currentKeyId), when one is known. */
  currentSecret?: string;
  currentKeyId?: string;
  /** A secret typed on an earlier try of the form: kept whatever access key id comes with it. */
  typedSecret?: string;
}

export type PartialSetupValues = Partial<SetupValues>;

const JSON_KEYS: Record<SetupKey, string[]> = {
  region: ["region", "aws_region", "awsRegion"],
  accessKeyId: ["accessKeyId", "aws_access_key_id", "access_key_id", "awsAccessKeyId"],
  secretAccessKey: [
    "secretAccessKey",
    "aws_secret_access_key",
    "secret_access_key",
    "awsSecretAccessKey",
  ],
  mfaSerial: [
    "mfaArn",
    "mfa_arn",
    "mfaSerial",
    "mfa_serial",
    "mfaDevice",
    "mfa_device",
    "serialNumber",
  ],
  roleArn: ["roleArn", "role_arn"],
  duration: ["duration", "durationSeconds", "duration_seconds", "ttl"],
  mfaCommand: ["mfaCommand", "mfa_command", "mfaProcess", "mfa_process"],
};

function pickJson(record: Record<string, unknown>): PartialSetupValues {
  const out: PartialSetupValues = {};
  for (const [key, names] of Object.entries(JSON_KEYS) as [SetupKey, string[]][]) {
    for (const name of names) {
      const value = record[name];
      if (typeof value === "string" && value.trim() !== "") {
        out[key] = value.trim();
        break;
      }
      if (typeof value === "number" && Number.isFinite(value)) {
        out[key] = String(value);
        break;
      }
    }
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * ~/.config/claude-aws-mfa.json (an older helper's settings): a flat object with camelCase or
 * snake_case keys, optionally `profiles: {NAME: {...}}` whose entry for this profile wins.
 * Not JSON, or not an object: undefined (the caller warns and goes on; it is only a source of
 * defaults).
 */
export function parseClaudeAwsMfaConfig(
  text: string,
  profile: string,
): PartialSetupValues | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const flat = pickJson(parsed);
  const profiles = parsed.profiles;
  const own = isRecord(profiles) && isRecord(profiles[profile]) ? pickJson(profiles[profile]) : {};
  return { ...flat, ...own };
}

/** Where a setting lives: the first of these sections that has the key is the one mfa reads. */
interface Location {
  kind: AwsFileKind;
  profile: string;
}

/** Lookup order of mfa's settings (lib/settings.ts): credentials [NAME], config, [NAME-long-term]. */
function settingLocations(profile: string): Location[] {
  return [
    { kind: "credentials", profile },
    { kind: "config", profile },
    { kind: "credentials", profile: `${profile}${LONG_TERM_SUFFIX}` },
  ];
}

function sectionOf(files: AwsFiles, loc: Location): Record<string, string> | undefined {
  return (loc.kind === "config" ? files.config : files.credentials).get(loc.profile);
}

/** Profile keys behind each saved setting (the first name is the one new entries get). */
const PROFILE_KEYS: Partial<Record<SetupKey, string[]>> = {
  region: ["region"],
  mfaSerial: ["mfa_serial", "aws_mfa_device"],
  roleArn: ["role_arn"],
  duration: ["duration_seconds"],
  mfaCommand: ["mfa_process"],
};

function profileSetting(files: AwsFiles, profile: string, key: SetupKey): string | undefined {
  for (const loc of settingLocations(profile)) {
    const section = sectionOf(files, loc);
    for (const name of PROFILE_KEYS[key] ?? []) {
      const value = section?.[name]?.trim();
      if (value) return value;
    }
  }
  return undefined;
}

/** The credentials section that holds (or will hold) the long-term keys. */
export function keysSection(files: AwsFiles, profile: string): string {
  const longTerm = `${profile}${LONG_TERM_SUFFIX}`;
  return files.credentials.has(longTerm) ? longTerm : profile;
}

export interface PrefillSources {
  profile: string;
  files: AwsFiles;
  env: Env;
  /** Values given as flags to `mfa setup` (--region, --mfa-serial, ...): they win. */
  flags?: PartialSetupValues;
  /** Parsed ~/.config/claude-aws-mfa.json. */
  claudeConfig?: PartialSetupValues;
}

/**
 * Per field: flag > the profile in the AWS files > environment > claude-aws-mfa.json > default.
 * The profile beats the environment here because setup edits that profile. Keys from the
 * environment count only when they are long-term (no session token).
 */
export function prefillSetup(src: PrefillSources): SetupPrefill {
  const { files, profile, env } = src;
  const flags = src.flags ?? {};
  const json = src.claudeConfig ?? {};
  const keys = files.credentials.get(keysSection(files, profile)) ?? {};
  const envKeys = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && !env.AWS_SESSION_TOKEN
    ? { id: env.AWS_ACCESS_KEY_ID, secret: env.AWS_SECRET_ACCESS_KEY }
    : undefined;

  const keySources = [
    { id: keys.aws_access_key_id?.trim(), secret: keys.aws_secret_access_key?.trim() },
    { id: envKeys?.id, secret: envKeys?.secret },
    { id: json.accessKeyId, secret: json.secretAccessKey },
  ];
  const keySource = keySources.find((s) => s.id);
  const first = (...candidates: (string | undefined)[]) =>
    candidates.find((c) => c !== undefined && c.trim() !== "")?.trim() ?? "";

  const values: SetupValues = {
    region: first(
      flags.region,
      profileSetting(files, profile, "region"),
      env.AWS_REGION,
      env.AWS_DEFAULT_REGION,
      json.region,
      DEFAULT_SETUP_REGION,
    ),
    accessKeyId: first(keySource?.id),
    secretAccessKey: "",
    mfaSerial: first(
      flags.mfaSerial,
      profileSetting(files, profile, "mfaSerial"),
      env.AWS_MFA_SERIAL,
      json.mfaSerial,
    ),
    roleArn: first(
      flags.roleArn,
      profileSetting(files, profile, "roleArn"),
      env.AWS_MFA_ROLE_ARN,
      json.roleArn,
    ),
    duration: first(
      flags.duration,
      profileSetting(files, profile, "duration"),
      env.AWS_MFA_TTL,
      env.AWS_SESSION_DURATION,
      json.duration,
      DEFAULT_SETUP_DURATION,
    ),
    mfaCommand: first(
      flags.mfaCommand,
      profileSetting(files, profile, "mfaCommand"),
      env.AWS_MFA_COMMAND,
      json.mfaCommand,
    ),
  };
  // Shown as 12h rather than 43200; the file gets seconds back (what the AWS CLI reads).
  if (/^\d+$/.test(values.duration)) values.duration = formatDuration(Number(values.duration));
  const currentSecret = keySource?.secret || undefined;
  return { values, currentSecret, currentKeyId: currentSecret ? values.accessKeyId : undefined };
}

/** Validated answers. Optional settings are undefined when cleared. */
export interface SetupResult {
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  mfaSerial?: string;
  roleArn?: string;
  durationSeconds?: number;
  mfaCommand?: string;
  /** A 6-digit code typed into the command field: used now, never saved. */
  code?: string;
}

const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{16}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** A bare TOTP secret or otpauth URI pasted where a command belongs. */
const LOOKS_LIKE_SECRET = /^(otpauth:\/\/\S+|[A-Z2-7]{16,}=*)$/i;

function cleared(answer: string | undefined): boolean {
  const value = answer?.trim() ?? "";
  return value === "" || value === CLEAR_MARK;
}

function passes(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

function messageOf(err: unknown): string {
  return err instanceof MfaError ? err.message : String(err);
}

/**
 * Checks the answers; problems are one line each, naming the field (never echoing the secret).
 * An empty secret keeps the current one, but only for the same access key id.
 */
export function validateSetupAnswers(
  answers: PartialSetupValues,
  prefill: SetupPrefill,
): { result?: SetupResult; problems: string[] } {
  const problems: string[] = [];
  const text = (key: SetupKey) => (cleared(answers[key]) ? undefined : answers[key]!.trim());

  const region = text("region");
  if (region && !REGION.test(region)) {
    problems.push(`Region ${JSON.stringify(region)} is not a region name (e.g. eu-west-1)`);
  }

  const accessKeyId = text("accessKeyId") ?? "";
  if (!accessKeyId) problems.push("Access key ID is required");
  else if (!ACCESS_KEY_ID.test(accessKeyId)) {
    problems.push("Access key ID must be AKIA or ASIA followed by 16 capitals or digits");
  }

  let secretAccessKey = answers.secretAccessKey?.trim() ?? "";
  if (secretAccessKey === "") {
    if (prefill.typedSecret) {
      secretAccessKey = prefill.typedSecret;
    } else if (prefill.currentSecret && accessKeyId === prefill.currentKeyId) {
      secretAccessKey = prefill.currentSecret;
    } else {
      problems.push(
        prefill.currentSecret
          ? "Secret access key is required for a new access key ID"
          : "Secret access key is required",
      );
    }
  } else if (/\s/.test(secretAccessKey) || secretAccessKey.length < 16) {
    problems.push("Secret access key does not look right (40 characters, no spaces)");
  }

  // The same rules as for --mfa-serial / --role-arn; the form says it in its own words.
  const mfaSerial = text("mfaSerial");
  if (mfaSerial && !passes(() => validateSerial(mfaSerial, "setup"))) {
    problems.push(
      `MFA device ARN ${JSON.stringify(mfaSerial)} is not valid ` +
        "(arn:aws:iam::123456789012:mfa/NAME, or a hardware token's serial)",
    );
  }

  const roleArn = text("roleArn");
  if (roleArn && !passes(() => validateRoleArn(roleArn, "setup"))) {
    problems.push(
      `Role ARN ${JSON.stringify(roleArn)} is not valid (arn:aws:iam::123456789012:role/NAME)`,
    );
  }

  let durationSeconds: number | undefined;
  const duration = text("duration");
  if (duration) {
    try {
      durationSeconds = parseDuration(duration, "session duration");
      checkDurationRange(durationSeconds, roleArn !== undefined, "session duration");
    } catch (err) {
      problems.push(messageOf(err));
    }
  }

  let mfaCommand = text("mfaCommand");
  let code: string | undefined;
  if (mfaCommand && /^\d{3}\s?\d{3}$/.test(mfaCommand)) {
    code = mfaCommand.replace(/\s/, "");
    mfaCommand = undefined;
  } else if (mfaCommand && LOOKS_LIKE_SECRET.test(mfaCommand)) {
    problems.push(
      "MFA command: that looks like a TOTP secret, not a command; enter a command that prints " +
        "it (e.g. pass show aws/totp), or leave it empty to be asked for codes",
    );
  }

  if (problems.length) return { problems };
  return {
    problems,
    result: {
      region,
      accessKeyId,
      secretAccessKey,
      mfaSerial,
      roleArn,
      durationSeconds,
      mfaCommand,
      code,
    },
  };
}

export interface SectionWrite {
  kind: AwsFileKind;
  /** The section header as written between the brackets. */
  header: string;
  /** Keys to set; null deletes. */
  values: Record<string, string | null>;
}

/**
 * Which keys go where. Long-term keys go to credentials `[NAME-long-term]` when it exists (the
 * dual-profile layout), else `[NAME]`. Each setting is updated where mfa reads it from today (so a
 * value in the credentials file is not left shadowing a new one in the config); a new setting goes
 * to the config file. A cleared setting is removed from every section that has it. Unchanged
 * values are not written.
 */
export function planSetupWrites(
  result: SetupResult,
  files: AwsFiles,
  profile: string,
): SectionWrite[] {
  const writes = new Map<string, SectionWrite>();
  const put = (kind: AwsFileKind, sectionProfile: string, key: string, value: string | null) => {
    const header = sectionHeaderFor(kind, sectionProfile);
    const id = `${kind}\0${header}`;
    const write = writes.get(id) ?? { kind, header, values: {} };
    write.values[key] = value;
    writes.set(id, write);
  };

  const keysProfile = keysSection(files, profile);
  const keys = files.credentials.get(keysProfile) ?? {};
  const keysChanged = keys.aws_access_key_id?.trim() !== result.accessKeyId ||
    keys.aws_secret_access_key?.trim() !== result.secretAccessKey;
  if (keysChanged) {
    put("credentials", keysProfile, "aws_access_key_id", result.accessKeyId);
    put("credentials", keysProfile, "aws_secret_access_key", result.secretAccessKey);
    // A session token left beside new long-term keys would make every call fail.
    for (const stale of ["aws_session_token", "aws_security_token", "expiration"]) {
      if (keys[stale] !== undefined) put("credentials", keysProfile, stale, null);
    }
  }

  const settings: [SetupKey, string | undefined][] = [
    ["region", result.region],
    ["mfaSerial", result.mfaSerial],
    ["roleArn", result.roleArn],
    ["duration", result.durationSeconds?.toString()],
    ["mfaCommand", result.mfaCommand],
  ];
  for (const [key, value] of settings) {
    const names = PROFILE_KEYS[key]!;
    const present = settingLocations(profile).flatMap((loc) =>
      names.filter((name) => sectionOf(files, loc)?.[name] !== undefined).map((name) => ({
        loc,
        name,
      }))
    );
    if (value === undefined) {
      for (const { loc, name } of present) put(loc.kind, loc.profile, name, null);
      continue;
    }
    const where = present[0];
    if (where && sectionOf(files, where.loc)?.[where.name]?.trim() === value) continue;
    if (where) put(where.loc.kind, where.loc.profile, where.name, value);
    else put("config", profile, names[0], value);
  }
  return [...writes.values()];
}

/** Every profile name in either file. */
export function hasAnyProfile(files: AwsFiles): boolean {
  return files.credentials.size > 0 || files.config.size > 0;
}

/**
 * First-run experience (SPEC 4): claude-export on a machine with no AWS profile at all, and a
 * desktop to show the form on.
 */
export function shouldRunFirstRunSetup(opts: {
  command: string;
  files: AwsFiles;
  desktopAvailable: boolean;
}): boolean {
  return opts.command === "claude-export" && !hasAnyProfile(opts.files) && opts.desktopAvailable;
}
