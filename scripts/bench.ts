/**
 * `deno task bench [--runs N]`: the SPEC 7 figures as markdown tables.
 *
 * Starts the fake STS in-process with a temp HOME (tests/helpers.ts makeSandbox), warms the cache, then
 * measures the median wall time (and peak RSS with /usr/bin/time when present) of a cache-hit
 * `mfa exports`, of `deno run` of an empty script and of `aws configure export-credentials` on an
 * equivalent profile with static keys. Then counts STS calls and code requests for 20 parallel cold
 * calls. Timing is reported, never asserted; exits 1 only when a counted property is wrong.
 */
import { DEFAULT_USER } from "../tests/fake_sts.ts";
import { DEFAULT_CREDENTIALS, MAIN, makeSandbox, ROOT, type Sandbox } from "../tests/helpers.ts";

const AWS_V2 = "/usr/bin/aws";
const GNU_TIME = "/usr/bin/time";
const PARALLEL = 20;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function parseRuns(args: string[]): number {
  const i = args.indexOf("--runs");
  if (i === -1) return 15;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < 1) {
    console.error("usage: deno task bench [--runs N]");
    Deno.exit(2);
  }
  return n;
}

interface Subject {
  label: string;
  argv: string[];
}

interface Measurement {
  label: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** kilobytes; undefined when /usr/bin/time is missing */
  peakRssKb?: number;
}

async function runOnce(argv: string[], env: Record<string, string>): Promise<Deno.CommandOutput> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`${argv.join(" ")} exited ${out.code}: ${stderr}`);
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Peak resident set size of one run, through GNU time's %M (kilobytes). */
async function peakRss(argv: string[], env: Record<string, string>, dir: string) {
  const report = `${dir}/time.out`;
  await runOnce([GNU_TIME, "-f", "%M", "-o", report, ...argv], env);
  return Number((await Deno.readTextFile(report)).trim().split("\n").pop());
}

async function measure(
  subject: Subject,
  env: Record<string, string>,
  runs: number,
  dir: string,
): Promise<Measurement> {
  await runOnce(subject.argv, env); // warm the OS and Deno caches; not counted
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await runOnce(subject.argv, env);
    times.push(performance.now() - start);
  }
  let peakRssKb: number | undefined;
  if (exists(GNU_TIME)) {
    const samples = [];
    for (let i = 0; i < 3; i++) samples.push(await peakRss(subject.argv, env, dir));
    peakRssKb = Math.max(...samples);
  }
  return {
    label: subject.label,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    peakRssKb,
  };
}

const ms = (value: number) => value.toFixed(0);
const mb = (kb?: number) => (kb === undefined ? "n/a" : (kb / 1024).toFixed(0));

function timingTable(rows: Measurement[], runs: number): string {
  const lines = [
    `| command | median wall (ms, n=${runs}) | min–max (ms) | peak RSS (MB) |`,
    "|---|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.label} | ${ms(r.medianMs)} | ${ms(r.minMs)}–${ms(r.maxMs)} | ${mb(r.peakRssKb)} |`
    ),
  ];
  return lines.join("\n");
}

function ratioRow(name: string, value: number, target: number): string {
  const verdict = value <= target ? "met" : "not met";
  return `| ${name} | ${value.toFixed(2)}× | ≤ ${target}× | ${verdict} |`;
}

