/** mfa setup: pre-fill, validation, which keys go where, and the whole flow against temp files. */
import type { AwsFiles } from "../lib/aws_files.ts";
import { firstRunSetup, runSetup, type SetupDeps, setupForm } from "../lib/commands/setup.ts";
import { MfaError } from "../lib/errors.ts";
import { parseAwsIni } from "../lib/ini.ts";
import type { Tty } from "../lib/prompt/driver.ts";
import {
  parseClaudeAwsMfaConfig,
  planSetupWrites,
  prefillSetup,
  type SetupPrefill,
  type SetupResult,
  type SetupValues,
  shouldRunFirstRunSetup,
  validateSetupAnswers,
} from "../lib/setup_values.ts";
import type { RunResult } from "../lib/types.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";

const KEY_ID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NEW_KEY_ID = "AKIAI44QH8DHBEXAMPLE";
const NEW_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
const SERIAL = "arn:aws:iam::123456789012:mfa/alice";
const ROLE = "arn:aws:iam::123456789012:role/admin";

function files(credentials: string, config = ""): AwsFiles {
  return {
    credentials: parseAwsIni(credentials, "credentials", "credentials"),
    config: parseAwsIni(config, "config", "config"),
  };
}

const EMPTY = files("");

function answers(over: Partial<SetupValues> = {}): Partial<SetupValues> {
  return {
    region: "eu-west-1",
    accessKeyId: KEY_ID,
    secretAccessKey: SECRET,
    mfaSerial: SERIAL,
    roleArn: "",
    duration: "12h",
    mfaCommand: "",
    ...over,
  };
}

const NO_PREFILL: SetupPrefill = prefillSetup({ profile: "work", files: EMPTY, env: {} });

// ---- claude-aws-mfa.json ------------------------------------------------------------------------

Deno.test("claude-aws-mfa.json: camelCase or snake_case, per-profile entries win, junk ignored", () => {
  assertEquals(
    parseClaudeAwsMfaConfig(
      JSON.stringify({
        region: "eu-west-2",
        accessKeyId: KEY_ID,
        aws_secret_access_key: SECRET,
        mfaArn: SERIAL,
        duration_seconds: 3600,
        profiles: { work: { role_arn: ROLE, region: "ca-central-1" } },
      }),
      "work",
    ),
    {
      region: "ca-central-1",
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET,
      mfaSerial: SERIAL,
      roleArn: ROLE,
      duration: "3600",
    },
  );
  assertEquals(parseClaudeAwsMfaConfig('{"mfa_serial": "x", "mfaCommand": "pass otp"}', "w"), {
    mfaSerial: "x",
    mfaCommand: "pass otp",
  });
  assertEquals(parseClaudeAwsMfaConfig("not json", "w"), undefined);
  assertEquals(parseClaudeAwsMfaConfig("[1]", "w"), undefined);
});

// ---- pre-fill -----------------------------------------------------------------------------------

Deno.test("prefill: flag > profile > environment > claude-aws-mfa.json > default", () => {
  const aws = files(
    `[work]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\n`,
    `[profile work]\nregion = eu-west-1\nmfa_serial = ${SERIAL}\nduration_seconds = 43200\n`,
  );
  const env = { AWS_REGION: "us-west-2", AWS_MFA_ROLE_ARN: ROLE, AWS_MFA_COMMAND: "env-cmd" };
  const json = { mfaCommand: "json-cmd", duration: "3600", roleArn: "json-role" };
  const p = prefillSetup({
    profile: "work",
    files: aws,
    env,
    claudeConfig: json,
    flags: { mfaCommand: "flag-cmd" },
  });
  assertEquals(p.values, {
    region: "eu-west-1",
    accessKeyId: KEY_ID,
    secretAccessKey: "",
    mfaSerial: SERIAL,
    roleArn: ROLE,
    duration: "12h",
    mfaCommand: "flag-cmd",
  });
  assertEquals([p.currentSecret, p.currentKeyId], [SECRET, KEY_ID]);
  // Nothing configured: defaults only.
  assertEquals(NO_PREFILL.values.region, "us-east-1");
  assertEquals(NO_PREFILL.values.duration, "12h");
  assertEquals(NO_PREFILL.currentSecret, undefined);
});

