/**
 * Property tests for shell quoting: random nasty values → formatExports → the real shell evaluates
 * it the way a user would (`eval "$(…)"`, `… | source`, `… | Invoke-Expression`) → a child process
 * (`env -0`) sees exactly the same bytes. Hundreds of cases run in one shell process per shell.
 * Reproduce a failure with QUOTING_SEED=<seed printed in the message>.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { EXPORT_VARIABLES, type ExportFormat, formatExports, formatUnsets } from "../lib/format.ts";
import type { Credentials } from "../lib/types.ts";
import { which } from "./programs.ts";

const SEED = Number(Deno.env.get("QUOTING_SEED") ?? crypto.getRandomValues(new Uint32Array(1))[0]);
const CASES = Number(Deno.env.get("QUOTING_CASES") ?? 500);

const findProgram = which;

/** mulberry32: small, seedable, good enough to pick characters. */
function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Characters and sequences that have meant something to some shell, plus Unicode oddities. */
const NASTY = [
  "'",
  '"',
  "\\",
  "$",
  "`",
  "!",
  "%",
  "^",
  "&",
  "|",
  ";",
  "\n",
  "\t",
  "\r",
  " ",
  "*",
  "?",
  "~",
  "#",
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  "<",
  ">",
  "=",
  "@",
  ",",
  "-",
  "--",
  "-e",
  "\r\n",
  "\x1b[31m",
  "\x7f",
  "\x01",
  "é",
  "日本",
  "😀",
  "‘",
  "’",
  "‚",
  "‛",
  "“",
  "”",
  "„",
  "\u0085",
  "\u2028",
  "\u00a0",
  "\ufeff",
  "\uf600",
  "\ufdd0",
  "\ufffe",
  "\uffff",
  "\u{10ffff}",
  "ÿ",
  "Ł",
  "'\\''",
  "''",
  "$(",
  "${",
  "$'",
  "%PATH%",
  "!x!",
  "\\n",
  "\\'",
  "\\\\",
  "`n",
  "$Env:HOME",
  "*.*",
  "{a,b}",
  "~root",
  "$((1))",
];

function randomCodePoint(random: () => number): string {
  const r = random();
  let cp: number;
  if (r < 0.4) cp = 0x80 + Math.floor(random() * (0x800 - 0x80));
  else if (r < 0.8) {
    do cp = 0x800 + Math.floor(random() * (0x10000 - 0x800)); while (cp >= 0xd800 && cp <= 0xdfff);
  } else cp = 0x10000 + Math.floor(random() * (0x110000 - 0x10000));
  return String.fromCodePoint(cp);
}

function randomValue(random: () => number): string {
  const pieces = Math.floor(random() * 25);
  let out = "";
  for (let i = 0; i < pieces; i++) {
    const r = random();
    if (r < 0.45) out += NASTY[Math.floor(random() * NASTY.length)];
    // Any byte 0x01..0x7f (NUL cannot live in an environment variable).
    else if (r < 0.8) out += String.fromCharCode(1 + Math.floor(random() * 0x7f));
    else out += randomCodePoint(random);
  }
  return out;
}

function randomCredentials(random: () => number): Credentials {
  const same = random() < 0.2 ? randomValue(random) : undefined;
  const value = () => same ?? randomValue(random);
  return {
    accessKeyId: value(),
    secretAccessKey: value(),
    sessionToken: value(),
    expiration: new Date(Math.floor(random() * 4e12)),
    region: random() < 0.25 ? undefined : value(),
    profile: "p",
    source: "sts",
  };
}

function expectedEnv(creds: Credentials): Map<string, string> {
  // The same variables formatExports writes, from the same source: exports in json form.
  const json = JSON.parse(formatExports(creds, "json"));
  const expected = new Map<string, string>([
    ["AWS_ACCESS_KEY_ID", creds.accessKeyId],
    ["AWS_SECRET_ACCESS_KEY", creds.secretAccessKey],
    ["AWS_SESSION_TOKEN", creds.sessionToken],
    ["AWS_CREDENTIAL_EXPIRATION", json.Expiration],
  ]);
  if (creds.region) {
    expected.set("AWS_REGION", creds.region);
    expected.set("AWS_DEFAULT_REGION", creds.region);
  }
  return expected;
}