/** Cache-hit timings: mfa vs an empty deno script vs the AWS CLI on an equivalent static profile. */
async function hitBenchmark(runs: number): Promise<{ ok: boolean; text: string }> {
  await using sandbox = await makeSandbox({
    credentials: `${DEFAULT_CREDENTIALS}\n[bench-static]\n` +
      `aws_access_key_id = ${DEFAULT_USER.accessKeyId}\n` +
      `aws_secret_access_key = ${DEFAULT_USER.secretAccessKey}\n`,
  });
  const env = { ...sandbox.env, AWS_PAGER: "" };
  const deno = Deno.execPath();
  const empty = `${sandbox.home}/empty.ts`;
  await Deno.writeTextFile(empty, "");

  // Warm the cache: one real cold fetch against the fake.
  const mfaRun = [deno, "run", "-A", "--quiet", "--frozen", `--config=${ROOT}/deno.json`, MAIN];
  await runOnce([...mfaRun, "exports", "--code", await sandbox.code()], env);
  const callsAfterWarm = sandbox.fake.calls.length;

  const subjects: Subject[] = [
    { label: "`mfa exports` cache hit (`deno run main.ts`)", argv: [...mfaRun, "exports"] },
  ];
  const binary = `${ROOT}/dist/mfa-${
    Deno.build.os === "darwin" ? "macos" : Deno.build.os
  }-${Deno.build.arch}`;
  if (exists(binary)) {
    subjects.push({
      label: "`mfa exports` cache hit (compiled dist/ binary)",
      argv: [binary, "exports"],
    });
  }
  subjects.push({ label: "`deno run` of an empty script", argv: [deno, "run", "--quiet", empty] });
  const hasAws = exists(AWS_V2);
  if (hasAws) {
    subjects.push({
      label: "`aws configure export-credentials` (static keys)",
      argv: [AWS_V2, "configure", "export-credentials", "--profile", "bench-static"],
    });
  }

  const rows: Measurement[] = [];
  for (const subject of subjects) {
    console.error(`bench: ${subject.label} ...`);
    rows.push(await measure(subject, env, runs, sandbox.home));
  }
  const hitCalls = sandbox.fake.calls.length - callsAfterWarm;

  const hit = rows[0].medianMs;
  const emptyRow = rows.find((r) => r.label.startsWith("`deno run` of an empty"))!;
  const ratios = [
    "| ratio | value | target | |",
    "|---|---:|---:|---|",
    ratioRow("cache hit / empty `deno run`", hit / emptyRow.medianMs, 2),
  ];
  if (hasAws) {
    ratios.push(
      ratioRow("cache hit / `aws configure export-credentials`", hit / rows.at(-1)!.medianMs, 0.1),
    );
  } else {
    ratios.push(
      "| cache hit / `aws configure export-credentials` | n/a (no /usr/bin/aws) | ≤ 0.1× | |",
    );
  }
  const notes = [
    `STS calls during the cache-hit runs: ${hitCalls}${hitCalls === 0 ? "" : " (expected 0)"}`,
  ];
  if (!exists(GNU_TIME)) notes.push("peak RSS not measured: /usr/bin/time is missing");
  return {
    ok: hitCalls === 0,
    text: [timingTable(rows, runs), "", ratios.join("\n"), "", ...notes].join("\n"),
  };
}

/** 20 parallel cold claude-export calls sharing one code source that counts its runs. */
async function parallelColdBenchmark(): Promise<{ ok: boolean; text: string }> {
  await using sandbox: Sandbox = await makeSandbox();
  const counter = `${sandbox.home}/code-requests.txt`;
  const script = `${sandbox.home}/code.sh`;
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\necho x >> '${counter}'\necho ${await sandbox.code()}\n`,
  );
  const deno = Deno.execPath();
  const argv = [
    deno,
    "run",
    "-A",
    "--quiet",
    "--frozen",
    `--config=${ROOT}/deno.json`,
    MAIN,
    "claude-export",
    "--mfa-command",
    `sh '${script}'`,
  ];
  console.error(`bench: ${PARALLEL} parallel cold claude-export ...`);
  const start = performance.now();
  const outputs = await Promise.all(
    Array.from({ length: PARALLEL }, () => runOnce(argv, sandbox.env)),
  );
  const wallMs = performance.now() - start;
  const texts = new Set(outputs.map((o) => new TextDecoder().decode(o.stdout)));
  const stsCalls = sandbox.fake.calls.filter((c) => c.action !== "IMDS").length;
  const codeRequests = exists(counter)
    ? (await Deno.readTextFile(counter)).split("\n").filter(Boolean).length
    : 0;
  const table = [
    `| ${PARALLEL} parallel cold \`claude-export\` | value | target |`,
    "|---|---:|---:|",
    `| STS calls | ${stsCalls} | 1 |`,
    `| code requests | ${codeRequests} | 1 |`,
    `| distinct outputs | ${texts.size} | 1 |`,
    `| wall time, all ${PARALLEL} (ms) | ${ms(wallMs)} | |`,
  ].join("\n");
  return { ok: stsCalls === 1 && codeRequests === 1 && texts.size === 1, text: table };
}

if (import.meta.main) {
  const runs = parseRuns(Deno.args);
  const hit = await hitBenchmark(runs);
  const cold = await parallelColdBenchmark();
  console.log(
    `## mfa benchmark (${Deno.build.os}/${Deno.build.arch}, deno ${Deno.version.deno})\n`,
  );
  console.log(hit.text);
  console.log();
  console.log(cold.text);
  if (!hit.ok || !cold.ok) {
    console.error("bench: a counted property is off (see the tables)");
    Deno.exit(1);
  }
}
