/**
 * The spawned CLI for update-profile, exec, shell and unsets, against tests/fake_sts.ts
 * (and, where installed, the real AWS CLI v2 and real shells).
 */
import assert from "node:assert/strict";
import { DEFAULT_USER } from "./fake_sts.ts";
import { hasStackTrace, makeSandbox, type RunOutput, type Sandbox } from "./helpers.ts";
import { parseAwsIni } from "../lib/ini.ts";
import { runProgram, which } from "./programs.ts";

const AWS_V2 = "/usr/bin/aws";
const isWindows = Deno.build.os === "windows";

const has = (program: string) => which(program) !== undefined;

const LONG_TERM = `[default-long-term]
aws_access_key_id = ${DEFAULT_USER.accessKeyId}
aws_secret_access_key = ${DEFAULT_USER.secretAccessKey}
aws_mfa_device = ${DEFAULT_USER.mfaSerial}
`;

const BEFORE_DEFAULT = `# Personal AWS credentials — ünïcode comment
; edited by hand, keep this

${LONG_TERM}
`;
const AFTER_DEFAULT = `
# an unrelated profile
[other]
aws_access_key_id = AKIAOTHEROTHEROTHER1
aws_secret_access_key = other/secret
`;
/** A dual-profile file where [default] holds an old session, between comments and other profiles. */
const DUAL_FILE = `${BEFORE_DEFAULT}[default]
# session written by mfa
aws_access_key_id = ASIAOLDOLDOLDOLDOLD1
aws_secret_access_key = oldsecret
aws_session_token = oldtoken
aws_security_token = oldtoken
region = eu-west-1
${AFTER_DEFAULT}`;

function assertNoSecrets(out: RunOutput, ...secrets: string[]) {
  for (const secret of [DEFAULT_USER.secretAccessKey, ...secrets]) {
    assert.ok(!out.stderr.includes(secret), "a secret on stderr");
  }
}

async function awsCli(sb: Sandbox, args: string[]): Promise<RunOutput> {
  return await runProgram(AWS_V2, {
    args: [...args, "--endpoint-url", sb.fake.url, "--region", "us-east-1", "--output", "json"],
    env: {
      HOME: sb.home,
      PATH: "/usr/bin:/bin",
      AWS_SHARED_CREDENTIALS_FILE: sb.credentialsFile,
      AWS_CONFIG_FILE: sb.configFile,
      AWS_EC2_METADATA_DISABLED: "true",
    },
  });
}

// ---- update-profile ------------------------------------------------------------------------------

