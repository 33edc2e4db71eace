/**
 * A real zenity dialog on a virtual X server (Xvfb): the code is typed with xdotool, as a user would.
 * Skipped when Xvfb, zenity or xdotool is missing (CI installs them).
 * UPDATE_SCREENSHOTS=1 also refreshes docs/img/zenity-prompt.png.
 */
import { createDeps } from "../lib/deps.ts";
import { MfaError } from "../lib/errors.ts";
import { findOnPath, type PromptContext } from "../lib/prompt/driver.ts";
import { NOT_A_CODE_NOTE } from "../lib/prompt/index.ts";
import { zenityDriver } from "../lib/prompt/zenity.ts";
import type { Deps, Env, RunResult } from "../lib/types.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { makeSandbox, ROOT } from "./helpers.ts";

const env = Deno.env.toObject();
const os = Deno.build.os === "windows"
  ? "windows"
  : Deno.build.os === "darwin"
  ? "darwin"
  : "linux";
const missing: string[] = [];
for (const tool of ["Xvfb", "zenity", "xdotool", "import"]) {
  if (!(await findOnPath(tool, env, os))) missing.push(tool);
}
const ignore = missing.length > 0;
if (ignore) console.log(`gui_test: skipped, not installed: ${missing.join(", ")}`);

const realRun: Deps["run"] = createDeps({
  env,
  command: "test",
  verbose: false,
  writeErr: () => {},
}).run;

