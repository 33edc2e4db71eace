/** Prompt drivers: argv builders (escaping), exit-code mapping, and the order createPrompter tries them in. */
import { MfaError } from "../lib/errors.ts";
import {
  DriverFailedError,
  findOnPath,
  type FormRequest,
  type PromptContext,
  splitFormAnswer,
  type Tty,
} from "../lib/prompt/driver.ts";
import {
  createPrompter,
  driverOrder,
  MAX_ANSWER_TRIES,
  NOT_A_CODE_NOTE,
} from "../lib/prompt/index.ts";
import {
  kdialogArgs,
  kdialogDriver,
  kdialogFieldArgs,
  kdialogText,
} from "../lib/prompt/kdialog.ts";
import { osascriptArgs, osascriptDriver, osascriptFormArgs } from "../lib/prompt/osascript.ts";
import {
  encodePowerShell,
  parsePowerShellAnswers,
  powershellArgs,
  powershellDriver,
  powershellFormArgs,
  psQuote,
} from "../lib/prompt/powershell.ts";
import { questionText, readHiddenLine, terminalDriver } from "../lib/prompt/terminal.ts";
import { yadArgs, yadFormArgs } from "../lib/prompt/yad.ts";
import { zenityArgs, zenityDriver, zenityFormArgs, zenityMarkup } from "../lib/prompt/zenity.ts";
import type { CodePromptRequest, PromptMode, RunResult } from "../lib/types.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";

/** Text that breaks naive quoting in every dialog toolkit. */
const HOSTILE = `it's "quoted" \\ back\\slash_under <b>&amp;</b> $(id) \`x\` %PATH%\nline 2 ü 🔐`;
const REQ: CodePromptRequest = { message: "MFA code for work", profile: "work" };

// ---- what the toolkits do with text, to check the escaping round-trips --------------------------

