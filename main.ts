/** Entry point: argv → command → stdout, errors → one stderr line and an exit code. The only exit. */
import denoJson from "./deno.json" with { type: "json" };
import { commandHelp, mainHelp, parseArgv } from "./lib/cli.ts";
import type { CommandRun } from "./lib/commands/types.ts";
import { createContext } from "./lib/context.ts";
import { createDeps } from "./lib/deps.ts";
import { exitCodeOf, formatError, usageError } from "./lib/errors.ts";
import { isTruthy, resolveVerbose } from "./lib/settings.ts";
import { removeTempFiles } from "./lib/temp_files.ts";

const VERSION = denoJson.version;

// Static import() strings, so `deno compile` bundles every command while a run loads only its own.
const COMMAND_MODULES: Record<string, () => Promise<{ run: CommandRun }>> = {
  "claude-export": () => import("./lib/commands/claude_export.ts"),
  "exports": () => import("./lib/commands/exports.ts"),
  "unsets": () => import("./lib/commands/unsets.ts"),
  "shell": () => import("./lib/commands/shell.ts"),
  "exec": () => import("./lib/commands/exec.ts"),
  "update-profile": () => import("./lib/commands/update_profile.ts"),
  "credential-process": () => import("./lib/commands/credential_process.ts"),
  "setup": () => import("./lib/commands/setup.ts"),
  "status": () => import("./lib/commands/status.ts"),
  "clear": () => import("./lib/commands/clear.ts"),
  "edit": () => import("./lib/commands/edit.ts"),
  "completions": () => import("./lib/commands/completions.ts"),
};

const encoder = new TextEncoder();
function writeErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}
async function writeOut(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
}

async function main(argv: string[]): Promise<number> {
  const env = Deno.env.toObject();
  let verbose = isTruthy(env.AWS_MFA_DEBUG) || argv.includes("-v") || argv.includes("--verbose");
  try {
    const args = parseArgv(argv);
    verbose = resolveVerbose(args.options, env);
    if (args.version) {
      await writeOut(`mfa ${VERSION}\n`);
      return 0;
    }
    if (args.command === "help" || args.options.help) {
      const topic = args.command === "help"
        ? args.positionals[0]
        : (args.commandGiven ? args.command : undefined);
      await writeOut(topic ? commandHelp(topic) : mainHelp(VERSION));
      return 0;
    }
    const load = COMMAND_MODULES[args.command];
    if (!load) {
      throw usageError(`unknown command ${JSON.stringify(args.command)}`, "see mfa --help");
    }
    // Commands that run a child let it handle Ctrl-C and exit with its code (child.ts forwards signals).
    if (!CHILD_COMMANDS.has(args.command)) installInterruptHandler();
    const deps = createDeps({ env, command: args.command, verbose, writeErr });
    const { run } = await load();
    const result = await run(createContext(args, env, deps, VERSION));
    if (result.stdout) await writeOut(result.stdout);
    return result.exitCode ?? 0;
  } catch (err) {
    writeErr(formatError(err, verbose));
    return exitCodeOf(err);
  }
}

const CHILD_COMMANDS = new Set(["exec", "shell", "edit"]);

/** Ctrl-C → exit 130. Locks are OS file locks, released on exit; temp files are removed first. */
function installInterruptHandler(): void {
  Deno.addSignalListener("SIGINT", () => {
    removeTempFiles();
    writeErr("mfa: interrupted\n");
    Deno.exit(130);
  });
}

if (import.meta.main) {
  const code = await main(Deno.args);
  Deno.exit(code);
}