interface Display {
  name: string;
  /** Runs an X client against this display. */
  x(argv: string[], timeoutMs?: number): Promise<RunResult>;
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** An Xvfb server on a free display number; resolves once it accepts connections. */
async function startXvfb(): Promise<Display> {
  for (let tries = 0; tries < 20; tries++) {
    const n = 100 + Math.floor(Math.random() * 800);
    if (await exists(`/tmp/.X${n}-lock`)) continue;
    const server = new Deno.Command("Xvfb", {
      args: [`:${n}`, "-screen", "0", "800x600x24", "-nolisten", "tcp"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const name = `:${n}`;
    const x = (argv: string[], timeoutMs = 20_000) =>
      realRun(argv, { timeoutMs, env: { ...env, DISPLAY: name } });
    const close = async () => {
      try {
        server.kill("SIGTERM");
      } catch { /* gone */ }
      await server.status;
    };
    for (let wait = 0; wait < 100; wait++) {
      if (await exists(`/tmp/.X11-unix/X${n}`)) {
        const probe = await x(["xdotool", "getmouselocation"], 5_000).catch(() => undefined);
        if (probe?.code === 0) return { name, x, close };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await close();
  }
  throw new Error("could not start Xvfb");
}

async function withDisplay(fn: (display: Display) => Promise<void>): Promise<void> {
  const display = await startXvfb();
  try {
    await fn(display);
  } finally {
    await display.close();
  }
}

interface Dialog {
  window: string;
  /** The zenity process (_NET_WM_PID): X reuses window ids, a new process tells a new dialog. */
  pid: string;
}

/** The dialog window with this title, waiting for it; `not` skips a dialog already answered. */
async function waitForDialog(display: Display, not?: Dialog, title = "^mfa$"): Promise<Dialog> {
  for (let i = 0; i < 200; i++) {
    const found = await display.x(["xdotool", "search", "--onlyvisible", "--name", title]);
    for (const window of found.stdout.split("\n").filter(Boolean)) {
      const pid = (await display.x(["xdotool", "getwindowpid", window])).stdout.trim();
      if (pid && pid !== not?.pid) return { window, pid };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the zenity dialog did not appear");
}

async function typeInto(display: Display, text: string, key = "Return"): Promise<void> {
  if (text) await display.x(["xdotool", "type", "--delay", "30", text]);
  await display.x(["xdotool", "key", key]);
}

/** In a zenity form Return does not press OK: click it (bottom right of the window). */
async function clickFormOk(display: Display, window: string): Promise<void> {
  const geometry = await display.x(["xdotool", "getwindowgeometry", "--shell", window]);
  const g = Object.fromEntries(
    geometry.stdout.trim().split("\n").map((line) => line.split("=")),
  ) as Record<string, string>;
  const okX = Number(g.X) + Number(g.WIDTH) - 45;
  const okY = Number(g.Y) + Number(g.HEIGHT) - 25;
  await display.x(["xdotool", "mousemove", String(okX), String(okY), "click", "1"]);
}

function promptContext(display: Display): PromptContext {
  const displayEnv: Env = { ...env, DISPLAY: display.name };
  return {
    env: displayEnv,
    os: "linux",
    // The dialog must reach this display whatever the test process's own DISPLAY is.
    run: (argv, opts) => realRun(argv, { ...opts, env: displayEnv }),
    hasTerminal: () => false,
    log: { debug: () => {}, warn: () => {}, info: () => {} },
  };
}

Deno.test({
  name: "gui: a real zenity dialog returns the typed code (screenshot of it taken)",
  ignore,
  fn: () =>
    withDisplay(async (display) => {
      const ctx = promptContext(display);
      const answer = zenityDriver.askCode(
        { message: "MFA code for work", profile: "work" },
        ctx,
      );
      const { window } = await waitForDialog(display);
      const dir = await Deno.makeTempDir();
      try {
        const shot = `${dir}/zenity-prompt.png`;
        // Let GTK finish drawing before the picture is taken.
        await new Promise((r) => setTimeout(r, 500));
        const taken = await display.x(["import", "-window", window, shot]);
        assertEquals(taken.code, 0, taken.stderr);
        const png = await Deno.readFile(shot);
        assertEquals([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
        if (env.UPDATE_SCREENSHOTS === "1") {
          await Deno.mkdir(`${ROOT}/docs/img`, { recursive: true });
          await Deno.copyFile(shot, `${ROOT}/docs/img/zenity-prompt.png`);
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
      await typeInto(display, "123456");
      assertEquals(await answer, "123456");
    }),
});

Deno.test({
  name: "gui: Escape in the zenity dialog is a cancel (exit 130)",
  ignore,
  fn: () =>
    withDisplay(async (display) => {
      // Settled into a value at once: a rejection must not go unhandled while we type.
      const failure = zenityDriver.askCode(
        { message: "MFA code for work", profile: "work" },
        promptContext(display),
      ).then(() => undefined, (err: unknown) => err);
      await waitForDialog(display);
      await typeInto(display, "", "Escape");
      const err = await failure;
      assert(err instanceof MfaError && err.kind === "cancelled" && err.exitCode === 130);
    }),
});

Deno.test({
  name: "gui: claude-export --prompt gui gets its code from the dialog, re-asking after a typo",
  ignore,
  fn: () =>
    withDisplay(async (display) => {
      const sandbox = await makeSandbox();
      try {
        const run = sandbox.run(["claude-export", "--prompt", "gui"], {
          env: { DISPLAY: display.name, AWS_MFA_PROMPT: undefined },
        });
        const first = await waitForDialog(display);
        await typeInto(display, "12345");
        // Not 6 digits: the dialog comes back with a note, before anything reaches STS.
        await waitForDialog(display, first);
        await typeInto(display, await sandbox.code());
        const out = await run;
        assertEquals(out.code, 0, out.stderr);
        const parsed = JSON.parse(out.stdout);
        assertStringIncludes(parsed.Credentials.AccessKeyId, "ASIA");
        assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 1);
        assert(!out.stderr.includes(NOT_A_CODE_NOTE), "the note belongs in the dialog");
      } finally {
        await sandbox.cleanup();
      }
    }),
});

Deno.test({
  name: "gui: claude-export exits 130 when the dialog is cancelled",
  ignore,
  fn: () =>
    withDisplay(async (display) => {
      const sandbox = await makeSandbox();
      try {
        const run = sandbox.run(["claude-export", "--prompt", "gui"], {
          env: { DISPLAY: display.name, AWS_MFA_PROMPT: undefined },
        });
        await waitForDialog(display);
        await typeInto(display, "", "Escape");
        const out = await run;
        assertEquals(out.code, 130, out.stderr);
        assertEquals(out.stdout, "");
        assertStringIncludes(out.stderr, "cancelled");
        assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 0);
      } finally {
        await sandbox.cleanup();
      }
    }),
});

Deno.test({
  name: "gui: setup --gui fills one zenity form and writes the profile (screenshot of it taken)",
  ignore,
  fn: () =>
    withDisplay(async (display) => {
      const sandbox = await makeSandbox({ credentials: null });
      try {
        const run = sandbox.run(["setup", "--gui", "--profile", "work"], {
          env: { DISPLAY: display.name },
        });
        const { window } = await waitForDialog(display, undefined, "^mfa setup$");
        // Region: keep the default shown in its label; then keys, serial; role, duration and
        // command stay empty (keep / none).
        await display.x(["xdotool", "key", "Tab"]);
        await display.x(["xdotool", "type", "--delay", "20", "AKIAIOSFODNN7EXAMPLE"]);
        await display.x(["xdotool", "key", "Tab"]);
        await display.x([
          "xdotool",
          "type",
          "--delay",
          "20",
          "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ]);
        await display.x(["xdotool", "key", "Tab"]);
        await display.x([
          "xdotool",
          "type",
          "--delay",
          "20",
          "arn:aws:iam::123456789012:mfa/alice",
        ]);
        if (env.UPDATE_SCREENSHOTS === "1") {
          await new Promise((r) => setTimeout(r, 300));
          await display.x(["import", "-window", window, `${ROOT}/docs/img/zenity-setup.png`]);
        }
        await clickFormOk(display, window);
        const out = await run;
        assertEquals(out.code, 0, out.stderr);
        assertEquals(out.stdout, "");
        assert(!out.stderr.includes("wJalrXUtnFEMI"), "the secret must never be printed");
        const credentials = await Deno.readTextFile(sandbox.credentialsFile);
        assertStringIncludes(credentials, "[work]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n");
        const config = await Deno.readTextFile(sandbox.configFile);
        assertStringIncludes(config, "[profile work]\n");
        assertStringIncludes(config, "region = us-east-1\n");
        assertStringIncludes(config, "mfa_serial = arn:aws:iam::123456789012:mfa/alice\n");
        assertStringIncludes(config, "duration_seconds = 43200\n");
      } finally {
        await sandbox.cleanup();
      }
    }),
});

Deno.test({
  name: "gui: the first claude-export with nothing configured opens the setup form, then exports",
  ignore,
  fn: () =>
    withDisplay(async (display) => {
      const { DEFAULT_USER } = await import("./fake_sts.ts");
      const sandbox = await makeSandbox({ credentials: null });
      try {
        const code = await sandbox.code();
        const run = sandbox.run(["claude-export"], {
          env: { DISPLAY: display.name, AWS_MFA_PROMPT: "auto", AWS_REGION: "eu-west-1" },
        });
        const { window } = await waitForDialog(display, undefined, "^mfa setup$");
        // Region (keep), access key, secret, serial, role (none), duration (keep), then the code.
        const fields = ["", DEFAULT_USER.accessKeyId, DEFAULT_USER.secretAccessKey];
        fields.push(DEFAULT_USER.mfaSerial, "", "", code);
        for (const [i, value] of fields.entries()) {
          if (i > 0) await display.x(["xdotool", "key", "Tab"]);
          if (value) await display.x(["xdotool", "type", "--delay", "15", value]);
        }
        await clickFormOk(display, window);
        const out = await run;
        assertEquals(out.code, 0, out.stderr);
        const parsed = JSON.parse(out.stdout);
        assert(sandbox.fake.issued(parsed.Credentials.AccessKeyId), "credentials from the fake");
        assertEquals(sandbox.fake.callsOf("GetSessionToken").length, 1);
        assertStringIncludes(out.stderr, "no AWS profile is set up yet");
        const credentials = await Deno.readTextFile(sandbox.credentialsFile);
        assertStringIncludes(credentials, `aws_access_key_id = ${DEFAULT_USER.accessKeyId}`);
        assert(!credentials.includes(code), "the code is never saved");
      } finally {
        await sandbox.cleanup();
      }
    }),
});