Deno.test("prefill: keys from [NAME-long-term]; environment keys only when long-term", () => {
  const dual = files(
    `[work]\naws_access_key_id = ASIASESSION000000000\naws_secret_access_key = s\naws_session_token = t\n` +
      `[work-long-term]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\n` +
      `aws_mfa_device = ${SERIAL}\n`,
  );
  const p = prefillSetup({ profile: "work", files: dual, env: {} });
  assertEquals([p.values.accessKeyId, p.currentSecret, p.values.mfaSerial], [
    KEY_ID,
    SECRET,
    SERIAL,
  ]);
  const envKeys = { AWS_ACCESS_KEY_ID: NEW_KEY_ID, AWS_SECRET_ACCESS_KEY: NEW_SECRET };
  assertEquals(
    prefillSetup({ profile: "x", files: EMPTY, env: envKeys }).currentSecret,
    NEW_SECRET,
  );
  const session = { ...envKeys, AWS_SESSION_TOKEN: "tok" };
  assertEquals(prefillSetup({ profile: "x", files: EMPTY, env: session }).values.accessKeyId, "");
});

// ---- validation ---------------------------------------------------------------------------------

Deno.test("validate: good answers; '-' or empty clears optional settings", () => {
  const { result, problems } = validateSetupAnswers(
    answers({ roleArn: "-", mfaCommand: "pass otp aws", region: "" }),
    NO_PREFILL,
  );
  assertEquals(problems, []);
  assertEquals(result, {
    region: undefined,
    accessKeyId: KEY_ID,
    secretAccessKey: SECRET,
    mfaSerial: SERIAL,
    roleArn: undefined,
    durationSeconds: 43200,
    mfaCommand: "pass otp aws",
    code: undefined,
  });
});

Deno.test("validate: each bad field is named, and the secret is never echoed", () => {
  const bad = validateSetupAnswers(
    answers({
      region: "Europe",
      accessKeyId: "AKIA123",
      secretAccessKey: "short secret",
      mfaSerial: "arn:aws:iam::12:mfa/x",
      roleArn: "arn:aws:iam::123456789012:user/bob",
      duration: "forever",
    }),
    NO_PREFILL,
  );
  assertEquals(bad.result, undefined);
  const text = bad.problems.join("\n");
  for (
    const field of ["Region", "Access key ID", "Secret access key", "MFA device ARN", "Role ARN"]
  ) {
    assertStringIncludes(text, field);
  }
  assertStringIncludes(text, "forever");
  assert(!text.includes("short secret"));
  // Role sessions last at most 12h.
  const long = validateSetupAnswers(answers({ roleArn: ROLE, duration: "13h" }), NO_PREFILL);
  assertStringIncludes(long.problems.join(), "out of range");
  assertEquals(validateSetupAnswers(answers({ duration: "36h" }), NO_PREFILL).problems, []);
});

Deno.test("validate: an empty secret keeps the current one, only for the same access key id", () => {
  const prefill: SetupPrefill = {
    values: { ...NO_PREFILL.values, accessKeyId: KEY_ID },
    currentSecret: SECRET,
    currentKeyId: KEY_ID,
  };
  const kept = validateSetupAnswers(answers({ secretAccessKey: "" }), prefill);
  assertEquals(kept.result?.secretAccessKey, SECRET);
  const changed = validateSetupAnswers(
    answers({ accessKeyId: NEW_KEY_ID, secretAccessKey: "" }),
    prefill,
  );
  assertStringIncludes(changed.problems.join(), "new access key ID");
});

Deno.test("validate: a code in the command field is used now, a pasted TOTP secret refused", () => {
  const withCode = validateSetupAnswers(answers({ mfaCommand: "123 456" }), NO_PREFILL);
  assertEquals([withCode.result?.code, withCode.result?.mfaCommand], ["123456", undefined]);
  for (const secret of ["JBSWY3DPEHPK3PXPJBSWY3DP", "otpauth://totp/aws?secret=JBSWY3DP"]) {
    const refused = validateSetupAnswers(answers({ mfaCommand: secret }), NO_PREFILL);
    assertStringIncludes(refused.problems.join(), "TOTP secret");
  }
});

