import { assert, assertEquals } from "./assert.ts";
import type { OptionValues } from "../lib/cli.ts";
import { MfaError } from "../lib/errors.ts";
import { parseAwsIni } from "../lib/ini.ts";
import {
  type AwsProfiles,
  commandTimeoutMs,
  expandHome,
  resolvePaths,
  resolveSettings,
  validateCode,
  validateRoleArn,
  validateSerial,
} from "../lib/settings.ts";
import type { Env, Settings } from "../lib/types.ts";

const HOME = "/home/alice";
const ACCOUNT = "123456789012";
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const KEYS = "aws_access_key_id = AKIABASEKEY000000000\naws_secret_access_key = base-secret\n";

/** AWS files as text, parsed by the real INI parser. */
function files(credentials: string, config = ""): AwsProfiles {
  return {
    credentials: parseAwsIni(credentials, `${HOME}/.aws/credentials`, "credentials"),
    config: parseAwsIni(config, `${HOME}/.aws/config`, "config"),
  };
}

function resolve(
  aws: AwsProfiles,
  options: OptionValues = {},
  env: Env = {},
  command = "exports",
): Settings {
  return resolveSettings(options, env, aws, resolvePaths(options, env, HOME, command));
}

function errorOf(fn: () => unknown): MfaError {
  try {
    fn();
  } catch (err) {
    assert(err instanceof MfaError, `expected an MfaError, got ${err}`);
    return err;
  }
  throw new Error("expected an error");
}

function usageErrorOf(fn: () => unknown): MfaError {
  const err = errorOf(fn);
  assertEquals(err.kind, "usage", err.message);
  assertEquals(err.exitCode, 2);
  return err;
}

// ---------------------------------------------------------------------------------------------
// Precedence: flag > environment (first listed wins) > profile key > default, for every option.

interface PrecedenceRow {
  option: string;
  flag: string | boolean;
  /** Environment variables in their precedence order, with a distinct value each. */
  env: [string, string][];
  /** A profile key (in the config file's [default]) and its value, when the option has one. */
  profileKey?: [string, string];
  read: (s: Settings) => unknown;
  /** What `read` gives for the flag, each env value, the profile value and the default. */
  expect: { flag: unknown; env: unknown[]; profile?: unknown; fallback: unknown };
}

