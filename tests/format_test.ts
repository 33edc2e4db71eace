/** lib/format.ts: the exact text of every format, the JSON shapes parsed back, format detection. */
import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import {
  credentialVariables,
  detectExportFormat,
  EXPORT_FORMATS,
  EXPORT_VARIABLES,
  formatClaudeExport,
  formatCredentialProcess,
  formatExports,
  formatUnsets,
  isoSeconds,
  quoteDotenv,
  quoteFish,
  quotePowerShell,
  quoteSh,
  shellFormatOf,
} from "../lib/format.ts";
import { MfaError } from "../lib/errors.ts";
import type { Credentials, Env } from "../lib/types.ts";

const CREDS: Credentials = {
  accessKeyId: "ASIAEXAMPLE123456789",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  sessionToken: "FwoGZXIvYXdzEB0aDH+/tok==",
  expiration: new Date("2026-11-23T20:00:00.789Z"),
  region: "eu-west-1",
  profile: "work",
  source: "sts",
};
const NO_REGION: Credentials = { ...CREDS, region: undefined };

function assertMfaError(fn: () => unknown, kind: string, includes?: string): MfaError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  if (!(caught instanceof MfaError)) throw new Error(`expected MfaError, got ${caught}`);
  assertEquals(caught.kind, kind);
  if (includes && !caught.message.includes(includes)) {
    throw new Error(`message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(includes)}`);
  }
  return caught;
}

Deno.test("isoSeconds drops milliseconds and writes UTC with Z", () => {
  assertEquals(isoSeconds(new Date("2026-11-23T20:00:00.999Z")), "2026-11-23T20:00:00Z");
  assertEquals(isoSeconds(new Date("2026-11-23T21:30:05+01:00")), "2026-11-23T20:30:05Z");
  assertEquals(isoSeconds(new Date(0)), "1970-01-01T00:00:00Z");
  assertMfaError(() => isoSeconds(new Date("nope")), "internal");
});

