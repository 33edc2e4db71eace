/**
 * `mfa setup [--gui]`: create or edit a profile through terminal questions or one desktop form,
 * then write the keys to the credentials file and the MFA settings to the config file.
 * Also the first-run form that claude-export opens on a machine with no AWS profile yet.
 */
import { type AwsFiles, readAwsFiles, writeIniSection } from "../aws_files.ts";
import type { OptionValues } from "../cli.ts";
import { MfaError, usageError } from "../errors.ts";
import type { FormRequest, PromptContext } from "../prompt/driver.ts";
import { chooseFormDriver, desktopAvailable } from "../prompt/form.ts";
import { resolvePaths, resolveProfileName, resolveSettings } from "../settings.ts";
import {
  CLEAR_MARK,
  parseClaudeAwsMfaConfig,
  type PartialSetupValues,
  planSetupWrites,
  prefillSetup,
  SETUP_FIELDS,
  type SetupPrefill,
  shouldRunFirstRunSetup,
  validateSetupAnswers,
} from "../setup_values.ts";
import { loadSettings } from "../context.ts";
import type { Deps, Env, Settings } from "../types.ts";
import type { CommandContext, CommandRun } from "./types.ts";

export { shouldRunFirstRunSetup };

const MAX_FORM_TRIES = 3;

export interface SetupOptions {
  profile: string;
  /** Prefer the desktop form over terminal questions. */
  gui: boolean;
  credentialsFile: string;
  configFile: string;
  /** Flags given to setup (--region, --mfa-serial, ...): pre-filled over everything else. */
  flags?: PartialSetupValues;
  /** A first line above the form, e.g. why it opened. */
  intro?: string;
}

export interface SetupOutcome {
  profile: string;
  /** A 6-digit code typed into the form: the caller may use it right away (never saved). */
  code?: string;
  /** "file [section]" for each section written; empty when nothing changed. */
  written: string[];
}

export type SetupDeps = Pick<Deps, "env" | "os" | "run" | "hasTerminal" | "log" | "home">;

function promptContext(deps: SetupDeps, overrides: Partial<PromptContext> = {}): PromptContext {
  return {
    env: deps.env,
    os: deps.os,
    run: deps.run,
    hasTerminal: deps.hasTerminal,
    log: deps.log,
    ...overrides,
  };
}

export function claudeConfigPath(env: Env, home: string): string {
  return `${env.XDG_CONFIG_HOME || `${home}/.config`}/claude-aws-mfa.json`;
}

async function readClaudeConfig(
  path: string,
  profile: string,
  deps: SetupDeps,
): Promise<PartialSetupValues> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return {};
  }
  const values = parseClaudeAwsMfaConfig(text, profile);
  if (!values) deps.log.warn(`ignoring ${path}: it is not a JSON object`);
  else deps.log.debug(`pre-filling setup from ${path}`);
  return values ?? {};
}