// ---- where things are written -------------------------------------------------------------------

function result(over: Partial<SetupResult> = {}): SetupResult {
  return {
    region: "eu-west-1",
    accessKeyId: KEY_ID,
    secretAccessKey: SECRET,
    mfaSerial: SERIAL,
    durationSeconds: 43200,
    ...over,
  };
}

Deno.test("plan: a new profile: keys to credentials [NAME], settings to config [profile NAME]", () => {
  assertEquals(planSetupWrites(result({ roleArn: ROLE, mfaCommand: "cmd" }), EMPTY, "work"), [
    {
      kind: "credentials",
      header: "work",
      values: { aws_access_key_id: KEY_ID, aws_secret_access_key: SECRET },
    },
    {
      kind: "config",
      header: "profile work",
      values: {
        region: "eu-west-1",
        mfa_serial: SERIAL,
        role_arn: ROLE,
        duration_seconds: "43200",
        mfa_process: "cmd",
      },
    },
  ]);
  assertEquals(planSetupWrites(result(), EMPTY, "default").map((w) => w.header), [
    "default",
    "default",
  ]);
});

Deno.test("plan: dual-profile keys stay in [NAME-long-term]; settings updated where they live", () => {
  const existing = files(
    `[work-long-term]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\n` +
      `aws_mfa_device = arn:aws:iam::123456789012:mfa/old\n`,
    `[profile work]\nregion = eu-west-1\nrole_arn = ${ROLE}\n`,
  );
  const writes = planSetupWrites(
    result({ accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET }),
    existing,
    "work",
  );
  assertEquals(writes, [
    {
      kind: "credentials",
      header: "work-long-term",
      values: {
        aws_access_key_id: NEW_KEY_ID,
        aws_secret_access_key: NEW_SECRET,
        aws_mfa_device: SERIAL,
      },
    },
    // region unchanged: not written; role cleared: removed; duration new: added.
    {
      kind: "config",
      header: "profile work",
      values: { role_arn: null, duration_seconds: "43200" },
    },
  ]);
});

Deno.test("plan: nothing changed → nothing written; stale session keys removed with new keys", () => {
  const same = files(
    `[work]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\n`,
    `[profile work]\nregion = eu-west-1\nmfa_serial = ${SERIAL}\nduration_seconds = 43200\n`,
  );
  assertEquals(planSetupWrites(result(), same, "work"), []);
  const session = files(
    `[work]\naws_access_key_id = ASIAOLD0000000000000\naws_secret_access_key = x\n` +
      `aws_session_token = t\nexpiration = 2020-01-01T00:00:00Z\n`,
  );
  const [keys] = planSetupWrites(result(), session, "work");
  assertEquals(keys.values, {
    aws_access_key_id: KEY_ID,
    aws_secret_access_key: SECRET,
    aws_session_token: null,
    expiration: null,
  });
});

Deno.test("first run: only claude-export, no profile at all, and a desktop", () => {
  const some = files(`[x]\naws_access_key_id = a\n`);
  const cases: [string, AwsFiles, boolean, boolean][] = [
    ["claude-export", EMPTY, true, true],
    ["claude-export", EMPTY, false, false],
    ["claude-export", some, true, false],
    ["exports", EMPTY, true, false],
  ];
  for (const [command, f, desktop, expected] of cases) {
    assertEquals(
      shouldRunFirstRunSetup({ command, files: f, desktopAvailable: desktop }),
      expected,
    );
  }
});

// ---- the whole flow against real files ----------------------------------------------------------

interface Flow {
  dir: string;
  credentialsFile: string;
  configFile: string;
  deps: SetupDeps;
  logs: string[];
  ttyText: string[];
  runs: string[][];
}

