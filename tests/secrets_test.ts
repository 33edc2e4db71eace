/**
 * Never a secret on stderr, even verbose: every command runs with -v, then AWS_MFA_DEBUG=1, and
 * stderr is searched for the long-term secret, the TOTP secret, every session secret and token the
 * fake issued, and every MFA code used. mfa's own files (cache entries, state.json) never hold the
 * long-term keys, the TOTP secret or a code.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { DEFAULT_USER } from "./fake_sts.ts";
import { makeSandbox, type RunOutput, type Sandbox } from "./helpers.ts";

const ROLE_ONE_HOUR = "arn:aws:iam::123456789012:role/one-hour";
const ROLE_TWO_HOURS = "arn:aws:iam::123456789012:role/two-hours";

const CONFIG = `[profile work]
role_arn = ${ROLE_ONE_HOUR}
source_profile = default
mfa_serial = ${DEFAULT_USER.mfaSerial}

[profile negotiated]
role_arn = ${ROLE_TWO_HOURS}
source_profile = default
mfa_serial = ${DEFAULT_USER.mfaSerial}
`;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Codes count as whole words only (account 123456789012 is not code 123456); secrets anywhere. */
function findSecrets(text: string, secrets: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [label, value] of secrets) {
    const printed = /^\d+$/.test(value)
      ? new RegExp(`(?<!\\w)${escape(value)}(?!\\w)`).test(text)
      : text.includes(value);
    if (printed) found.push(label);
  }
  return found;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const item of Deno.readDir(dir)) {
    const path = `${dir}/${item.name}`;
    if (item.isDirectory) out.push(...await filesUnder(path));
    else if (item.isFile) out.push(path);
  }
  return out;
}

interface Step {
  label: string;
  args: string[];
  exit?: number;
}

async function runEverything(
  box: Sandbox,
  verbose: { args: string[]; env: Record<string, string> },
  afterEachRun: () => Promise<void> = () => Promise.resolve(),
) {
  const codeNow = await box.code();
  const codeNext = await box.fake.codeFor(DEFAULT_USER.accessKeyId, 1);
  const codePrev = await box.fake.codeFor(DEFAULT_USER.accessKeyId, -1);
  const codes = [codeNow, codeNext, codePrev];
  let wrong = Number(codeNow);
  do wrong = (wrong + 7919) % 1_000_000; while (codes.includes(String(wrong).padStart(6, "0")));
  const wrongCode = String(wrong).padStart(6, "0");

  const steps: Step[] = [
    // Cold, the code computed locally from a TOTP secret the mfa command prints.
    {
      label: "exports via a TOTP mfa command",
      args: ["exports", "--mfa-command", `echo ${DEFAULT_USER.totpSecret}`],
    },
    { label: "claude-export (cold)", args: ["claude-export", "--refresh", "--code", codeNext] },
    ...["sh", "fish", "powershell", "cmd", "dotenv", "json"].map((format) => ({
      label: `exports --format ${format}`,
      args: ["exports", "--format", format],
    })),
    { label: "credential-process", args: ["credential-process"] },
    // A 1h role reached through the cached MFA session: AssumeRole without a code.
    {
      label: "exports -p work (role from the MFA session)",
      args: ["exports", "-p", "work", "-d", "1h"],
    },
    // Duration negotiation: 12h, 6h refused, then 2h.
    {
      label: "claude-export -p negotiated",
      args: ["claude-export", "-p", "negotiated", "-d", "12h", "--code", codePrev],
    },
    { label: "update-profile", args: ["update-profile", "--security-token"] },
    { label: "exec", args: ["exec", "--", "/bin/sh", "-c", "exit 0"] },
    { label: "status", args: ["status"] },
    { label: "unsets", args: ["unsets"] },
    { label: "completions bash", args: ["completions", "bash"] },
    { label: "clear -p work", args: ["clear", "-p", "work"] },
    // Failures print the cause's stack when verbose: still no code or secret in it.
    {
      label: "a wrong code (verbose failure)",
      args: ["exports", "--refresh", "--code", wrongCode],
      exit: 1,
    },
  ];
  const outputs: { step: Step; out: RunOutput }[] = [];
  for (const step of steps) {
    const out = await box.run([...verbose.args, ...step.args], { env: verbose.env });
    assertEquals(out.code, step.exit ?? 0, `${step.label}: ${out.stderr}`);
    outputs.push({ step, out });
    await afterEachRun();
  }
  box.fake.setFault({ kind: "status", status: 500 });
  const serverError = await box.run([
    ...verbose.args,
    "claude-export",
    "--refresh",
    "--code",
    codeNow,
  ], {
    env: verbose.env,
  });
  box.fake.setFault();
  assertEquals(serverError.code, 1, serverError.stderr);
  outputs.push({ step: { label: "STS 500 (verbose failure)", args: [] }, out: serverError });
  return { outputs, codes: [...codes, wrongCode] };
}