interface Shell {
  name: string;
  format: ExportFormat;
  path: string | undefined;
  ext: string;
  argv(path: string, script: string): string[];
  /** Statements that evaluate `file` as a user would, then print `env -0` and a `@` record. */
  evaluate(file: string, index: number): string;
}

const q = (path: string) => `'${path}'`; // temp paths hold no quote

const POSIX_EVAL = (file: string) => `eval "$(cat ${q(file)})"\nenv -0\nprintf '@\\0'\n`;

function posixShell(name: string, extraArgs: string[] = []): Shell {
  return {
    name,
    format: "sh",
    path: findProgram(name),
    ext: "sh",
    argv: (path, script) => [path, ...extraArgs, script],
    evaluate: POSIX_EVAL,
  };
}

const PWSH_DUMP = `$out = [Console]::OpenStandardOutput()
foreach ($name in @(${EXPORT_VARIABLES.map((name) => `'${name}'`).join(", ")})) {
  $value = [Environment]::GetEnvironmentVariable($name)
  if ($null -ne $value) {
    $bytes = [Text.Encoding]::UTF8.GetBytes($name + '=' + $value + [char]0)
    $out.Write($bytes, 0, $bytes.Length)
  }
}
$bytes = [Text.Encoding]::UTF8.GetBytes('@' + [char]0)
$out.Write($bytes, 0, $bytes.Length)
$out.Flush()
`;

const SHELLS: Shell[] = [
  posixShell("bash"),
  posixShell("dash"),
  posixShell("zsh", ["-f"]),
  posixShell("ksh"),
  posixShell("mksh"),
  {
    name: "fish",
    format: "fish",
    path: findProgram("fish"),
    ext: "fish",
    argv: (path, script) => [path, "--no-config", script],
    // Both documented idioms: `| source`, and `eval (…)` which joins the output lines with spaces.
    evaluate: (file, index) =>
      (index % 2 === 0 ? `cat ${q(file)} | source\n` : `eval (cat ${q(file)})\n`) +
      `env -0\ncommand printf '@\\0'\n`,
  },
  {
    name: "pwsh",
    format: "powershell",
    path: findProgram("pwsh"),
    ext: "ps1",
    argv: (path, script) => [path, "-NoProfile", "-NonInteractive", "-File", script],
    // Line by line, as `mfa exports | Invoke-Expression` feeds it; the process environment is what
    // a child would inherit.
    evaluate: (file) =>
      `Get-Content -LiteralPath ${q(file)} -Encoding utf8 | Invoke-Expression\n${PWSH_DUMP}`,
  },
];

/** `env -0` records grouped per `@` record: the six variables each evaluation left behind. */
function parseDumps(stdout: Uint8Array): Map<string, Uint8Array>[] {
  const dumps: Map<string, Uint8Array>[] = [];
  let current = new Map<string, Uint8Array>();
  let start = 0;
  const wanted = new Set<string>(EXPORT_VARIABLES);
  for (let i = 0; i < stdout.length; i++) {
    if (stdout[i] !== 0) continue;
    const record = stdout.subarray(start, i);
    start = i + 1;
    if (record.length === 1 && record[0] === 0x40) {
      dumps.push(current);
      current = new Map();
      continue;
    }
    const eq = record.indexOf(0x3d);
    if (eq <= 0) continue;
    const name = new TextDecoder().decode(record.subarray(0, eq));
    if (wanted.has(name)) current.set(name, record.slice(eq + 1));
  }
  return dumps;
}

