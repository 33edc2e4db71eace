/** The argv parser and help text (pure): what lib/cli.ts accepts and refuses. */
import { commandHelp, COMMANDS, GLOBAL_OPTIONS, mainHelp, parseArgv } from "../lib/cli.ts";
import { MfaError } from "../lib/errors.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";

function usageErrorOf(argv: string[]): MfaError {
  try {
    parseArgv(argv);
  } catch (err) {
    assert(err instanceof MfaError, String(err));
    assertEquals(err.kind, "usage");
    assertEquals(err.exitCode, 2);
    return err;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
}

Deno.test("global options stand before or after the command", () => {
  const before = parseArgv(["--profile", "w", "-d", "2h", "exports"]);
  const after = parseArgv(["exports", "--profile", "w", "-d", "2h"]);
  assertEquals(before, after);
  assertEquals(after.command, "exports");
  assertEquals(after.options, { profile: "w", duration: "2h" });
});

Deno.test("--name=value, -pVALUE and aliases", () => {
  const parsed = parseArgv(["claude-export", "--profile=a=b", "-rus-east-1", "--arn", "x"]);
  assertEquals(parsed.options, { profile: "a=b", region: "us-east-1", "mfa-serial": "x" });
});

Deno.test("no command means exports", () => {
  assertEquals(parseArgv([]).command, "exports");
  assertEquals(parseArgv(["-p", "w"]).command, "exports");
});

Deno.test("exec: `--` ends options; the first word of the command ends them too", () => {
  const dashed = parseArgv(["exec", "-p", "w", "--", "aws", "--profile", "x", "s3", "ls"]);
  assertEquals(dashed.positionals, ["aws", "--profile", "x", "s3", "ls"]);
  assertEquals(dashed.options, { profile: "w" });
  const bare = parseArgv(["--profile", "w", "exec", "aws", "--region", "eu-west-1"]);
  assertEquals(bare.positionals, ["aws", "--region", "eu-west-1"]);
  assertEquals(bare.options, { profile: "w" });
});

Deno.test("booleans: --refresh, --no-cache, -v; a value on a boolean is refused", () => {
  assertEquals(parseArgv(["--refresh", "--no-cache", "-v"]).options, {
    refresh: true,
    "no-cache": true,
    verbose: true,
  });
  assertMatch(usageErrorOf(["--refresh=yes"]).message, /takes no value/);
  assertMatch(usageErrorOf(["-vx"]).message, /takes no value/);
});

Deno.test("choices are checked and listed", () => {
  assertEquals(parseArgv(["exports", "--format", "fish"]).options.format, "fish");
  const err = usageErrorOf(["exports", "--format", "tcsh"]);
  assertMatch(err.message, /invalid value for --format: "tcsh"/);
  assertStringIncludes(err.hint!, "sh, fish, powershell, cmd, dotenv, json");
  usageErrorOf(["--prompt", "sometimes"]);
});

Deno.test("usage errors: unknown command/option (with a suggestion), missing value, misplaced option", () => {
  assertEquals(usageErrorOf(["exprots"]).hint, "did you mean exports? See mfa --help");
  assertEquals(
    usageErrorOf(["exports", "--formt", "sh"]).hint,
    "did you mean --format? See mfa --help",
  );
  assertEquals(usageErrorOf(["zzzz"]).hint, "see mfa --help for the commands");
  assertMatch(usageErrorOf(["-p"]).message, /option -p needs a value \(NAME\)/);
  assertMatch(
    usageErrorOf(["status", "--format", "sh"]).message,
    /unknown option --format for status/,
  );
  assertMatch(
    usageErrorOf(["--format", "sh", "status"]).message,
    /--format does not apply to status/,
  );
  assertMatch(usageErrorOf(["status", "extra"]).message, /unexpected argument "extra" for status/);
  usageErrorOf(["-Z"]);
});

Deno.test("--version and help", () => {
  assert(parseArgv(["--version"]).version);
  assertEquals(parseArgv(["help", "exec"]).positionals, ["exec"]);
  assertEquals(parseArgv(["exports", "-h"]).options.help, true);
});

Deno.test("help documents every command, option, environment variable and profile key", () => {
  const text = mainHelp("1.2.3");
  assertStringIncludes(text, "mfa 1.2.3");
  for (const command of COMMANDS) assertStringIncludes(text, command.name);
  for (const option of GLOBAL_OPTIONS) {
    assertStringIncludes(text, `--${option.name}`);
    for (const name of [...option.env ?? [], ...option.profileKeys ?? []]) {
      assertStringIncludes(text, name);
    }
  }
  for (const command of COMMANDS) {
    const help = commandHelp(command.name);
    assertStringIncludes(help, command.usage);
    for (const option of command.options) assertStringIncludes(help, `--${option.name}`);
    for (const example of command.examples) assertStringIncludes(help, example);
  }
});

Deno.test("the README documents every option, environment variable and profile key", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  for (const option of [...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options)]) {
    if (option.name === "help") continue;
    assertStringIncludes(readme, `--${option.name}`, `README lacks --${option.name}`);
    for (const name of [...option.env ?? [], ...option.profileKeys ?? []]) {
      assertStringIncludes(readme, name, `README lacks ${name}`);
    }
  }
  for (const command of COMMANDS) assertStringIncludes(readme, command.name);
});