async function withFlow(
  opts: { terminal?: boolean; run?: (argv: string[]) => Promise<RunResult>; desktop?: boolean },
  fn: (flow: Flow) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mfa-setup-" });
  const flow: Flow = {
    dir,
    credentialsFile: `${dir}/.aws/credentials`,
    configFile: `${dir}/.aws/config`,
    logs: [],
    ttyText: [],
    runs: [],
    deps: {
      env: opts.desktop ? { DISPLAY: ":0" } : {},
      os: "linux",
      home: dir,
      hasTerminal: () => opts.terminal === true,
      run: (argv) => {
        flow.runs.push(argv);
        return opts.run ? opts.run(argv) : Promise.resolve({ code: 0, stdout: "", stderr: "" });
      },
      log: {
        debug: (m) => flow.logs.push(m),
        warn: (m) => flow.logs.push(m),
        info: (m) => flow.logs.push(m),
      },
    },
  };
  try {
    await fn(flow);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The terminal answers these lines in turn; only zenity is on PATH. */
function overrides(flow: Flow, answersList: string[]) {
  const left = [...answersList];
  return {
    openTty: (): Tty => ({
      write: (t) => flow.ttyText.push(t),
      readLine: (opts) => {
        flow.ttyText.push(opts?.prompt ?? "");
        return Promise.resolve(left.length ? left.shift()! : null);
      },
      close: () => {},
    }),
    which: (name: string) => Promise.resolve(name === "zenity" ? "/usr/bin/zenity" : undefined),
  };
}

Deno.test("setup: terminal questions write both files, keeping what was there", async () => {
  await withFlow({ terminal: true }, async (flow) => {
    await Deno.mkdir(`${flow.dir}/.aws`);
    const before = "# my keys\n[other]\naws_access_key_id = AKIAOTHER00000000000\n";
    await Deno.writeTextFile(flow.credentialsFile, before);
    // region (default us-east-1 kept), key, secret, serial, role (none), duration, command.
    const typed = ["", KEY_ID, SECRET, SERIAL, "", "8h", "pass otp aws"];
    const outcome = await runSetup(
      {
        profile: "work",
        gui: false,
        credentialsFile: flow.credentialsFile,
        configFile: flow.configFile,
      },
      flow.deps,
      overrides(flow, typed),
    );
    assertEquals(outcome.code, undefined);
    const credentials = await Deno.readTextFile(flow.credentialsFile);
    assert(credentials.startsWith(before), credentials);
    assertStringIncludes(
      credentials,
      `[work]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\n`,
    );
    const config = parseAwsIni(await Deno.readTextFile(flow.configFile), "config", "config");
    assertEquals(config.get("work"), {
      region: "us-east-1",
      mfa_serial: SERIAL,
      duration_seconds: "28800",
      mfa_process: "pass otp aws",
    });
    if (Deno.build.os !== "windows") {
      assertEquals((await Deno.stat(flow.configFile)).mode! & 0o777, 0o600);
    }
    // The secret was neither shown on the terminal nor logged.
    assert(!flow.ttyText.join("").includes(SECRET));
    assert(!flow.logs.join("\n").includes(SECRET));
    assertStringIncludes(flow.logs.join("\n"), "saved profile work");
  });
});

Deno.test("setup: a bad answer shows the form again with the problem; 3 strikes is a usage error", async () => {
  await withFlow({ terminal: true }, async (flow) => {
    const bad = ["", "AKIA-nope", SECRET, SERIAL, "", "", ""];
    const good = ["", KEY_ID, "", "", "", "", "654321"];
    const outcome = await runSetup(
      {
        profile: "default",
        gui: false,
        credentialsFile: flow.credentialsFile,
        configFile: flow.configFile,
      },
      flow.deps,
      overrides(flow, [...bad, ...good]),
    );
    // The secret typed the first time was kept for the second try; the code is handed back.
    assertEquals(outcome.code, "654321");
    assertStringIncludes(flow.ttyText.join(""), "Please fix: Access key ID");
    assertStringIncludes(await Deno.readTextFile(flow.credentialsFile), SECRET);

    const err = await assertRejects(() =>
      runSetup(
        {
          profile: "x",
          gui: false,
          credentialsFile: flow.credentialsFile,
          configFile: flow.configFile,
        },
        flow.deps,
        overrides(flow, [...bad, ...bad, ...bad]),
      )
    );
    assert(err instanceof MfaError && err.kind === "usage", String(err));
  });
});

Deno.test("setup --gui: one zenity form, its answers written", async () => {
  const form = [
    "eu-central-1",
    KEY_ID,
    SECRET,
    SERIAL,
    ROLE,
    "1h",
    "",
  ].join("\x1f");
  await withFlow(
    { desktop: true, run: () => Promise.resolve({ code: 0, stdout: `${form}\n`, stderr: "" }) },
    async (flow) => {
      await runSetup(
        {
          profile: "work",
          gui: true,
          credentialsFile: flow.credentialsFile,
          configFile: flow.configFile,
        },
        flow.deps,
        overrides(flow, []),
      );
      assertEquals(flow.runs.length, 1);
      assertEquals(flow.runs[0].slice(0, 2), ["zenity", "--forms"]);
      assert(!flow.runs[0].some((a) => a.includes(SECRET)));
      const config = parseAwsIni(await Deno.readTextFile(flow.configFile), "config", "config");
      assertEquals(config.get("work")?.role_arn, ROLE);
      assertEquals(config.get("work")?.duration_seconds, "3600");
    },
  );
});

Deno.test("setup: cancelling the form writes nothing (exit 130)", async () => {
  await withFlow(
    { desktop: true, run: () => Promise.resolve({ code: 1, stdout: "", stderr: "" }) },
    async (flow) => {
      const err = await assertRejects(() =>
        runSetup(
          {
            profile: "work",
            gui: true,
            credentialsFile: flow.credentialsFile,
            configFile: flow.configFile,
          },
          flow.deps,
          overrides(flow, []),
        )
      );
      assert(err instanceof MfaError && err.exitCode === 130);
      assertEquals(await Deno.stat(flow.credentialsFile).catch(() => "missing"), "missing");
    },
  );
});

Deno.test("setup: refuses /dev/null as a target", async () => {
  await withFlow({ terminal: true }, async (flow) => {
    const err = await assertRejects(() =>
      runSetup(
        { profile: "w", gui: false, credentialsFile: "/dev/null", configFile: flow.configFile },
        flow.deps,
        overrides(flow, []),
      )
    );
    assert(err instanceof MfaError && err.kind === "write");
  });
});

Deno.test("setup form: names the files and the clear mark, never carries the secret", () => {
  const form = setupForm(
    {
      profile: "work",
      gui: false,
      credentialsFile: "/home/u/.aws/credentials",
      configFile: "/home/u/.aws/config",
    },
    { values: { ...NO_PREFILL.values, accessKeyId: KEY_ID }, currentSecret: SECRET },
    "/home/u",
  );
  assertStringIncludes(form.text, "~/.aws/credentials");
  assertStringIncludes(form.text, "Type - to clear");
  assert(!JSON.stringify(form).includes(SECRET));
  assertEquals(form.fields.map((f) => f.key), [
    "region",
    "accessKeyId",
    "secretAccessKey",
    "mfaSerial",
    "roleArn",
    "duration",
    "mfaCommand",
  ]);
});

Deno.test("first run: claude-export with no profile opens the form and hands back its code", async () => {
  const form = ["", KEY_ID, SECRET, SERIAL, "", "", "123456"].join("\x1f");
  await withFlow(
    { desktop: true, run: () => Promise.resolve({ code: 0, stdout: `${form}\n`, stderr: "" }) },
    async (flow) => {
      const where = {
        profile: "default",
        credentialsFile: flow.credentialsFile,
        configFile: flow.configFile,
      };
      const skipped = await firstRunSetup(
        { ...where, command: "exports" },
        EMPTY,
        flow.deps,
        overrides(flow, []),
      );
      assertEquals([skipped, flow.runs.length], [undefined, 0]);
      const outcome = await firstRunSetup(
        { ...where, command: "claude-export" },
        EMPTY,
        flow.deps,
        overrides(flow, []),
      );
      assertEquals(outcome?.code, "123456");
      assertStringIncludes(flow.runs[0].find((a) => a.startsWith("--text="))!, "No AWS profile");
      assertStringIncludes(await Deno.readTextFile(flow.credentialsFile), `[default]\n`);
    },
  );
});