const ROWS: PrecedenceRow[] = [
  {
    option: "profile",
    flag: "from-flag",
    env: [["AWS_PROFILE", "from-aws-profile"], ["AWS_DEFAULT_PROFILE", "from-default-profile"]],
    read: (s) => s.profile,
    expect: {
      flag: "from-flag",
      env: ["from-aws-profile", "from-default-profile"],
      fallback: "default",
    },
  },
  {
    option: "mfa-serial",
    flag: `arn:aws:iam::${ACCOUNT}:mfa/flag`,
    env: [["AWS_MFA_SERIAL", `arn:aws:iam::${ACCOUNT}:mfa/env`]],
    profileKey: ["mfa_serial", `arn:aws:iam::${ACCOUNT}:mfa/profile`],
    read: (s) => s.mfaSerial,
    expect: {
      flag: `arn:aws:iam::${ACCOUNT}:mfa/flag`,
      env: [`arn:aws:iam::${ACCOUNT}:mfa/env`],
      profile: `arn:aws:iam::${ACCOUNT}:mfa/profile`,
      fallback: undefined,
    },
  },
  {
    option: "role-arn",
    flag: `arn:aws:iam::${ACCOUNT}:role/Flag`,
    env: [["AWS_MFA_ROLE_ARN", `arn:aws:iam::${ACCOUNT}:role/Env`]],
    profileKey: ["role_arn", `arn:aws:iam::${ACCOUNT}:role/Profile`],
    read: (s) => s.role?.arn,
    expect: {
      flag: `arn:aws:iam::${ACCOUNT}:role/Flag`,
      env: [`arn:aws:iam::${ACCOUNT}:role/Env`],
      profile: `arn:aws:iam::${ACCOUNT}:role/Profile`,
      fallback: undefined,
    },
  },
  {
    option: "duration",
    flag: "1h",
    env: [["AWS_MFA_TTL", "2h"], ["AWS_SESSION_DURATION", "10800"]],
    profileKey: ["duration_seconds", "14400"],
    read: (s) => [s.durationSeconds, s.durationExplicit],
    expect: {
      flag: [3600, true],
      env: [[7200, true], [10_800, true]],
      profile: [14_400, true],
      fallback: [43_200, false],
    },
  },
  {
    option: "region",
    flag: "eu-west-1",
    env: [["AWS_REGION", "eu-west-2"], ["AWS_DEFAULT_REGION", "eu-west-3"]],
    profileKey: ["region", "eu-central-1"],
    read: (s) => s.region,
    expect: {
      flag: "eu-west-1",
      env: ["eu-west-2", "eu-west-3"],
      profile: "eu-central-1",
      fallback: undefined,
    },
  },
  {
    option: "code",
    flag: "111111",
    env: [["AWS_MFA_TOKEN", "222222"]],
    read: (s) => s.code,
    expect: { flag: "111111", env: ["222222"], fallback: undefined },
  },
  {
    option: "mfa-command",
    flag: "echo flag",
    env: [["AWS_MFA_COMMAND", "echo env"]],
    profileKey: ["mfa_process", "echo profile"],
    read: (s) => s.mfaCommand,
    expect: { flag: "echo flag", env: ["echo env"], profile: "echo profile", fallback: undefined },
  },
  {
    option: "op-item",
    flag: "Flag item",
    env: [["AWS_MFA_UPDATER_OP_ITEM_NAME", "Env item"]],
    profileKey: ["mfa_op_item", "Profile item"],
    read: (s) => s.opItem,
    expect: { flag: "Flag item", env: ["Env item"], profile: "Profile item", fallback: undefined },
  },
  {
    option: "op-account",
    flag: "flag.1password.com",
    env: [["AWS_MFA_UPDATER_OP_ACCOUNT", "env.1password.com"]],
    profileKey: ["mfa_op_account", "profile.1password.com"],
    read: (s) => s.opAccount,
    expect: {
      flag: "flag.1password.com",
      env: ["env.1password.com"],
      profile: "profile.1password.com",
      fallback: undefined,
    },
  },
  {
    option: "prompt",
    flag: "gui",
    env: [["AWS_MFA_PROMPT", "terminal"]],
    read: (s) => s.prompt,
    expect: { flag: "gui", env: ["terminal"], fallback: "auto" },
  },
  {
    option: "endpoint-url",
    flag: "http://127.0.0.1:1/flag",
    env: [["AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1/sts"], [
      "AWS_ENDPOINT_URL",
      "http://127.0.0.1:1/any",
    ]],
    read: (s) => s.endpointUrl,
    expect: {
      flag: "http://127.0.0.1:1/flag",
      env: ["http://127.0.0.1:1/sts", "http://127.0.0.1:1/any"],
      fallback: undefined,
    },
  },
  {
    option: "credentials-file",
    flag: "/flag/credentials",
    env: [["AWS_SHARED_CREDENTIALS_FILE", "/env/credentials"]],
    read: (s) => s.credentialsFile,
    expect: {
      flag: "/flag/credentials",
      env: ["/env/credentials"],
      fallback: `${HOME}/.aws/credentials`,
    },
  },
  {
    option: "config-file",
    flag: "/flag/config",
    env: [["AWS_CONFIG_FILE", "/env/config"]],
    read: (s) => s.configFile,
    expect: { flag: "/flag/config", env: ["/env/config"], fallback: `${HOME}/.aws/config` },
  },
  {
    option: "verbose",
    flag: true,
    env: [["AWS_MFA_DEBUG", "1"]],
    read: (s) => s.verbose,
    expect: { flag: true, env: [true], fallback: false },
  },
];

