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

/** Echo off/on for a hidden answer: stty acts on its stdin, so it is pointed at the terminal. */
async function setEcho(run: Deps["run"], on: boolean): Promise<void> {
  await run(["sh", "-c", `stty ${on ? "" : "-"}echo < /dev/tty`], { timeoutMs: 5000 }).catch(
    () => undefined,
  );
}

export function openTty(os: Deps["os"], run: Deps["run"]): Tty {
  const windows = os === "windows";
  let input: Deno.FsFile;
  let output: Deno.FsFile;
  try {
    input = Deno.openSync(windows ? "CONIN$" : "/dev/tty", { read: true, write: !windows });
    output = windows ? Deno.openSync("CONOUT$", { write: true }) : input;
  } catch (err) {
    throw new DriverFailedError(`cannot open the terminal (${windows ? "CONIN$" : "/dev/tty"})`, err);
  }
  return {
    write(text) {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += output.writeSync(bytes.subarray(written));
    },
    async readLine(opts = {}) {
      // Windows has no stty: a hidden answer is read visibly there.
      const hide = opts.hidden === true && !windows;
      if (hide) await setEcho(run, false);
      // Ctrl-C while we wait: restore the echo and report a cancel instead of dying mid-read.
      let onInterrupt = () => {};
      const interrupted = new Promise<never>((_, reject) => {
        onInterrupt = () => reject(cancelledError());
      });
      interrupted.catch(() => {});
      Deno.addSignalListener("SIGINT", onInterrupt);
      try {
        return await Promise.race([readOneLine(input), interrupted]);
      } finally {
        Deno.removeSignalListener("SIGINT", onInterrupt);
        if (hide) {
          await setEcho(run, true);
          this.write("\n");
        }
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

function tty(ctx: PromptContext): Tty {
  return ctx.openTty ? ctx.openTty() : openTty(ctx.os, ctx.run);
}

/** `Label [current]: ` — an empty answer keeps the current value. */
export function questionText(field: { label: string; value?: string; secret?: boolean }): string {
  if (field.secret) return `${field.label} (hidden; empty keeps the current one): `;
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
      term.write(`${req.message}: `);
      const line = await term.readLine();
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
        term.write(questionText(field));
        const line = await term.readLine({ hidden: field.secret });
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