function tilde(path: string, home: string): string {
  return home && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

export function setupForm(
  opts: SetupOptions,
  prefill: SetupPrefill,
  home: string,
  problems: string[] = [],
): FormRequest {
  const lines = [
    ...(opts.intro ? [opts.intro] : []),
    `Profile ${opts.profile}`,
    `Keys go to ${tilde(opts.credentialsFile, home)}, settings to ${tilde(opts.configFile, home)}.`,
    `Type ${CLEAR_MARK} to clear a setting.`,
    ...problems.map((problem) => `Please fix: ${problem}`),
  ];
  const keepable = Boolean(prefill.typedSecret || prefill.currentSecret);
  return {
    title: "mfa setup",
    text: lines.join("\n"),
    fields: SETUP_FIELDS.map((f) => ({
      key: f.key,
      label: f.secret && keepable ? `${f.label} (empty: keep)` : f.label,
      secret: f.secret,
      value: f.secret ? undefined : prefill.values[f.key],
    })),
  };
}

/** The form again, keeping what was typed (a typed secret too, held here rather than shown). */
function afterProblems(prefill: SetupPrefill, answers: PartialSetupValues): SetupPrefill {
  const { secretAccessKey, ...visible } = answers;
  return {
    ...prefill,
    values: { ...prefill.values, ...visible, secretAccessKey: "" },
    typedSecret: secretAccessKey?.trim() || prefill.typedSecret,
  };
}

function refuseDevNull(path: string): void {
  if (path === "/dev/null" || path.toLowerCase() === "nul") {
    throw new MfaError("write", `refusing to write a profile into ${path}`, {
      hint: "pass --credentials-file / --config-file with real files",
    });
  }
}

/** Asks (re-asking up to 3 times with the problems shown), validates and writes the profile. */
export async function runSetup(
  opts: SetupOptions,
  deps: SetupDeps,
  promptOverrides: Partial<PromptContext> = {},
): Promise<SetupOutcome> {
  refuseDevNull(opts.credentialsFile);
  refuseDevNull(opts.configFile);
  const ctx = promptContext(deps, promptOverrides);
  const files: AwsFiles = await readAwsFiles(opts.credentialsFile, opts.configFile);
  const claudeConfig = await readClaudeConfig(
    claudeConfigPath(deps.env, deps.home),
    opts.profile,
    deps,
  );
  let prefill = prefillSetup({
    profile: opts.profile,
    files,
    env: deps.env,
    flags: opts.flags,
    claudeConfig,
  });
  const driver = await chooseFormDriver(ctx, opts.gui);

  let problems: string[] = [];
  for (let attempt = 1; attempt <= MAX_FORM_TRIES; attempt++) {
    const answers = await driver.askForm(setupForm(opts, prefill, deps.home, problems), ctx);
    const checked = validateSetupAnswers(answers, prefill);
    if (checked.result) {
      const writes = planSetupWrites(checked.result, files, opts.profile);
      const written: string[] = [];
      // Keys first: a crash between the two writes leaves a usable profile without MFA settings.
      for (const kind of ["credentials", "config"] as const) {
        const path = kind === "credentials" ? opts.credentialsFile : opts.configFile;
        for (const write of writes.filter((w) => w.kind === kind)) {
          await writeIniSection(path, write.header, write.values);
          written.push(`${tilde(path, deps.home)} [${write.header}]`);
        }
      }
      deps.log.info(
        written.length
          ? `mfa: saved profile ${opts.profile}: ${written.join(", ")}`
          : `mfa: profile ${opts.profile} unchanged`,
      );
      return { profile: opts.profile, code: checked.result.code, written };
    }
    problems = checked.problems;
    prefill = afterProblems(prefill, answers);
  }
  throw usageError(`setup: ${problems[0]}`, "run mfa setup again and correct the field");
}

function flagsFrom(options: OptionValues): PartialSetupValues {
  const str = (name: string) => {
    const value = options[name];
    return typeof value === "string" ? value : undefined;
  };
  return {
    region: str("region"),
    mfaSerial: str("mfa-serial"),
    roleArn: str("role-arn"),
    duration: str("duration"),
    mfaCommand: str("mfa-command"),
  };
}

/**
 * claude-export's first run: no AWS profile anywhere and a desktop to show the form on. Returns
 * the outcome (with the code typed into the form, if any) or undefined when it does not apply.
 */
export async function firstRunSetup(
  opts: { command: string; profile: string; credentialsFile: string; configFile: string },
  files: AwsFiles,
  deps: SetupDeps,
  promptOverrides: Partial<PromptContext> = {},
): Promise<SetupOutcome | undefined> {
  const desktop = await desktopAvailable(promptContext(deps, promptOverrides));
  if (!shouldRunFirstRunSetup({ command: opts.command, files, desktopAvailable: desktop })) {
    return undefined;
  }
  deps.log.info("mfa: no AWS profile is set up yet; opening the setup form");
  return await runSetup(
    {
      profile: opts.profile,
      gui: true,
      credentialsFile: opts.credentialsFile,
      configFile: opts.configFile,
      intro: "No AWS profile is set up yet. Enter your IAM user's keys and MFA device.",
    },
    deps,
    promptOverrides,
  );
}

/**
 * claude-export found no profile: when nothing is configured at all and a desktop is there, the setup
 * form, then the settings it made (with the code typed into the form, if any). Else undefined.
 */
export async function firstRunSettings(
  ctx: CommandContext,
  settings: Settings,
): Promise<Settings | undefined> {
  const files = await readAwsFiles(settings.credentialsFile, settings.configFile);
  const outcome = await firstRunSetup(
    {
      command: ctx.args.command,
      profile: settings.profile,
      credentialsFile: settings.credentialsFile,
      configFile: settings.configFile,
    },
    files,
    ctx.deps,
  );
  if (!outcome) return undefined;
  const fresh = await loadSettings(ctx.args, ctx.env, ctx.deps);
  return outcome.code ? { ...fresh, code: outcome.code } : fresh;
}

export const run: CommandRun = async (ctx) => {
  const { options } = ctx.args;
  const { name: profile } = resolveProfileName(options, ctx.env);
  // The files claude-export reads (it ignores AWS_SHARED_CREDENTIALS_FILE=/dev/null).
  const paths = resolvePaths(options, ctx.env, ctx.deps.home, "claude-export");
  const outcome = await runSetup(
    {
      profile,
      gui: options.gui === true,
      credentialsFile: paths.credentialsFile,
      configFile: paths.configFile,
      flags: flagsFrom(options),
    },
    ctx.deps,
  );
  if (outcome.code) {
    // A code typed into the form: prove the profile works (and cache the session).
    const files = await readAwsFiles(paths.credentialsFile, paths.configFile);
    const settings = resolveSettings(options, ctx.env, files, paths);
    const creds = await ctx.getCredentials({ ...settings, code: outcome.code, refresh: true });
    ctx.deps.log.info(
      `mfa: the profile works; session valid until ${creds.expiration.toISOString()}`,
    );
  }
  return {};
};