for (const row of ROWS) {
  Deno.test(`precedence of --${row.option}: flag > env > profile key > default`, () => {
    const profileSection = row.profileKey ? `${row.profileKey[0]} = ${row.profileKey[1]}\n` : "";
    // Every profile the profile row may select exists and has the same keys.
    const credentials = ["default", "from-flag", "from-aws-profile", "from-default-profile"]
      .map((name) => `[${name}]\n${KEYS}`).join("");
    const withKey = files(credentials, `[default]\n${profileSection}`);
    const withoutKey = files(credentials);
    const allEnv = Object.fromEntries(row.env);

    assertEquals(row.read(resolve(withKey, { [row.option]: row.flag }, allEnv)), row.expect.flag);
    // Each environment variable wins over the ones listed after it, and over the profile key.
    row.env.forEach((_, i) => {
      const env = Object.fromEntries(row.env.slice(i));
      assertEquals(row.read(resolve(withKey, {}, env)), row.expect.env[i], row.env[i][0]);
      // An empty variable counts as unset.
      const blanked = {
        ...allEnv,
        ...Object.fromEntries(row.env.slice(0, i).map(([k]) => [k, ""])),
      };
      assertEquals(
        row.read(resolve(withKey, {}, blanked)),
        row.expect.env[i],
        `${row.env[i][0]} after blanks`,
      );
    });
    if (row.profileKey) assertEquals(row.read(resolve(withKey)), row.expect.profile);
    assertEquals(row.read(resolve(withoutKey)), row.expect.fallback);
  });
}

Deno.test("--refresh and --no-cache are flags only, off by default", () => {
  const aws = files(`[default]\n${KEYS}`);
  const plain = resolve(aws);
  assertEquals([plain.refresh, plain.noCache], [false, false]);
  const both = resolve(aws, { refresh: true, "no-cache": true });
  assertEquals([both.refresh, both.noCache], [true, true]);
});

Deno.test("aws_mfa_device is read when mfa_serial is absent; mfa_serial wins over it", () => {
  const device = `arn:aws:iam::${ACCOUNT}:mfa/device`;
  assertEquals(
    resolve(files(`[default]\n${KEYS}aws_mfa_device = ${device}\n`)).mfaSerial,
    device,
  );
  assertEquals(
    resolve(files(`[default]\n${KEYS}aws_mfa_device = ${device}\nmfa_serial = ${SERIAL}\n`))
      .mfaSerial,
    SERIAL,
  );
});

Deno.test("the credentials file wins over the config file for the same profile key", () => {
  const s = resolve(
    files(`[default]\n${KEYS}region = eu-north-1\n`, "[default]\nregion = eu-west-1\n"),
  );
  assertEquals(s.region, "eu-north-1");
});

// ---------------------------------------------------------------------------------------------
// Profiles: dual-profile convention, role_arn + source_profile, role chains.

Deno.test("[NAME-long-term] holds the keys and the MFA device; NAME is the session target", () => {
  const longTermSection = `[work-long-term]
aws_access_key_id = AKIALONGTERM00000000
aws_secret_access_key = long-term-secret
aws_mfa_device = ${SERIAL}
`;
  const sessionSection = `[work]
aws_access_key_id = ASIAOLDSESSION000000
aws_secret_access_key = old-session-secret
aws_session_token = old-token
`;
  for (const credentials of [longTermSection + sessionSection, longTermSection]) {
    const s = resolve(files(credentials), { profile: "work" });
    assertEquals(s.profile, "work");
    assertEquals(s.sourceProfile, "work-long-term");
    assertEquals(s.dualProfile, true);
    assertEquals(s.profileFound, true);
    assertEquals(s.longTerm, {
      accessKeyId: "AKIALONGTERM00000000",
      secretAccessKey: "long-term-secret",
      sessionToken: undefined,
    });
    assertEquals(s.mfaSerial, SERIAL);
    assertEquals(s.hasMfaSettings, true);
  }
});

Deno.test("a plain profile is its own source", () => {
  const s = resolve(files(`[work]\n${KEYS}`), { profile: "work" });
  assertEquals([s.sourceProfile, s.dualProfile], ["work", false]);
  assertEquals(s.longTerm?.accessKeyId, "AKIABASEKEY000000000");
  assertEquals(s.role, undefined);
});