Deno.test("credentialVariables: four values, plus both region names when a region is known", () => {
  assertEquals(credentialVariables(CREDS), [
    ["AWS_ACCESS_KEY_ID", "ASIAEXAMPLE123456789"],
    ["AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ["AWS_SESSION_TOKEN", "FwoGZXIvYXdzEB0aDH+/tok=="],
    ["AWS_CREDENTIAL_EXPIRATION", "2026-11-23T20:00:00Z"],
    ["AWS_REGION", "eu-west-1"],
    ["AWS_DEFAULT_REGION", "eu-west-1"],
  ]);
  assertEquals(credentialVariables(NO_REGION).map(([name]) => name), EXPORT_VARIABLES.slice(0, 4));
  assertEquals(credentialVariables({ ...CREDS, region: "" }).length, 4);
});

Deno.test("exports sh: one export per line with POSIX single quotes", () => {
  assertEquals(
    formatExports(CREDS, "sh"),
    `export AWS_ACCESS_KEY_ID='ASIAEXAMPLE123456789'
export AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
export AWS_SESSION_TOKEN='FwoGZXIvYXdzEB0aDH+/tok=='
export AWS_CREDENTIAL_EXPIRATION='2026-11-23T20:00:00Z'
export AWS_REGION='eu-west-1'
export AWS_DEFAULT_REGION='eu-west-1'
`,
  );
  assertEquals(formatExports(NO_REGION, "sh").split("\n").length, 5);
});

Deno.test("exports fish: set -gx, statements ended by ; so eval (…) works too", () => {
  assertEquals(
    formatExports(CREDS, "fish"),
    `set -gx AWS_ACCESS_KEY_ID 'ASIAEXAMPLE123456789';
set -gx AWS_SECRET_ACCESS_KEY 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
set -gx AWS_SESSION_TOKEN 'FwoGZXIvYXdzEB0aDH+/tok==';
set -gx AWS_CREDENTIAL_EXPIRATION '2026-11-23T20:00:00Z';
set -gx AWS_REGION 'eu-west-1';
set -gx AWS_DEFAULT_REGION 'eu-west-1';
`,
  );
});

Deno.test("exports powershell: $Env assignments with single quotes", () => {
  assertEquals(
    formatExports(NO_REGION, "powershell"),
    `$Env:AWS_ACCESS_KEY_ID = 'ASIAEXAMPLE123456789'
$Env:AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
$Env:AWS_SESSION_TOKEN = 'FwoGZXIvYXdzEB0aDH+/tok=='
$Env:AWS_CREDENTIAL_EXPIRATION = '2026-11-23T20:00:00Z'
`,
  );
});

Deno.test('exports cmd: set "NAME=value"', () => {
  assertEquals(
    formatExports(CREDS, "cmd"),
    `set "AWS_ACCESS_KEY_ID=ASIAEXAMPLE123456789"
set "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
set "AWS_SESSION_TOKEN=FwoGZXIvYXdzEB0aDH+/tok=="
set "AWS_CREDENTIAL_EXPIRATION=2026-11-23T20:00:00Z"
set "AWS_REGION=eu-west-1"
set "AWS_DEFAULT_REGION=eu-west-1"
`,
  );
});

Deno.test('exports cmd: set "..." quotes & | < > ^; other characters are refused, unechoed', () => {
  const ok = formatExports({ ...NO_REGION, sessionToken: "a&b|c<d>e^f(g)h i;j,k=l'm`n" }, "cmd");
  assertEquals(ok.split("\n")[2], `set "AWS_SESSION_TOKEN=a&b|c<d>e^f(g)h i;j,k=l'm\`n"`);
  for (
    const bad of ["50%off", 'say "hi"', "bang!", "two\nlines", "cr\rhere", "tab\there", "café"]
  ) {
    const secret = `zq9Xv${bad}`;
    const err = assertMfaError(
      () => formatExports({ ...NO_REGION, secretAccessKey: secret }, "cmd"),
      "internal",
      "AWS_SECRET_ACCESS_KEY",
    );
    assertEquals(err.message.includes("zq9Xv"), false, "the value must not be echoed");
    assertEquals(err.hint?.includes("--format powershell"), true);
  }
});

Deno.test('exports dotenv: double quotes with \\\\ \\" \\$ \\n \\r escapes', () => {
  assertEquals(
    formatExports(NO_REGION, "dotenv"),
    `AWS_ACCESS_KEY_ID="ASIAEXAMPLE123456789"
AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_SESSION_TOKEN="FwoGZXIvYXdzEB0aDH+/tok=="
AWS_CREDENTIAL_EXPIRATION="2026-11-23T20:00:00Z"
`,
  );
});

Deno.test("exports json is the credential_process object", () => {
  assertEquals(formatExports(CREDS, "json"), formatCredentialProcess(CREDS));
});

Deno.test("every format ends with exactly one newline and has one line per statement", () => {
  for (const format of EXPORT_FORMATS) {
    const out = formatExports(CREDS, format);
    assertEquals(out.endsWith("\n") && !out.endsWith("\n\n"), true, format);
    const unsets = formatUnsets(format);
    assertEquals(unsets.endsWith("\n") && !unsets.endsWith("\n\n"), true, format);
  }
});

Deno.test("quoteSh", () => {
  assertEquals(quoteSh(""), "''");
  assertEquals(quoteSh("plain"), "'plain'");
  assertEquals(quoteSh("it's"), `'it'\\''s'`);
  assertEquals(quoteSh(`$HOME \`x\` "q" \\ !`), `'$HOME \`x\` "q" \\ !'`);
  assertEquals(quoteSh("a\nb"), "'a\nb'");
});

Deno.test("quoteFish", () => {
  assertEquals(quoteFish(""), "''");
  assertEquals(quoteFish("it's"), `'it\\'s'`);
  assertEquals(quoteFish("back\\slash"), `'back\\\\slash'`);
  assertEquals(quoteFish("$HOME (x) *"), `'$HOME (x) *'`);
  assertEquals(quoteFish("a\nb\rc"), `'a'\\n'b'\\r'c'`);
});

Deno.test("quotePowerShell doubles every single-quote character, splices CR/LF as [char]", () => {
  assertEquals(quotePowerShell(""), "''");
  assertEquals(quotePowerShell("it's"), "'it''s'");
  assertEquals(quotePowerShell("‘a’ ‚b‛"), "'‘‘a’’ ‚‚b‛‛'");
  assertEquals(quotePowerShell('$x "y" `z'), `'$x "y" \`z'`);
  assertEquals(quotePowerShell("a\r\nb"), "'a' + [char]13 + '' + [char]10 + 'b'");
  assertEquals(quotePowerShell("\n"), "'' + [char]10 + ''");
});

Deno.test("quoteDotenv", () => {
  assertEquals(quoteDotenv(""), '""');
  assertEquals(quoteDotenv('a\\b"c$d'), '"a\\\\b\\"c\\$d"');
  assertEquals(quoteDotenv("l1\nl2\rl3"), '"l1\\nl2\\rl3"');
  assertEquals(quoteDotenv("it's `x` #c"), `"it's \`x\` #c"`);
});

/** The dotenv convention formatExports writes, read back: `NAME="..."`, \\ \" \$ \n \r escapes. */
function parseDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const match = /^([A-Z_][A-Z0-9_]*)=(?:"((?:[^"\\]|\\.)*)")?$/.exec(line);
    if (!match) throw new Error(`bad dotenv line ${JSON.stringify(line)}`);
    const value = (match[2] ?? "").replace(/\\(.)/g, (_, ch: string) => {
      if (ch === "n") return "\n";
      if (ch === "r") return "\r";
      if ('\\"$'.includes(ch)) return ch;
      throw new Error(`unknown escape \\${ch}`);
    });
    out.set(match[1], value);
  }
  return out;
}

