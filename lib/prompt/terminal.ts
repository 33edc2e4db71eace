/**
 * The controlling terminal: /dev/tty (Windows: CONIN$/CONOUT$), never stdin/stdout, so prompting
 * works under `eval "$(mfa exports)"`, in pipes and from credential_process.
 */
import type { Deps } from "../types.ts";
import {
  cancelledError,
  type DialogDriver,
  DriverFailedError,
  type FormAnswers,
  type FormRequest,
  type PromptContext,
  type Tty,
} from "./driver.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `stty` acts on its stdin, so it is pointed at the terminal. */
async function stty(run: Deps["run"], args: string): Promise<string | undefined> {
  try {
    const result = await run(["sh", "-c", `stty ${args} < /dev/tty`], { timeoutMs: 5000 });
    return result.code === 0 ? result.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}

export function openTty(os: Deps["os"], run: Deps["run"]): Tty {
  const windows = os === "windows";
  let input: Deno.FsFile;
  let output: Deno.FsFile;
  try {
    input = Deno.openSync(windows ? "CONIN$" : "/dev/tty", { read: true, write: !windows });
    output = windows ? Deno.openSync("CONOUT$", { write: true }) : input;
  } catch (err) {
    throw new DriverFailedError(
      `cannot open the terminal (${windows ? "CONIN$" : "/dev/tty"})`,
      err,
    );
  }
  return {
    write(text) {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += output.writeSync(bytes.subarray(written));
    },
    async readLine(opts = {}) {
      const prompt = opts.prompt ?? "";
      if (!opts.hidden) {
        this.write(prompt);
        return await readOneLine(input);
      }
      if (windows) {
        // No stty on Windows: say so rather than pretend.
        this.write(`${prompt}(input visible) `);
        return await readOneLine(input);
      }
      // Hidden: no echo, and no signals either, so Ctrl-C arrives as a byte and the terminal
      // settings are always restored (a SIGINT would exit before any cleanup could run).
      const saved = await stty(run, "-g");
      if (saved === undefined || !/^[\w:=-]+$/.test(saved)) {
        this.write(`${prompt}(cannot hide the input here: it will be visible) `);
        return await readOneLine(input);
      }
      await stty(run, "-echo -icanon -isig min 1 time 0");
      try {
        this.write(prompt);
        return await readHiddenLine(input);
      } finally {
        await stty(run, saved);
        this.write("\n");
      }
    },
    close() {
      try {
        input.close();
        if (output !== input) output.close();
      } catch {
        // already closed
      }
    },
  };
}

async function readOneLine(input: Deno.FsFile): Promise<string | null> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(256);
  while (true) {
    const n = await input.read(buffer);
    if (n === null || n === 0) {
      if (chunks.length === 0) return null;
      break;
    }
    const chunk = buffer.slice(0, n);
    const newline = chunk.indexOf(10);
    if (newline >= 0) {
      chunks.push(chunk.subarray(0, newline));
      break;
    }
    chunks.push(chunk);
  }
  const all = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  return decoder.decode(all).replace(/\r$/, "");
}

/** Raw-mode line editing for a hidden answer: Enter ends, Backspace deletes, ^C cancels, ^D ends. */
export async function readHiddenLine(input: { read(p: Uint8Array): Promise<number | null> }) {
  const bytes: number[] = [];
  const one = new Uint8Array(1);
  while (true) {
    const n = await input.read(one);
    if (n === null || n === 0) return bytes.length ? decoder.decode(new Uint8Array(bytes)) : null;
    const byte = one[0];
    if (byte === 0x03) throw cancelledError("form");
    if (byte === 0x04) return bytes.length ? decoder.decode(new Uint8Array(bytes)) : null;
    if (byte === 0x0a || byte === 0x0d) return decoder.decode(new Uint8Array(bytes));
    if (byte === 0x7f || byte === 0x08) {
      // Drop one whole UTF-8 character: its continuation bytes, then its first byte.
      while (bytes.length && (bytes[bytes.length - 1] & 0xc0) === 0x80) bytes.pop();
      bytes.pop();
      continue;
    }
    bytes.push(byte);
  }
}

function tty(ctx: PromptContext): Tty {
  return ctx.openTty ? ctx.openTty() : openTty(ctx.os, ctx.run);
}

/** `Label [current]: ` — an empty answer keeps the current value. */
export function questionText(field: { label: string; value?: string; secret?: boolean }): string {
  if (field.secret) return `${field.label} (hidden): `;
  return field.value ? `${field.label} [${field.value}]: ` : `${field.label}: `;
}

export const terminalDriver: DialogDriver = {
  name: "terminal",
  kind: "terminal",
  available: (ctx) => ctx.hasTerminal(),
  async askCode(req, ctx) {
    const term = tty(ctx);
    try {
      if (req.retryNote) term.write(`${req.retryNote}\n`);
      const line = await term.readLine({ prompt: `${req.message}: ` });
      if (line === null) {
        term.write("\n");
        throw cancelledError();
      }
      return line;
    } finally {
      term.close();
    }
  },
  async askForm(form: FormRequest, ctx) {
    const term = tty(ctx);
    try {
      term.write(`${form.text}\n`);
      const answers: FormAnswers = {};
      for (const field of form.fields) {
        const line = await term.readLine({ prompt: questionText(field), hidden: field.secret });
        if (line === null) {
          term.write("\n");
          throw cancelledError("form");
        }
        const answer = line.trim();
        answers[field.key] = answer === "" && !field.secret ? field.value ?? "" : answer;
      }
      return answers;
    } finally {
      term.close();
    }
  },
};