Deno.test("role_arn + source_profile: keys from the source, role options from the role profile", () => {
  const config = `[profile admin]
role_arn = ${ADMIN_ROLE}
source_profile = base
external_id = ext-123
role_session_name = alice-admin

[profile base]
mfa_serial = ${SERIAL}
`;
  const s = resolve(files(`[base]\n${KEYS}`, config), {}, { AWS_PROFILE: "admin" });
  assertEquals(s.profile, "admin");
  assertEquals(s.sourceProfile, "base");
  assertEquals(s.dualProfile, false);
  assertEquals(s.longTerm?.accessKeyId, "AKIABASEKEY000000000");
  assertEquals(s.role, { arn: ADMIN_ROLE, externalId: "ext-123", sessionName: "alice-admin" });
  assertEquals(s.mfaSerial, SERIAL, "mfa_serial found in the source profile");
  assertEquals(s.profileFound, true);
  assertEquals(s.hasMfaSettings, true);

  // The role profile's own mfa_serial wins over the source's.
  const own = `arn:aws:iam::${ACCOUNT}:mfa/own`;
  const s2 = resolve(
    files(
      `[base]\n${KEYS}`,
      config.replace("source_profile = base", `source_profile = base\nmfa_serial = ${own}`),
    ),
    { profile: "admin" },
  );
  assertEquals(s2.mfaSerial, own);
});

Deno.test("--role-arn on a plain profile: AssumeRole with that profile's keys", () => {
  const role = `arn:aws:iam::${ACCOUNT}:role/FromFlag`;
  const s = resolve(files(`[default]\n${KEYS}`), { "role-arn": role });
  assertEquals(s.role?.arn, role);
  assertEquals(s.sourceProfile, "default");
  assertEquals(s.hasMfaSettings, true);
  // A role allows at most 12h.
  usageErrorOf(() => resolve(files(`[default]\n${KEYS}`), { "role-arn": role, duration: "13h" }));
  assertEquals(resolve(files(`[default]\n${KEYS}`), { duration: "13h" }).durationSeconds, 46_800);
});

Deno.test("role chain: source_profile pointing at a role profile becomes role.via", () => {
  const inner = `arn:aws:iam::210987654321:role/Deploy`;
  const config = `[profile deploy]
role_arn = ${inner}
source_profile = admin

[profile admin]
role_arn = ${ADMIN_ROLE}
source_profile = base
external_id = admin-ext

[profile base]
mfa_serial = ${SERIAL}
`;
  const s = resolve(files(`[base]\n${KEYS}`, config), { profile: "deploy" });
  assertEquals(s.sourceProfile, "base");
  assertEquals(s.longTerm?.accessKeyId, "AKIABASEKEY000000000");
  assertEquals(s.role, {
    arn: inner,
    externalId: undefined,
    sessionName: undefined,
    via: { arn: ADMIN_ROLE, externalId: "admin-ext", sessionName: undefined },
  });
  assertEquals(s.mfaSerial, SERIAL);
});

Deno.test("source_profile with a -long-term section takes the keys from it", () => {
  const config = `[profile admin]\nrole_arn = ${ADMIN_ROLE}\nsource_profile = base\n`;
  const credentials = `[base-long-term]\n${KEYS}mfa_serial = ${SERIAL}\n`;
  const s = resolve(files(credentials, config), { profile: "admin" });
  assertEquals(s.sourceProfile, "base-long-term");
  assertEquals(s.longTerm?.accessKeyId, "AKIABASEKEY000000000");
  assertEquals(s.mfaSerial, SERIAL);
});

Deno.test("a source_profile loop is a config error naming the profile", () => {
  const config = `[profile a]
role_arn = arn:aws:iam::${ACCOUNT}:role/A
source_profile = b

[profile b]
role_arn = arn:aws:iam::${ACCOUNT}:role/B
source_profile = a
`;
  const err = errorOf(() => resolve(files("", config), { profile: "a" }));
  assertEquals(err.kind, "config");
  assertEquals(err.exitCode, 1);
  assert(err.message.includes("loop"), err.message);
  assert(err.hint?.includes("source_profile"), err.hint);
});

// ---------------------------------------------------------------------------------------------
// Validation.