Deno.test("dotenv round-trips through a reference parser", () => {
  const nasty = 'a\\b"c$d\ne\rf\'g`h#i j=k\\n\\\\\\"';
  const parsed = parseDotenv(formatExports({ ...CREDS, sessionToken: nasty }, "dotenv"));
  assertEquals(parsed.get("AWS_SESSION_TOKEN"), nasty);
  assertEquals(parsed.get("AWS_REGION"), "eu-west-1");
  assertEquals(parsed.size, 6);
});

Deno.test("unsets: every format clears all six names", () => {
  assertEquals(
    formatUnsets("sh"),
    "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION " +
      "AWS_REGION AWS_DEFAULT_REGION\n",
  );
  assertEquals(
    formatUnsets("fish").split("\n")[0],
    "if set -q -g AWS_ACCESS_KEY_ID; set -e -g AWS_ACCESS_KEY_ID; end;",
  );
  assertEquals(
    formatUnsets("powershell").split("\n")[5],
    "Remove-Item Env:AWS_DEFAULT_REGION -ErrorAction SilentlyContinue",
  );
  assertEquals(formatUnsets("cmd").split("\n")[2], 'set "AWS_SESSION_TOKEN="');
  assertEquals(formatUnsets("dotenv"), EXPORT_VARIABLES.map((name) => `${name}=\n`).join(""));
  assertEquals(JSON.parse(formatUnsets("json")), {
    AWS_ACCESS_KEY_ID: null,
    AWS_SECRET_ACCESS_KEY: null,
    AWS_SESSION_TOKEN: null,
    AWS_CREDENTIAL_EXPIRATION: null,
    AWS_REGION: null,
    AWS_DEFAULT_REGION: null,
  });
  for (const format of ["fish", "powershell", "cmd", "dotenv"] as const) {
    const text = formatUnsets(format);
    assertEquals(text.split("\n").length, 7, format);
    for (const name of EXPORT_VARIABLES) {
      assertEquals(text.includes(name), true, `${format} ${name}`);
    }
  }
});

Deno.test("claude-export: exact text and the parsed shape", () => {
  const text = formatClaudeExport(CREDS);
  assertEquals(
    text,
    '{"Credentials":{"AccessKeyId":"ASIAEXAMPLE123456789",' +
      '"SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",' +
      '"SessionToken":"FwoGZXIvYXdzEB0aDH+/tok==","Expiration":"2026-11-23T20:00:00Z"}}\n',
  );
  const nasty = { ...CREDS, sessionToken: 'q"\\\n\u2028😀' };
  assertEquals(JSON.parse(formatClaudeExport(nasty)), {
    Credentials: {
      AccessKeyId: nasty.accessKeyId,
      SecretAccessKey: nasty.secretAccessKey,
      SessionToken: nasty.sessionToken,
      Expiration: "2026-11-23T20:00:00Z",
    },
  });
  assertEquals(formatClaudeExport(nasty).split("\n").length, 2, "one line of JSON");
});

Deno.test("credential-process: Version 1 schema parsed back, region not included", () => {
  const text = formatCredentialProcess(CREDS);
  assertEquals(
    text,
    '{"Version":1,"AccessKeyId":"ASIAEXAMPLE123456789",' +
      '"SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",' +
      '"SessionToken":"FwoGZXIvYXdzEB0aDH+/tok==","Expiration":"2026-11-23T20:00:00Z"}\n',
  );
  const parsed = JSON.parse(text);
  assertEquals(Object.keys(parsed), [
    "Version",
    "AccessKeyId",
    "SecretAccessKey",
    "SessionToken",
    "Expiration",
  ]);
  assertEquals(new Date(parsed.Expiration).getTime(), Date.parse("2026-11-23T20:00:00Z"));
});