Deno.test({
  name: "update-profile: the real AWS CLI v2 uses the written session; only [default] changed",
  ignore: !has(AWS_V2),
  fn: async () => {
    await using sb = await makeSandbox({ credentials: DUAL_FILE });
    const out = await sb.run(["update-profile", "--code", await sb.code()]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "");
    assert.match(
      out.stderr,
      /^mfa: wrote profile \[default\] in .*credentials, expires \d\d:\d\d \(in 1[12]h \d+m\)\n$/,
    );
    const after = await Deno.readTextFile(sb.credentialsFile);
    // Every byte outside [default] is unchanged.
    assert.ok(after.startsWith(`${BEFORE_DEFAULT}[default]\n`));
    assert.ok(after.endsWith(AFTER_DEFAULT));
    // Inside it: values replaced in place, the stale token gone, comment and region kept.
    const section = after.slice(BEFORE_DEFAULT.length, after.length - AFTER_DEFAULT.length);
    assert.match(
      section,
      /^\[default\]\n# session written by mfa\naws_access_key_id = ASIA\w+\n/,
    );
    assert.match(
      section,
      /\naws_secret_access_key = \S+\naws_session_token = \S+\nregion = eu-west-1\nexpiration = \S+\n$/,
    );
    const profiles = parseAwsIni(after, sb.credentialsFile, "credentials");
    const session = profiles.get("default")!;
    assert.match(session.aws_access_key_id, /^ASIA/);
    assert.equal(session.region, "eu-west-1");
    assert.equal(session.aws_security_token, undefined); // stale one removed (no --security-token)
    assert.match(session.expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const issued = sb.fake.issued(session.aws_access_key_id)!;
    assert.equal(session.aws_secret_access_key, issued.secretAccessKey);
    assert.equal(session.aws_session_token, issued.sessionToken);
    assert.equal(
      new Date(session.expiration).getTime(),
      Math.floor(issued.expiration / 1000) * 1000,
    );
    assertNoSecrets(out, issued.secretAccessKey, issued.sessionToken);

    const identity = await awsCli(sb, ["--profile", "default", "sts", "get-caller-identity"]);
    assert.equal(identity.code, 0, identity.stderr);
    assert.equal(JSON.parse(identity.stdout).Account, DEFAULT_USER.account);
    const seen = sb.fake.callsOf("GetCallerIdentity").at(-1)!;
    assert.equal(seen.accessKeyId, session.aws_access_key_id);
    assert.equal(seen.status, 200);
  },
});

Deno.test("update-profile: keeps CRLF line endings; appends [default] when missing", async () => {
  const crlf = `${LONG_TERM}\n[other]\nregion = x\n`.replace(/\n/g, "\r\n");
  await using sb = await makeSandbox({ credentials: crlf });
  const out = await sb.run(["update-profile", "--code", await sb.code()]);
  assert.equal(out.code, 0, out.stderr);
  const after = await Deno.readTextFile(sb.credentialsFile);
  assert.ok(after.startsWith(`${crlf}\r\n[default]\r\naws_access_key_id = ASIA`));
  assert.ok(!/[^\r]\n/.test(after), "a bare LF in a CRLF file");
});

Deno.test("update-profile: without a long-term section the target is mfa-NAME", async () => {
  await using sb = await makeSandbox(); // [default] with keys and mfa_serial
  const before = await Deno.readTextFile(sb.credentialsFile);
  const out = await sb.run(["update-profile", "--code", await sb.code()]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /wrote profile \[mfa-default\]/);
  const after = await Deno.readTextFile(sb.credentialsFile);
  assert.ok(after.startsWith(`${before}\n[mfa-default]\n`));
});

Deno.test("update-profile: --security-token writes aws_security_token; --target picks the section", async () => {
  await using sb = await makeSandbox({ credentials: LONG_TERM });
  const code = await sb.code();
  const out = await sb.run([
    "update-profile",
    "--code",
    code,
    "--target",
    "legacy",
    "--security-token",
  ]);
  assert.equal(out.code, 0, out.stderr);
  const legacy = parseAwsIni(await Deno.readTextFile(sb.credentialsFile), "f", "credentials")
    .get("legacy")!;
  assert.equal(legacy.aws_security_token, legacy.aws_session_token);
  // The next run (cached session, no code) without the flag drops the token again.
  const again = await sb.run(["update-profile", "--target", "legacy"]);
  assert.equal(again.code, 0, again.stderr);
  const now = parseAwsIni(await Deno.readTextFile(sb.credentialsFile), "f", "credentials");
  assert.equal(now.get("legacy")!.aws_security_token, undefined);
  assert.equal(now.get("legacy")!.aws_session_token, legacy.aws_session_token);
  assert.equal(sb.fake.callsOf("GetSessionToken").length, 1);
});

Deno.test({
  name: "update-profile: an existing 0640 file stays 0640; a new file is 0600 in a 0700 directory",
  ignore: isWindows,
  fn: async () => {
    await using sb = await makeSandbox({ credentials: DUAL_FILE });
    await Deno.chmod(sb.credentialsFile, 0o640);
    const out = await sb.run(["update-profile", "--code", await sb.code()]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal((await Deno.stat(sb.credentialsFile)).mode! & 0o777, 0o640);

    // Keys in the config file; the credentials file does not exist yet.
    const config = `[default]\naws_access_key_id = ${DEFAULT_USER.accessKeyId}\n` +
      `aws_secret_access_key = ${DEFAULT_USER.secretAccessKey}\nmfa_serial = ${DEFAULT_USER.mfaSerial}\n`;
    await using fresh = await makeSandbox({ credentials: null, config });
    const newFile = `${fresh.home}/new-dir/credentials`;
    const created = await fresh.run([
      "update-profile",
      "--code",
      await fresh.code(),
      "--credentials-file",
      newFile,
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await Deno.stat(newFile)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${fresh.home}/new-dir`)).mode! & 0o777, 0o700);
    assert.match(await Deno.readTextFile(newFile), /^\[mfa-default\]\naws_access_key_id = ASIA/);
  },
});

Deno.test("update-profile: refuses to write into long-term keys, before asking for a code", async (t) => {
  const cases: { name: string; credentials: string; args: string[]; pattern: RegExp }[] = [
    {
      name: "the long-term section itself",
      credentials: DUAL_FILE,
      args: ["--target", "default-long-term"],
      pattern: /refusing to overwrite \[default-long-term\]: it holds the long-term keys/,
    },
    {
      name: "the source profile when it is NAME",
      credentials: `[default]\naws_access_key_id = ${DEFAULT_USER.accessKeyId}\n` +
        `aws_secret_access_key = ${DEFAULT_USER.secretAccessKey}\nmfa_serial = ${DEFAULT_USER.mfaSerial}\n`,
      args: ["--target", "default"],
      pattern: /refusing to overwrite \[default\]/,
    },
    {
      name: "another profile with long-term keys",
      credentials: DUAL_FILE,
      args: ["--target", "other"],
      pattern: /refusing to overwrite \[other\] in .*: it holds long-term keys/,
    },
    {
      name: "[NAME] holding long-term keys next to [NAME-long-term]",
      credentials: `${LONG_TERM}\n[default]\naws_access_key_id = AKIASTILLLONGTERM001\n` +
        "aws_secret_access_key = x\n",
      args: [],
      pattern: /refusing to overwrite \[default\]/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await using sb = await makeSandbox({ credentials: c.credentials });
      // No --code and AWS_MFA_PROMPT=none: asking for a code would fail differently.
      const out = await sb.run(["update-profile", ...c.args]);
      assert.equal(out.code, 1, out.stderr);
      assert.match(out.stderr, c.pattern);
      assert.match(out.stderr, /\nhint: .*--target/);
      assert.ok(!hasStackTrace(out.stderr));
      assert.equal(await Deno.readTextFile(sb.credentialsFile), c.credentials);
      assert.equal(sb.fake.calls.length, 0);
    });
  }
});

Deno.test("update-profile: an invalid --target is a usage error", async () => {
  await using sb = await makeSandbox({ credentials: DUAL_FILE });
  const out = await sb.run(["update-profile", "--target", "a]b", "--code", await sb.code()]);
  assert.equal(out.code, 2, out.stderr);
  assert.match(out.stderr, /invalid --target/);
  assert.equal(await Deno.readTextFile(sb.credentialsFile), DUAL_FILE);
});

Deno.test({
  name: "update-profile: an unwritable target fails with exit 1 and leaves the file alone",
  ignore: isWindows,
  fn: async () => {
    await using sb = await makeSandbox({ credentials: DUAL_FILE });
    const out = await sb.run([
      "update-profile",
      "--code",
      await sb.code(),
      "--credentials-file",
      `${sb.credentialsFile}/not-a-dir/credentials`,
    ]);
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stderr, /^mfa: error: /);
    assert.equal(await Deno.readTextFile(sb.credentialsFile), DUAL_FILE);
  },
});

// ---- exec ----------------------------------------------------------------------------------------

Deno.test({
  name: "exec: runs the command with the session and exits with its code",
  ignore: isWindows,
  fn: async () => {
    await using sb = await makeSandbox();
    const script = 'echo "$AWS_ACCESS_KEY_ID ${AWS_PROFILE-unset} ${AWS_SECURITY_TOKEN-unset} ' +
      '$AWS_CREDENTIAL_EXPIRATION ${AWS_SESSION_TOKEN:+token}"; exit 7';
    const out = await sb.run(["exec", "--code", await sb.code(), "--", "sh", "-c", script], {
      env: { AWS_PROFILE: "default", AWS_SECURITY_TOKEN: "stale" },
    });
    assert.equal(out.code, 7, out.stderr);
    const [key, profile, securityToken, expiration, token] = out.stdout.trim().split(" ");
    assert.match(key, /^ASIA/);
    assert.ok(sb.fake.issued(key), "the child got the key the fake issued");
    assert.equal(profile, "unset");
    assert.equal(securityToken, "unset");
    assert.match(expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(token, "token");
  },
});

Deno.test({
  name: "exec: a child killed by a signal gives 128+N; a missing command 127",
  ignore: isWindows,
  fn: async () => {
    await using sb = await makeSandbox();
    const code = await sb.code();
    const killed = await sb.run(["exec", "--code", code, "--", "sh", "-c", "kill -TERM $$"]);
    assert.equal(killed.code, 143, killed.stderr);
    const missing = await sb.run(["exec", "--", "mfa-no-such-command-xyz"]);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /^mfa: error: command not found: mfa-no-such-command-xyz\n/);
  },
});

Deno.test({
  name: "exec: a profile without MFA settings passes the environment through",
  ignore: isWindows,
  fn: async () => {
    await using sb = await makeSandbox({
      credentials: "[plain]\naws_access_key_id = AKIAPLAINPLAINPLAIN1\naws_secret_access_key = s\n",
    });
    const out = await sb.run(
      ["exec", "-v", "--", "sh", "-c", 'echo "$AWS_PROFILE ${AWS_SESSION_TOKEN-none}"; exit 3'],
      { env: { AWS_PROFILE: "plain" } },
    );
    assert.equal(out.code, 3, out.stderr);
    assert.equal(out.stdout, "plain none\n");
    assert.match(out.stderr, /no MFA settings/);
    assert.equal(sb.fake.calls.length, 0);
  },
});

Deno.test("exec: no command is a usage error", async () => {
  await using sb = await makeSandbox();
  for (const args of [["exec"], ["exec", "--"], ["exec", "--code", "123456", "--"]]) {
    const out = await sb.run(args);
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /^mfa: error: exec needs a command after --\nhint: usage: mfa exec/);
  }
  assert.equal(sb.fake.calls.length, 0);
});

// ---- shell ---------------------------------------------------------------------------------------

Deno.test({
  name: "shell: starts $SHELL with the session and exits with its code",
  ignore: isWindows,
  fn: async () => {
    await using sb = await makeSandbox();
    const out = await sb.run(["shell", "--code", await sb.code()], {
      env: { SHELL: "/bin/sh" },
      stdin: 'echo "$AWS_MFA_SHELL $AWS_ACCESS_KEY_ID"\nexit 5\n',
    });
    assert.equal(out.code, 5, out.stderr);
    const [shellProfile, key] = out.stdout.trim().split(" ");
    assert.equal(shellProfile, "default");
    assert.ok(sb.fake.issued(key));
    assert.match(
      out.stderr,
      /^mfa: starting \/bin\/sh with default credentials, expires \d\d:\d\d \(in 1[12]h \d+m\)\n$/,
    );
  },
});

Deno.test({
  name: "shell: nested shells are refused unless --force",
  ignore: isWindows,
  fn: async () => {
    await using sb = await makeSandbox();
    const env = { SHELL: "/bin/sh", AWS_MFA_SHELL: "default" };
    const refused = await sb.run(["shell", "--code", await sb.code()], { env, stdin: "exit 0\n" });
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      "mfa: error: already inside an mfa shell (profile default)\n" +
        "hint: exit the current mfa shell first, or pass --force\n",
    );
    assert.equal(sb.fake.calls.length, 0);
    const forced = await sb.run(["shell", "--force", "--code", await sb.code()], {
      env,
      stdin: "exit 4\n",
    });
    assert.equal(forced.code, 4, forced.stderr);
  },
});

// ---- unsets --------------------------------------------------------------------------------------

const SIX = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
];

async function runShell(shell: string, args: string[]): Promise<RunOutput> {
  return await runProgram(shell, {
    args,
    env: { PATH: "/usr/bin:/bin", HOME: "/tmp" },
  });
}

for (const shell of ["bash", "dash", "zsh", "ksh"]) {
  Deno.test({
    name: `unsets: sh output clears all six variables in ${shell}`,
    ignore: !has(shell),
    fn: async () => {
      // A broken credentials file: unsets reads no AWS file.
      await using sb = await makeSandbox({ credentials: "[broken\n" });
      const out = await sb.run(["unsets", "--format", "sh"]);
      assert.equal(out.code, 0, out.stderr);
      const preset = SIX.map((name) => `export ${name}=preset`).join("; ");
      const check = `${preset}; eval "$UNSETS"; env | grep '^AWS_' || echo clean`;
      const result = await runShell(shell, ["-c", `UNSETS=${shellQuote(out.stdout)}; ${check}`]);
      assert.equal(result.stdout, "clean\n", result.stderr);
      assert.equal(result.stderr, "");
    },
  });
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

Deno.test({
  name: "unsets: fish output clears all six variables in fish",
  ignore: !has("fish"),
  fn: async () => {
    await using sb = await makeSandbox();
    const out = await sb.run(["unsets", "--format", "fish"]);
    assert.equal(out.code, 0, out.stderr);
    const preset = SIX.map((name) => `set -gx ${name} preset`).join("; ");
    const result = await runShell("fish", [
      "-c",
      `${preset}; ${out.stdout.trim().replaceAll("\n", " ")} env | grep '^AWS_'; or echo clean`,
    ]);
    assert.equal(result.stdout, "clean\n", result.stderr);
  },
});

Deno.test({
  name: "unsets: powershell output clears all six variables in pwsh",
  ignore: !has("pwsh"),
  fn: async () => {
    await using sb = await makeSandbox();
    const out = await sb.run(["unsets", "--format", "powershell"]);
    const preset = SIX.map((name) => `$env:${name} = 'preset'`).join("; ");
    const script = `${preset}\n${out.stdout}\n` +
      `if (Get-ChildItem Env: | Where-Object Name -like 'AWS_*') { 'left' } else { 'clean' }`;
    const result = await runShell("pwsh", ["-NoProfile", "-Command", script]);
    assert.equal(result.stdout.trim(), "clean", result.stderr);
  },
});

Deno.test("unsets: cmd, dotenv and json name all six variables", async () => {
  await using sb = await makeSandbox();
  const cmd = await sb.run(["unsets", "--format", "cmd"]);
  assert.deepEqual(cmd.stdout.trim().split("\n"), SIX.map((name) => `set "${name}="`));
  const dotenv = await sb.run(["unsets", "--format", "dotenv"]);
  assert.deepEqual(dotenv.stdout.trim().split("\n"), SIX.map((name) => `${name}=`));
  const json = await sb.run(["unsets", "--format", "json"]);
  assert.deepEqual(JSON.parse(json.stdout), Object.fromEntries(SIX.map((name) => [name, null])));
  // Without --format: sh, and the same from the environment's fish marker.
  const auto = await sb.run(["unsets"]);
  assert.equal(auto.stdout, `unset ${SIX.join(" ")}\n`);
  const fish = await sb.run(["unsets"], { env: { FISH_VERSION: "3.7.0" } });
  assert.match(fish.stdout, /set -e -g AWS_ACCESS_KEY_ID/);
  assert.equal(sb.fake.calls.length, 0);
});

Deno.test("update-profile: 8 parallel runs into different targets all land (writes are serialized)", async () => {
  await using sb = await makeSandbox();
  const code = await sb.code();
  // The first run fetches the session; the parallel ones read it from the cache and race on the file.
  const first = await sb.run(["update-profile", "--code", code, "--target", "t0"]);
  assert.equal(first.code, 0, first.stderr);
  const runs = await Promise.all(
    Array.from({ length: 8 }, (_, i) => sb.run(["update-profile", "--target", `t${i + 1}`])),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const profiles = parseAwsIni(
    await Deno.readTextFile(sb.credentialsFile),
    "credentials",
    "credentials",
  );
  for (let i = 0; i <= 8; i++) {
    assert.ok(profiles.get(`t${i}`)?.aws_session_token, `t${i} is missing`);
  }
  assert.ok(profiles.get("default")?.aws_secret_access_key, "long-term keys kept");
});