Deno.test("MFA serial: device ARNs (any partition, with path) and hardware serials", () => {
  for (
    const serial of [
      SERIAL,
      `arn:aws:iam::${ACCOUNT}:mfa/path/to/alice`,
      `arn:aws-us-gov:iam::${ACCOUNT}:mfa/alice`,
      `arn:aws-cn:iam::${ACCOUNT}:mfa/alice.b@example.com`,
      "GAHT12345678",
      "SN123456789",
    ]
  ) {
    assertEquals(validateSerial(serial, "flag"), serial);
    assertEquals(resolve(files(`[default]\n${KEYS}`), { "mfa-serial": serial }).mfaSerial, serial);
  }
  for (
    const bad of [
      "alice",
      "arn:aws:iam::12345:mfa/alice",
      `arn:aws:iam::${ACCOUNT}:user/alice`,
      `arn:aws:iam::${ACCOUNT}:mfa/`,
      "arn:aws:iam::123456789012:mfa/alice bob",
      "GAHT-1234",
      "",
    ]
  ) {
    usageErrorOf(() => validateSerial(bad, "flag"));
  }
  const fromEnv = usageErrorOf(() =>
    resolve(files(`[default]\n${KEYS}`), {}, { AWS_MFA_SERIAL: "not-an-arn" })
  );
  assert(fromEnv.message.includes("AWS_MFA_SERIAL"), fromEnv.message);
  assert(fromEnv.hint?.includes("arn:aws:iam::"), fromEnv.hint);
});

Deno.test("role ARN validation: flag, environment and every hop of a chain", () => {
  assertEquals(validateRoleArn(ADMIN_ROLE, "flag"), ADMIN_ROLE);
  assertEquals(
    validateRoleArn(`arn:aws:iam::${ACCOUNT}:role/service-role/My.Role+x@y`, "flag"),
    `arn:aws:iam::${ACCOUNT}:role/service-role/My.Role+x@y`,
  );
  for (
    const bad of [SERIAL, "Admin", `arn:aws:iam::123:role/Admin`, `arn:aws:sts::${ACCOUNT}:role/A`]
  ) {
    usageErrorOf(() => validateRoleArn(bad, "flag"));
  }
  const aws = files(`[default]\n${KEYS}`);
  usageErrorOf(() => resolve(aws, { "role-arn": "arn:aws:iam::1:role/x" }));
  const fromEnv = usageErrorOf(() => resolve(aws, {}, { AWS_MFA_ROLE_ARN: "Admin" }));
  assert(fromEnv.message.includes("AWS_MFA_ROLE_ARN"), fromEnv.message);

  const chain = `[profile deploy]
role_arn = ${ADMIN_ROLE}
source_profile = broken

[profile broken]
role_arn = not-a-role
source_profile = default
`;
  const err = errorOf(() => resolve(files(`[default]\n${KEYS}`, chain), { profile: "deploy" }));
  assert(err.message.includes("not-a-role"), err.message);
});

Deno.test("MFA code: exactly 6 digits; the error never contains the code", () => {
  assertEquals(validateCode("123456", "flag"), "123456");
  assertEquals(validateCode(" 654321\n", "prompt"), "654321");
  assertEquals(resolve(files(""), { code: "000042" }).code, "000042");
  for (
    const bad of ["97531", "9753108", "97531a", "abcdef", "975 31", "97 5310", "", "９７５３１０"]
  ) {
    const err = usageErrorOf(() => validateCode(bad, "flag"));
    if (bad.trim()) {
      assert(!err.message.includes(bad.trim()), `message leaks the code: ${err.message}`);
      assert(!err.hint?.includes(bad.trim()), `hint leaks the code: ${err.hint}`);
    }
  }
  const fromEnv = usageErrorOf(() => resolve(files(""), {}, { AWS_MFA_TOKEN: "97531" }));
  assert(fromEnv.message.includes("AWS_MFA_TOKEN"), fromEnv.message);
  assert(!fromEnv.message.includes("97531"), fromEnv.message);
  usageErrorOf(() => resolve(files(""), { code: "97531x" }));
});