Deno.test("shellFormatOf: process names and paths of shells", () => {
  const cases: [string, string | undefined][] = [
    ["fish", "fish"],
    ["/usr/local/bin/fish", "fish"],
    ["-zsh", "sh"],
    ["bash", "sh"],
    ["dash\n", "sh"],
    ["ksh93", "sh"],
    ["pwsh", "powershell"],
    ["C:\\Program Files\\PowerShell\\7\\pwsh.exe", "powershell"],
    ["powershell.exe", "powershell"],
    ["CMD.EXE", "cmd"],
    ["node", undefined],
    ["sudo", undefined],
    ["", undefined],
    ["constructor", undefined],
  ];
  for (const [name, format] of cases) assertEquals(shellFormatOf(name), format, name);
});

Deno.test("detectExportFormat rules", () => {
  const winUser = "C:\\Users\\ann";
  const psUser = `${winUser}\\Documents\\WindowsPowerShell\\Modules;` +
    "C:\\Program Files\\WindowsPowerShell\\Modules;" +
    "C:\\WINDOWS\\system32\\WindowsPowerShell\\v1.0\\Modules";
  const psSystem = "C:\\Program Files\\WindowsPowerShell\\Modules;" +
    "C:\\WINDOWS\\system32\\WindowsPowerShell\\v1.0\\Modules";
  const cases: [
    string,
    Env,
    { os?: "linux" | "darwin" | "windows"; parentProcess?: string },
    string,
  ][] = [
    ["nothing known", {}, {}, "sh"],
    ["SHELL=fish alone is only the login shell", { SHELL: "/usr/bin/fish" }, {}, "sh"],
    ["fish parent", { SHELL: "/bin/bash" }, { parentProcess: "fish" }, "fish"],
    ["bash parent beats SHELL=fish", { SHELL: "/usr/bin/fish" }, { parentProcess: "bash" }, "sh"],
    ["exported FISH_VERSION", { FISH_VERSION: "3.6.0" }, {}, "fish"],
    ["bash parent beats inherited FISH_VERSION", { FISH_VERSION: "3.6.0" }, {
      parentProcess: "/bin/bash",
    }, "sh"],
    [
      "pwsh on Linux sets PSModulePath",
      {
        PSModulePath: "/home/a/.local/share/powershell/Modules:/opt/microsoft/powershell/7/Modules",
      },
      { os: "linux" },
      "powershell",
    ],
    ["zsh started from pwsh", { PSModulePath: "/opt/microsoft/powershell/7/Modules" }, {
      os: "darwin",
      parentProcess: "-zsh",
    }, "sh"],
    [
      "unknown parent falls through",
      { PSModulePath: "/x" },
      { parentProcess: "node" },
      "powershell",
    ],
    [
      "Windows PowerShell",
      { USERPROFILE: winUser, PSModulePath: psUser },
      { os: "windows" },
      "powershell",
    ],
    ["Windows cmd", { USERPROFILE: winUser, PSModulePath: psSystem }, { os: "windows" }, "cmd"],
    [
      "Windows from env.OS",
      { OS: "Windows_NT", USERPROFILE: winUser, PSModulePath: psSystem },
      {},
      "cmd",
    ],
    [
      "Windows user dir case and trailing slash",
      {
        USERPROFILE: "c:\\users\\ANN\\",
        PSModulePath: psUser,
      },
      { os: "windows" },
      "powershell",
    ],
    ["Git Bash", { MSYSTEM: "MINGW64", USERPROFILE: winUser, PSModulePath: psUser }, {
      os: "windows",
    }, "sh"],
    ["Cygwin", { SHELL: "/bin/bash", PSModulePath: psSystem }, { os: "windows" }, "sh"],
    ["Windows without PSModulePath", {}, { os: "windows" }, "powershell"],
    ["cmd parent on Windows", { USERPROFILE: winUser, PSModulePath: psUser }, {
      os: "windows",
      parentProcess: "cmd.exe",
    }, "cmd"],
  ];
  for (const [name, env, context, expected] of cases) {
    assertEquals(detectExportFormat(env, context), expected, name);
  }
});

Deno.test("formatExports rejects nothing but cmd's impossible bytes", () => {
  const nasty = { ...CREDS, sessionToken: "'\"\\$`!%^&|;\n\t\r é日本😀‘’" };
  for (const format of EXPORT_FORMATS) {
    if (format === "cmd") assertThrows(() => formatExports(nasty, format), MfaError);
    else assertEquals(typeof formatExports(nasty, format), "string");
  }
});