function describe(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return "(unset)";
  try {
    return JSON.stringify(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return `invalid UTF-8 ${JSON.stringify(new TextDecoder().decode(bytes))}`;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

async function runScript(shell: Shell, dir: string, body: string, locale: string) {
  const script = `${dir}/script.${shell.ext}`;
  await Deno.writeTextFile(script, body);
  const [program, ...args] = shell.argv(shell.path!, script);
  return await new Deno.Command(program, {
    args,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: dir,
      XDG_CONFIG_HOME: `${dir}/config`,
      XDG_DATA_HOME: `${dir}/data`,
      XDG_CACHE_HOME: `${dir}/cache`,
      LC_ALL: locale,
      // Inherited values the first evaluation must replace and the unsets must clear.
      AWS_SESSION_TOKEN: "inherited-token",
      AWS_REGION: "inherited-region",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
}

async function roundTrip(shell: Shell, locale: string, cases: number) {
  const random = makeRandom(SEED);
  const dir = await Deno.makeTempDir({ prefix: `mfa-quoting-${shell.name}-` });
  try {
    const all: Credentials[] = [];
    let body = "";
    for (let i = 0; i < cases; i++) {
      const creds = randomCredentials(random);
      // Case 0 replaces the inherited AWS_SESSION_TOKEN and AWS_REGION by itself; every later case
      // runs unsets first, so a case without a region must leave none behind.
      if (i === 0) creds.region ||= "r";
      all.push(creds);
      await Deno.writeTextFile(
        `${dir}/${i}`,
        (i === 0 ? "" : formatUnsets(shell.format)) + formatExports(creds, shell.format),
      );
      body += shell.evaluate(`${dir}/${i}`, i);
    }
    await Deno.writeTextFile(`${dir}/unsets`, formatUnsets(shell.format));
    body += shell.evaluate(`${dir}/unsets`, cases);
    const out = await runScript(shell, dir, body, locale);
    const stderr = new TextDecoder().decode(out.stderr);
    const where = `${shell.name} (LC_ALL=${locale}, QUOTING_SEED=${SEED})`;
    assertEquals({ code: out.code, stderr }, { code: 0, stderr: "" }, `${where} failed`);
    const dumps = parseDumps(out.stdout);
    assertEquals(dumps.length, cases + 1, `${where}: one dump per case`);
    const encoder = new TextEncoder();
    for (const [i, creds] of all.entries()) {
      const expected = expectedEnv(creds);
      for (const name of EXPORT_VARIABLES) {
        const want = expected.get(name);
        const got = dumps[i].get(name);
        // Assigning '' removes a variable in some PowerShell versions: the shell's limit, not ours.
        const mayBeUnset = want === undefined || (want === "" && shell.format === "powershell");
        const ok = (got === undefined && mayBeUnset) ||
          (got !== undefined && want !== undefined && sameBytes(got, encoder.encode(want)));
        if (!ok) {
          throw new Error(
            `${where} case ${i} ${name}: expected ${
              want === undefined ? "(unset)" : JSON.stringify(want)
            }` +
              ` got ${describe(got)}\nstatements:\n${formatExports(creds, shell.format)}`,
          );
        }
      }
    }
    assertEquals([...dumps[cases].keys()], [], `${where}: unsets left variables behind`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const shell of SHELLS) {
  const missing = shell.path === undefined;
  Deno.test({
    name: `${shell.name}: ${CASES} random values round-trip via ${shell.format} exports (UTF-8)` +
      (missing ? ` [skipped: ${shell.name} not installed]` : ""),
    ignore: missing,
    fn: () => roundTrip(shell, "C.UTF-8", CASES),
  });
  Deno.test({
    name: `${shell.name}: random values round-trip in the C locale` +
      (missing ? ` [skipped: ${shell.name} not installed]` : ""),
    ignore: missing,
    fn: () => roundTrip(shell, "C", Math.ceil(CASES / 5)),
  });
  Deno.test({
    name: `${shell.name}: unsets with nothing set is silent and succeeds` +
      (missing ? ` [skipped: ${shell.name} not installed]` : ""),
    ignore: missing,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: `mfa-unsets-${shell.name}-` });
      try {
        await Deno.writeTextFile(`${dir}/unsets`, formatUnsets(shell.format));
        // Evaluate twice: the second time none of the variables exists.
        const body = shell.evaluate(`${dir}/unsets`, 0) + shell.evaluate(`${dir}/unsets`, 1);
        const out = await runScript(shell, dir, body, "C.UTF-8");
        assertEquals(
          { code: out.code, stderr: new TextDecoder().decode(out.stderr) },
          { code: 0, stderr: "" },
        );
        const dumps = parseDumps(out.stdout);
        assertEquals(dumps.map((dump) => dump.size), [0, 0]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