Deno.test("prompt mode: an invalid value from flag or environment is a usage error", () => {
  for (const mode of ["auto", "terminal", "gui", "none"]) {
    assertEquals(resolve(files(""), {}, { AWS_MFA_PROMPT: mode }).prompt, mode);
  }
  const err = usageErrorOf(() => resolve(files(""), {}, { AWS_MFA_PROMPT: "sometimes" }));
  assert(err.message.includes("AWS_MFA_PROMPT"), err.message);
  usageErrorOf(() => resolve(files(""), { prompt: "dialog" }));
});

Deno.test("duration: unparsable or out of range from flag or environment is a usage error", () => {
  const aws = files(`[default]\n${KEYS}`);
  usageErrorOf(() => resolve(aws, { duration: "abc" }));
  usageErrorOf(() => resolve(aws, { duration: "899" }));
  usageErrorOf(() => resolve(aws, { duration: "129601" }));
  assertEquals(resolve(aws, { duration: "36h" }).durationSeconds, 129_600);
  const fromEnv = usageErrorOf(() => resolve(aws, {}, { AWS_MFA_TTL: "1x" }));
  assert(fromEnv.message.includes("AWS_MFA_TTL"), fromEnv.message);
  const sessionEnv = usageErrorOf(() => resolve(aws, {}, { AWS_SESSION_DURATION: "10" }));
  assert(sessionEnv.message.includes("AWS_SESSION_DURATION"), sessionEnv.message);
});

Deno.test("region and endpoint URL are validated", () => {
  const aws = files(`[default]\n${KEYS}`);
  assertEquals(resolve(aws, { region: "us-gov-west-1" }).region, "us-gov-west-1");
  usageErrorOf(() => resolve(aws, { region: "Europe" }));
  usageErrorOf(() => resolve(aws, {}, { AWS_REGION: "eu west 1" }));
  usageErrorOf(() => resolve(aws, { "endpoint-url": "ftp://example.com" }));
  const err = usageErrorOf(() => resolve(aws, {}, { AWS_ENDPOINT_URL_STS: "not a url" }));
  assert(err.message.includes("AWS_ENDPOINT_URL_STS"), err.message);
});

Deno.test("profile name: invalid characters are a usage error", () => {
  usageErrorOf(() => resolve(files(""), { profile: "a]b" }));
  usageErrorOf(() => resolve(files(""), {}, { AWS_PROFILE: "x\ny" }));
});

// ---------------------------------------------------------------------------------------------
// Found / explicit / MFA settings.

Deno.test("profileFound and profileExplicit", () => {
  const none = resolve(files(""));
  assertEquals([none.profile, none.profileFound, none.profileExplicit], ["default", false, false]);
  const unknown = resolve(files(`[default]\n${KEYS}`), {}, { AWS_PROFILE: "nope" });
  assertEquals([unknown.profile, unknown.profileFound, unknown.profileExplicit], [
    "nope",
    false,
    true,
  ]);
  assertEquals(unknown.longTerm, undefined);
  const found = resolve(files(`[default]\n${KEYS}`));
  assertEquals([found.profileFound, found.profileExplicit], [true, false]);
  const configOnly = resolve(files("", "[profile cfg]\nregion = eu-west-1\n"), { profile: "cfg" });
  assertEquals([configOnly.profileFound, configOnly.longTerm], [true, undefined]);
  const longTermOnly = resolve(files(`[x-long-term]\n${KEYS}`), { profile: "x" });
  assertEquals(longTermOnly.profileFound, true);
});

Deno.test("hasMfaSettings: any of serial, role, code, command, 1Password item or dual profile", () => {
  const plain = `[default]\n${KEYS}`;
  assertEquals(resolve(files(plain)).hasMfaSettings, false);
  assertEquals(resolve(files(`${plain}mfa_serial = ${SERIAL}\n`)).hasMfaSettings, true);
  assertEquals(resolve(files(plain), { code: "123456" }).hasMfaSettings, true);
  assertEquals(resolve(files(plain), {}, { AWS_MFA_COMMAND: "echo" }).hasMfaSettings, true);
  assertEquals(resolve(files(plain, "[default]\nmfa_op_item = AWS\n")).hasMfaSettings, true);
  assertEquals(resolve(files(plain), { "role-arn": ADMIN_ROLE }).hasMfaSettings, true);
  assertEquals(resolve(files(`[default-long-term]\n${KEYS}`)).hasMfaSettings, true);
  // A region or duration alone is not an MFA setting.
  assertEquals(
    resolve(files(plain), { region: "eu-west-1", duration: "1h" }).hasMfaSettings,
    false,
  );
});