/** Every session the fake issued: found from the calls made with them, stdout and the cache. */
async function issuedSessions(box: Sandbox, stdouts: string[]): Promise<Map<string, string>> {
  const ids = new Set<string>();
  for (const call of box.fake.calls) ids.add(call.accessKeyId);
  for (const text of stdouts) for (const m of text.matchAll(/ASIA[A-Z2-7]{16}/g)) ids.add(m[0]);
  for (const path of await filesUnder(box.mfaHome)) {
    for (const m of (await Deno.readTextFile(path)).matchAll(/ASIA[A-Z2-7]{16}/g)) ids.add(m[0]);
  }
  const secrets = new Map<string, string>();
  for (const id of ids) {
    const issued = box.fake.issued(id);
    if (!issued) continue;
    secrets.set(`session secret of ${id}`, issued.secretAccessKey);
    secrets.set(`session token of ${id}`, issued.sessionToken);
  }
  return secrets;
}

interface Verbosity {
  name: string;
  args: string[];
  env: Record<string, string>;
}

const VARIANTS: Verbosity[] = [
  { name: "-v", args: ["-v"], env: {} },
  { name: "AWS_MFA_DEBUG=1", args: [], env: { AWS_MFA_DEBUG: "1" } },
];

for (const variant of VARIANTS) {
  Deno.test(`with ${variant.name}, no command prints a secret, token or code`, async () => {
    await using box = await makeSandbox({ config: CONFIG });
    const { outputs, codes } = await runEverything(box, variant);
    const secrets = new Map<string, string>([
      ["long-term secret key", DEFAULT_USER.secretAccessKey],
      ["TOTP secret", DEFAULT_USER.totpSecret],
      ...codes.map((code, i) => [`MFA code #${i}`, code] as [string, string]),
      ...await issuedSessions(box, outputs.map((o) => o.out.stdout)),
    ]);
    // Sessions from GetSessionToken, the 1h role, the negotiated role: at least three were issued.
    assert(secrets.size >= 4 + 3 * 2, `too few secrets collected: ${secrets.size}`);
    // Verbose really was on: the cold run explained itself.
    assertMatch(outputs[0].out.stderr, /^mfa: /m);
    for (const { step, out } of outputs) {
      assertEquals(findSecrets(out.stderr, secrets), [], `${step.label} printed: ${out.stderr}`);
    }
  });
}

Deno.test("cache and state.json hold no long-term key, TOTP secret or code", async () => {
  await using box = await makeSandbox({ config: CONFIG });
  // What mfa's home held after each run (`clear` removes entries later runs made).
  const seen = new Map<string, string>();
  let runs = 0;
  const { codes } = await runEverything(box, { args: [], env: {} }, async () => {
    runs++;
    for (const file of await filesUnder(box.mfaHome)) {
      seen.set(`${file} after run ${runs}`, await Deno.readTextFile(file));
    }
  });
  const forbidden = new Map<string, string>([
    ["long-term secret key", DEFAULT_USER.secretAccessKey],
    ["long-term access key id", DEFAULT_USER.accessKeyId],
    ["TOTP secret", DEFAULT_USER.totpSecret],
    ...codes.map((code, i) => [`MFA code #${i}`, code] as [string, string]),
  ]);
  const entries = new Map<string, { accessKeyId: string; sessionToken: string }>();
  for (const [where, text] of seen) {
    assertEquals(findSecrets(text, forbidden), [], `${where}:\n${text}`);
    if (/\/cache\/[0-9a-f]{64}\.json /.test(where)) {
      const entry = JSON.parse(text);
      entries.set(entry.accessKeyId, entry);
    }
  }
  assert([...seen.keys()].some((w) => w.includes("/state.json ")), "state.json was never written");
  // Sessions seen cached: the MFA session, the 1h role, the negotiated role.
  assert(entries.size >= 3, `only ${entries.size} cached sessions seen`);
  // What the cache does hold is temporary credentials the fake issued.
  for (const entry of entries.values()) {
    assertMatch(entry.accessKeyId, /^ASIA/);
    assertEquals(box.fake.issued(entry.accessKeyId)?.sessionToken, entry.sessionToken);
  }
});

Deno.test("control: a code is found as a word, not inside an account id or a longer number", () => {
  const secrets = new Map([["code", "123456"], ["token", "IQoJb3+/x=="]]);
  assertEquals(findSecrets("arn:aws:iam::123456789012:mfa/alice 1234567", secrets), []);
  assertEquals(findSecrets('{"code":"123456"}', secrets), ["code"]);
  assertEquals(findSecrets("mfa: code 123456 rejected", secrets), ["code"]);
  assertEquals(findSecrets("token=IQoJb3+/x==\n", secrets), ["token"]);
  assertEquals(findSecrets("xIQoJb3+/x==y", secrets), ["token"]);
});