/** g_strcompress: `\\` → `\`, `\n` → newline (what zenity/yad apply to --text). */
function gStrcompress(text: string): string {
  return text.replace(/\\(.)/gs, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
}

function unescapeMarkup(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function decodePowerShell(encoded: string): string {
  const binary = atob(encoded);
  let out = "";
  for (let i = 0; i < binary.length; i += 2) {
    out += String.fromCharCode(binary.charCodeAt(i) | (binary.charCodeAt(i + 1) << 8));
  }
  return out;
}

function option(argv: string[], name: string): string | undefined {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

Deno.test("zenity: --entry text survives g_strcompress and the mnemonic label", () => {
  const argv = zenityArgs({ ...REQ, message: HOSTILE });
  assertEquals(argv.slice(0, 2), ["zenity", "--entry"]);
  const shown = gStrcompress(option(argv, "text")!).replace(/__/g, "_");
  assertEquals(shown, HOSTILE);
  // Single underscores would become mnemonics and vanish.
  assert(!/(^|[^_])_([^_]|$)/.test(option(argv, "text")!));
});

Deno.test("zenity: the retry note is shown above the request", () => {
  const argv = zenityArgs({ ...REQ, retryNote: "AWS rejected that code" });
  assertEquals(gStrcompress(option(argv, "text")!), "AWS rejected that code\n\nMFA code for work");
});

Deno.test("zenity: form text is escaped markup; secrets are password fields and never in argv", () => {
  const form: FormRequest = {
    title: "mfa setup",
    text: "a <b> & c\\d",
    fields: [
      { key: "region", label: "Region", value: "eu-west-1" },
      { key: "secret", label: "Secret access key", secret: true, value: "should-not-appear" },
      { key: "role", label: "Role ARN" },
    ],
  };
  const argv = zenityFormArgs(form);
  assertEquals(unescapeMarkup(gStrcompress(option(argv, "text")!)), form.text);
  assertEquals(zenityMarkup("<&>"), "&lt;&amp;&gt;");
  assertEquals(argv.filter((a) => a.startsWith("--add-")), [
    "--add-entry=Region [eu-west-1]",
    "--add-password=Secret access key",
    "--add-entry=Role ARN",
  ]);
  assert(!argv.some((a) => a.includes("should-not-appear")));
  assertEquals(option(argv, "separator"), "\x1f");
});

Deno.test("zenity: form answers split on the separator; empty keeps the current value", async () => {
  const form: FormRequest = {
    title: "t",
    text: "x",
    fields: [
      { key: "region", label: "Region", value: "eu-west-1" },
      { key: "secret", label: "Secret", secret: true },
      { key: "role", label: "Role", value: "arn:role" },
    ],
  };
  const ctx = fakeContext({ run: () => ok("\x1fs3cr|et\x1fnew-role\n") });
  assertEquals(await zenityDriver.askForm(form, ctx), {
    region: "eu-west-1",
    secret: "s3cr|et",
    role: "new-role",
  });
});

Deno.test("yad: markup and backslashes escaped; form values after -- and secrets left empty", () => {
  const argv = yadArgs({ ...REQ, message: HOSTILE });
  assertEquals(unescapeMarkup(gStrcompress(option(argv, "text")!)), HOSTILE);
  const form = yadFormArgs({
    title: "mfa setup",
    text: "x",
    fields: [
      { key: "a", label: "Role: ARN", value: "-starts-with-dash" },
      { key: "b", label: "Secret", secret: true, value: "hidden" },
    ],
  });
  const dashes = form.indexOf("--");
  assertEquals(form.slice(dashes), ["--", "-starts-with-dash", ""]);
  assertEquals(form.filter((a) => a.startsWith("--field=")), [
    "--field=Role ARN",
    "--field=Secret:H",
  ]);
  // yad prints a separator after every field.
  assertEquals(
    splitFormAnswer("-x\x1fy\x1f\n", [{ key: "a", label: "" }, { key: "b", label: "" }]),
    {
      a: "-x",
      b: "y",
    },
  );
});

Deno.test("kdialog: plain text stays plain; text with < becomes escaped rich text", () => {
  assertEquals(kdialogText("MFA code for work"), "MFA code for work");
  assertEquals(kdialogText("a <b> & c\nd"), "<qt>a &lt;b&gt; &amp; c<br>d</qt>");
  const argv = kdialogArgs({ ...REQ, message: `it's "x" \\ y` });
  assertEquals(argv, ["kdialog", "--title=mfa", "--inputbox", `it's "x" \\ y`, ""]);
  // A default starting with "-" would be parsed as an option: it moves into the label.
  const field = kdialogFieldArgs("t", "intro", { label: "Cmd", value: "-x" });
  assertEquals(field.at(-1), "");
  assertStringIncludes(field.at(-2)!, "[-x]");
  const secret = kdialogFieldArgs("t", "intro", { label: "Secret", secret: true, value: "nope" });
  assert(secret.includes("--password") && !secret.some((a) => a.includes("nope")));
});

Deno.test("osascript: the user's text is argv, never AppleScript source", () => {
  const plain = osascriptArgs(REQ);
  const hostile = osascriptArgs({ ...REQ, message: `" & (do shell script "id") & "\n${HOSTILE}` });
  const script = (argv: string[]) => argv.filter((_, i) => argv[i - 1] === "-e");
  assertEquals(script(hostile), script(plain));
  assert(!script(hostile).some((line) => line.includes("do shell script")));
  // After the -e pairs: our fixed title first (ends osascript's option parsing), then the text.
  const rest = hostile.slice(1 + 2 * script(hostile).length);
  assertEquals(rest, ["mfa", `" & (do shell script "id") & "\n${HOSTILE}`]);
  const form = osascriptFormArgs({
    title: "mfa setup",
    text: "intro",
    fields: [
      { key: "r", label: "Region", value: "eu-west-1" },
      { key: "s", label: "Secret", secret: true, value: "nope" },
    ],
  });
  const formRest = form.slice(1 + 2 * script(form).length);
  assertEquals(formRest, ["mfa setup", "intro", "Region", "eu-west-1", "0", "Secret", "", "1"]);
});

Deno.test("powershell: single quotes (also curly ones) are doubled", () => {
  assertEquals(psQuote("it's"), "'it''s'");
  assertEquals(psQuote("a\u2019b\u2018c"), "'a\u2019\u2019b\u2018\u2018c'");
  assertEquals(psQuote('$(x) "y" `z`'), `'$(x) "y" \`z\`'`);
});

Deno.test("powershell: -EncodedCommand is UTF-16LE base64 of a script holding the quoted text", () => {
  assertEquals(encodePowerShell("ab"), btoa("a\0b\0"));
  const argv = powershellArgs({ ...REQ, message: HOSTILE });
  assertEquals(argv.slice(0, -1), [
    "powershell.exe",
    "-NoProfile",
    "-NonInteractive",
    "-STA",
    "-EncodedCommand",
  ]);
  const script = decodePowerShell(argv.at(-1)!);
  assertStringIncludes(script, psQuote(HOSTILE));
  assertStringIncludes(script, "System.Windows.Forms");
  const form = decodePowerShell(
    powershellFormArgs({
      title: "mfa setup",
      text: "x",
      fields: [{ key: "s", label: "Secret", secret: true, value: "nope" }],
    }).at(-1)!,
  );
  assert(!form.includes("nope"), "a secret must not travel in the command line");
  assertStringIncludes(form, "UseSystemPasswordChar = $true");
});

Deno.test("powershell: answers are a JSON array (a lone string too); anything else fails", () => {
  assertEquals(parsePowerShellAnswers('["1","b"]', 2), ["1", "b"]);
  assertEquals(parsePowerShellAnswers('\uFEFF"123456"', 1), ["123456"]);
  for (const bad of ["", "nope", '["a"]']) {
    let err: unknown;
    try {
      parsePowerShellAnswers(bad, 2);
    } catch (e) {
      err = e;
    }
    assert(err instanceof DriverFailedError, `accepted ${JSON.stringify(bad)}`);
  }
});

// ---- exit codes ---------------------------------------------------------------------------------

function ok(stdout: string): Promise<RunResult> {
  return Promise.resolve({ code: 0, stdout, stderr: "" });
}

function exit(code: number, stderr = ""): () => Promise<RunResult> {
  return () => Promise.resolve({ code, stdout: "", stderr });
}

function fakeContext(over: Partial<PromptContext> = {}): PromptContext {
  return {
    env: { DISPLAY: ":0", PATH: "/usr/bin" },
    os: "linux",
    run: () => ok(""),
    hasTerminal: () => false,
    log: { debug: () => {}, warn: () => {}, info: () => {} },
    which: (name) => Promise.resolve(`/usr/bin/${name}`),
    ...over,
  };
}

async function kindOf(promise: Promise<unknown>): Promise<string> {
  const err = await assertRejects(() => promise);
  if (err instanceof DriverFailedError) return "failed";
  if (err instanceof MfaError) return `${err.kind}:${err.exitCode}`;
  throw err;
}

Deno.test("drivers: cancel, timeout and failure map to distinct errors", async () => {
  const cases: [string, Promise<unknown>, string][] = [
    ["zenity cancel", zenityDriver.askCode(REQ, fakeContext({ run: exit(1) })), "cancelled:130"],
    [
      "zenity no display",
      zenityDriver.askCode(REQ, fakeContext({ run: exit(1, "cannot open display: :9") })),
      "failed",
    ],
    ["zenity timeout", zenityDriver.askCode(REQ, fakeContext({ run: exit(5) })), "code:1"],
    ["zenity missing", zenityDriver.askCode(REQ, fakeContext({ run: exit(127) })), "failed"],
    ["kdialog cancel", kdialogDriver.askCode(REQ, fakeContext({ run: exit(1) })), "cancelled:130"],
    ["kdialog crash", kdialogDriver.askCode(REQ, fakeContext({ run: exit(134) })), "failed"],
    [
      "osascript cancel",
      osascriptDriver.askCode(
        REQ,
        fakeContext({ run: exit(1, "execution error: User canceled. (-128)") }),
      ),
      "cancelled:130",
    ],
    [
      "osascript other error",
      osascriptDriver.askCode(REQ, fakeContext({ run: exit(1, "syntax error (-2741)") })),
      "failed",
    ],
    [
      "powershell cancel",
      powershellDriver.askCode(REQ, fakeContext({ run: exit(10) })),
      "cancelled:130",
    ],
    [
      "powershell script error",
      powershellDriver.askCode(REQ, fakeContext({ run: exit(1, "Add-Type failed") })),
      "failed",
    ],
  ];
  for (const [name, promise, expected] of cases) {
    assertEquals(await kindOf(promise), expected, name);
  }
});

Deno.test("drivers: the answer comes back without the final newline", async () => {
  assertEquals(
    await zenityDriver.askCode(REQ, fakeContext({ run: () => ok("123456\n") })),
    "123456",
  );
  assertEquals(
    await osascriptDriver.askCode(REQ, fakeContext({ run: () => ok("654321\n") })),
    "654321",
  );
  assertEquals(
    await powershellDriver.askCode(REQ, fakeContext({ run: () => ok('"111222"') })),
    "111222",
  );
});

// ---- availability and order ---------------------------------------------------------------------

function names(mode: PromptMode, command: string, over: Partial<PromptContext> = {}): string[] {
  return driverOrder(mode, command, fakeContext(over)).map((d) => d.name);
}

Deno.test("order: auto asks claude-export/credential-process by dialog first, others by terminal", () => {
  const linuxGui = ["zenity", "kdialog", "yad"];
  assertEquals(names("auto", "claude-export"), [...linuxGui, "terminal"]);
  assertEquals(names("auto", "credential-process"), [...linuxGui, "terminal"]);
  assertEquals(names("auto", "exports"), ["terminal", ...linuxGui]);
  assertEquals(names("auto", "exec"), ["terminal", ...linuxGui]);
  assertEquals(names("terminal", "claude-export"), ["terminal"]);
  assertEquals(names("gui", "exports"), linuxGui);
  assertEquals(names("none", "exports"), []);
  assertEquals(names("gui", "x", { env: { XDG_CURRENT_DESKTOP: "KDE" } }), [
    "kdialog",
    "zenity",
    "yad",
  ]);
  assertEquals(names("auto", "claude-export", { os: "darwin" }), ["osascript", "terminal"]);
  assertEquals(names("auto", "exports", { os: "windows" }), ["terminal", "powershell"]);
});

Deno.test("availability: Linux dialogs need DISPLAY or WAYLAND_DISPLAY and the program", async () => {
  assert(await zenityDriver.available(fakeContext()));
  assert(await zenityDriver.available(fakeContext({ env: { WAYLAND_DISPLAY: "wayland-0" } })));
  assert(!(await zenityDriver.available(fakeContext({ env: { DISPLAY: "" } }))));
  assert(!(await zenityDriver.available(fakeContext({ which: () => Promise.resolve(undefined) }))));
  assert(!(await osascriptDriver.available(fakeContext())));
  assert(await osascriptDriver.available(fakeContext({ os: "darwin" })));
  assert(!(await osascriptDriver.available(fakeContext({ os: "darwin", env: { SSH_TTY: "x" } }))));
  assert(await powershellDriver.available(fakeContext({ os: "windows" })));
});

Deno.test({
  name: "findOnPath: only executable files count",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/tool`, "#!/bin/sh\n", { mode: 0o755 });
      await Deno.writeTextFile(`${dir}/plain`, "", { mode: 0o644 });
      await Deno.mkdir(`${dir}/adir`);
      const env = { PATH: `/nonexistent:${dir}` };
      assertEquals(await findOnPath("tool", env, "linux"), `${dir}/tool`);
      assertEquals(await findOnPath("plain", env, "linux"), undefined);
      assertEquals(await findOnPath("adir", env, "linux"), undefined);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---- createPrompter -----------------------------------------------------------------------------

interface FakeTty {
  tty: Tty;
  written: string[];
  hidden: boolean[];
  opened: number;
}

function fakeTty(answers: (string | null)[]): FakeTty {
  const state: FakeTty = {
    written: [],
    hidden: [],
    opened: 0,
    tty: {
      write: (t) => state.written.push(t),
      readLine: (opts) => {
        state.written.push(opts?.prompt ?? "");
        state.hidden.push(opts?.hidden === true);
        return Promise.resolve(answers.length ? answers.shift()! : null);
      },
      close: () => {},
    },
  };
  return state;
}

interface Scenario {
  terminal?: (string | null)[];
  desktop?: boolean;
  run?: (argv: string[]) => Promise<RunResult>;
}

function scenario(s: Scenario) {
  const tty = fakeTty(s.terminal ?? []);
  const runs: string[][] = [];
  const ctx = fakeContext({
    env: s.desktop ? { DISPLAY: ":0" } : {},
    hasTerminal: () => s.terminal !== undefined,
    openTty: () => {
      tty.opened++;
      return tty.tty;
    },
    run: (argv) => {
      runs.push(argv);
      return s.run ? s.run(argv) : ok("");
    },
    which: (name) => Promise.resolve(name === "zenity" ? "/usr/bin/zenity" : undefined),
  });
  return { prompt: createPrompter(ctx), tty, runs };
}

Deno.test("prompter: claude-export with a desktop asks by dialog and leaves the terminal alone", async () => {
  const s = scenario({ terminal: ["111111"], desktop: true, run: () => ok("123456\n") });
  assertEquals(await s.prompt(REQ, "auto", "claude-export"), "123456");
  assertEquals(s.runs.map((a) => a[0]), ["zenity"]);
  assertEquals(s.tty.opened, 0);
});

Deno.test("prompter: exports at a terminal asks there, with the message and retry note", async () => {
  const s = scenario({ terminal: ["123456"], desktop: true });
  const code = await s.prompt({ ...REQ, retryNote: "AWS rejected that code" }, "auto", "exports");
  assertEquals(code, "123456");
  assertEquals(s.runs, []);
  assertEquals(s.tty.written.join(""), "AWS rejected that code\nMFA code for work: ");
  assertEquals(s.tty.hidden, [false]);
});

Deno.test("prompter: exports without a terminal falls back to the dialog", async () => {
  const s = scenario({ desktop: true, run: () => ok("123456\n") });
  assertEquals(await s.prompt(REQ, "auto", "exports"), "123456");
  assertEquals(s.runs.length, 1);
});

Deno.test("prompter: a dialog that cannot start falls through to the terminal", async () => {
  const s = scenario({
    terminal: ["654321"],
    desktop: true,
    run: exit(1, "Gtk-WARNING: cannot open display: :0"),
  });
  assertEquals(await s.prompt(REQ, "auto", "claude-export"), "654321");
  assertEquals(s.tty.opened, 1);
});

Deno.test("prompter: cancel stops everything (exit 130), no fallback", async () => {
  const s = scenario({ terminal: ["654321"], desktop: true, run: exit(1) });
  const err = await assertRejects(() => s.prompt(REQ, "auto", "claude-export"));
  assert(err instanceof MfaError && err.kind === "cancelled" && err.exitCode === 130);
  assertEquals(s.tty.opened, 0);
  // Ctrl-D at the terminal is a cancel too.
  const t = scenario({ terminal: [null] });
  const eof = await assertRejects(() => t.prompt(REQ, "terminal", "exports"));
  assert(eof instanceof MfaError && eof.kind === "cancelled");
});

Deno.test("prompter: answers that are not 6 digits are asked again with a note", async () => {
  const s = scenario({ terminal: ["12345", "abc", "123 456"] });
  assertEquals(await s.prompt(REQ, "terminal", "exports"), "123456");
  const text = s.tty.written.join("");
  assertEquals(text.split(NOT_A_CODE_NOTE).length - 1, 2);
  // After MAX_ANSWER_TRIES the last answer goes to the caller, which rejects it with its own message.
  const t = scenario({ terminal: ["1", "2", "3", "123456"] });
  assertEquals(await t.prompt(REQ, "terminal", "exports"), "3");
  assertEquals(t.tty.hidden.length, MAX_ANSWER_TRIES);
  // Dialogs re-ask too, with the note in their text.
  const answers = ["", "000000\n"];
  const d = scenario({ desktop: true, run: () => ok(answers.shift()!) });
  assertEquals(await d.prompt(REQ, "gui", "exports"), "000000");
  assertStringIncludes(option(d.runs[1], "text")!, NOT_A_CODE_NOTE);
});

function everyWay(err: unknown): string {
  assert(err instanceof MfaError, String(err));
  assertEquals(err.kind, "code");
  assertEquals(err.exitCode, 1);
  const text = `${err.message}\n${err.hint}`;
  for (const way of ["--code", "AWS_MFA_TOKEN", "--mfa-command", "terminal", "desktop"]) {
    assertStringIncludes(text, way);
  }
  return err.message;
}

Deno.test("prompter: --prompt none fails naming every way to give a code", async () => {
  const s = scenario({ terminal: ["123456"], desktop: true });
  const message = everyWay(await assertRejects(() => s.prompt(REQ, "none", "exports")));
  assertStringIncludes(message, "none");
  assertEquals([s.runs.length, s.tty.opened], [0, 0]);
});

Deno.test("prompter: nothing available fails the same way, saying why", async () => {
  const s = scenario({});
  const message = everyWay(await assertRejects(() => s.prompt(REQ, "auto", "claude-export")));
  assertStringIncludes(message, "DISPLAY");
  everyWay(await assertRejects(() => s.prompt(REQ, "gui", "exports")));
  everyWay(await assertRejects(() => s.prompt(REQ, "terminal", "exports")));
  // A desktop whose dialog cannot start, and no terminal.
  const broken = scenario({ desktop: true, run: exit(1, "cannot open display") });
  const why = everyWay(await assertRejects(() => broken.prompt(REQ, "auto", "exports")));
  assertStringIncludes(why, "zenity failed");
});

// ---- terminal form and hidden input -------------------------------------------------------------

Deno.test("terminal form: current values in brackets, empty keeps, secret read hidden", async () => {
  const tty = fakeTty(["", "s3cret", "arn:new"]);
  const form: FormRequest = {
    title: "mfa setup",
    text: "Profile work",
    fields: [
      { key: "region", label: "Region", value: "eu-west-1" },
      { key: "secret", label: "Secret access key", secret: true },
      { key: "role", label: "Role ARN", value: "arn:old" },
    ],
  };
  const answers = await terminalDriver.askForm(form, fakeContext({ openTty: () => tty.tty }));
  assertEquals(answers, { region: "eu-west-1", secret: "s3cret", role: "arn:new" });
  assertEquals(tty.hidden, [false, true, false]);
  assertEquals(questionText(form.fields[0]), "Region [eu-west-1]: ");
  assert(!tty.written.join("").includes("s3cret"));
});

function byteReader(text: string) {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (at >= bytes.length) return Promise.resolve(null);
      p[0] = bytes[at++];
      return Promise.resolve(1);
    },
  };
}

Deno.test("hidden line: backspace deletes whole characters, ^C cancels, ^D on empty is EOF", async () => {
  assertEquals(await readHiddenLine(byteReader("ab\x7fc\r")), "ac");
  assertEquals(await readHiddenLine(byteReader("xü\x7f\x7fy\n")), "y");
  assertEquals(await readHiddenLine(byteReader("\x04")), null);
  const err = await assertRejects(() => readHiddenLine(byteReader("ab\x03")));
  assert(err instanceof MfaError && err.kind === "cancelled");
});