Deno.test("a session token on the source keys is kept", () => {
  const s = resolve(files(`[default]\n${KEYS}aws_session_token = tok\n`));
  assertEquals(s.longTerm?.sessionToken, "tok");
});

// ---------------------------------------------------------------------------------------------
// Paths.

Deno.test("resolvePaths: /dev/null credentials from the environment are ignored only for claude-export", () => {
  const env = { AWS_SHARED_CREDENTIALS_FILE: "/dev/null" };
  const claude = resolvePaths({}, env, HOME, "claude-export");
  assertEquals(claude.credentialsFile, `${HOME}/.aws/credentials`);
  assertEquals(claude.credentialsFileIgnored, true);

  for (const command of ["exports", "credential-process", "exec", "update-profile"]) {
    const other = resolvePaths({}, env, HOME, command);
    assertEquals(
      [other.credentialsFile, other.credentialsFileIgnored],
      ["/dev/null", false],
      command,
    );
  }
  // The flag always wins, even when it is /dev/null.
  const flagged = resolvePaths({ "credentials-file": "/dev/null" }, env, HOME, "claude-export");
  assertEquals([flagged.credentialsFile, flagged.credentialsFileIgnored], ["/dev/null", false]);
  const other = resolvePaths({ "credentials-file": "/x/creds" }, env, HOME, "claude-export");
  assertEquals([other.credentialsFile, other.credentialsFileIgnored], ["/x/creds", false]);

  // resolveSettings carries the note through.
  const s = resolve(files(""), {}, env, "claude-export");
  assertEquals([s.credentialsFile, s.credentialsFileIgnored], [`${HOME}/.aws/credentials`, true]);
});

Deno.test("resolvePaths: ~ expansion and AWS_MFA_HOME", () => {
  const paths = resolvePaths(
    { "credentials-file": "~/keys/credentials" },
    { AWS_CONFIG_FILE: "~/cfg/config", AWS_MFA_HOME: "~/state" },
    HOME,
    "exports",
  );
  assertEquals(paths.credentialsFile, `${HOME}/keys/credentials`);
  assertEquals(paths.configFile, `${HOME}/cfg/config`);
  assertEquals(paths.mfaHome, `${HOME}/state`);
  assertEquals(resolvePaths({}, {}, HOME, "exports").mfaHome, `${HOME}/.aws/mfa`);
  assertEquals(resolvePaths({}, { AWS_MFA_HOME: "/var/mfa" }, HOME, "exports").mfaHome, "/var/mfa");
  assertEquals(resolvePaths({}, { AWS_MFA_HOME: "" }, HOME, "exports").mfaHome, `${HOME}/.aws/mfa`);
  assertEquals(expandHome("~", HOME), HOME);
  assertEquals(expandHome("~bob/x", HOME), "~bob/x");
  assertEquals(expandHome("/abs/~/x", HOME), "/abs/~/x");
  const s = resolve(files(""), {}, { AWS_MFA_HOME: "~/m" });
  assertEquals(s.mfaHome, `${HOME}/m`);
});

Deno.test("AWS_MFA_COMMAND_TIMEOUT: seconds or units; invalid is a usage error", () => {
  assertEquals(commandTimeoutMs(undefined), undefined);
  assertEquals(commandTimeoutMs(""), undefined);
  assertEquals(commandTimeoutMs("20"), 20_000);
  assertEquals(commandTimeoutMs("2m"), 120_000);
  usageErrorOf(() => commandTimeoutMs("0"));
  const err = usageErrorOf(() => commandTimeoutMs("soon"));
  assert(err.message.includes("AWS_MFA_COMMAND_TIMEOUT"), err.message);
  assertEquals(
    resolve(files(""), {}, { AWS_MFA_COMMAND_TIMEOUT: "45" }).mfaCommandTimeoutMs,
    45_000,
  );
  assertEquals(resolve(files("")).mfaCommandTimeoutMs, undefined);
});
