/**
 * .github/workflows: actionlint when it is installed; otherwise (and also) the YAML is parsed with
 * PyYAML and the structure the release depends on is checked. Skipped when neither exists.
 */
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { assetName, TARGETS } from "../scripts/build.ts";
import { ROOT } from "./helpers.ts";
import { which } from "./programs.ts";

const CI = `${ROOT}/.github/workflows/ci.yml`;
const RELEASE = `${ROOT}/.github/workflows/release.yml`;
const DENO_VERSION = "2.9.6";

async function run(program: string, args: string[]) {
  const out = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const PYTHON = which("python3");
const HAS_PYYAML = PYTHON !== undefined &&
  (await run(PYTHON, ["-c", "import yaml"]).catch(() => ({ code: 1 }))).code === 0;

// deno-lint-ignore no-explicit-any
type Yaml = any;

/** The workflow as JSON, through PyYAML (safe_load). */
async function loadYaml(path: string): Promise<Yaml> {
  const out = await run(PYTHON!, [
    "-c",
    "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))",
    path,
  ]);
  assertEquals(out.code, 0, `${path} is not valid YAML: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** YAML 1.1 reads the key `on` as true. */
function triggers(workflow: Yaml): Yaml {
  return workflow.on ?? workflow["true"];
}

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

function steps(job: Yaml): Step[] {
  assert(Array.isArray(job.steps), "a job without steps");
  return job.steps;
}

function runText(job: Yaml): string {
  return steps(job).map((s) => s.run ?? "").join("\n");
}

function assertSetupDeno(name: string, job: Yaml): void {
  const setup = steps(job).filter((s) => s.uses?.startsWith("denoland/setup-deno@"));
  assertEquals(setup.length, 1, `${name}: one setup-deno step`);
  assertEquals(setup[0].uses, "denoland/setup-deno@v2", name);
  assertEquals(String(setup[0].with?.["deno-version"]), DENO_VERSION, name);
}

Deno.test({
  name: "workflows: actionlint finds nothing",
  ignore: !which("actionlint"),
  async fn() {
    const out = await run(which("actionlint")!, [CI, RELEASE]);
    assertEquals(out.code, 0, out.stdout + out.stderr);
  },
});

Deno.test({
  name: "workflows: ci.yml checks and tests on Linux, macOS and Windows with Deno 2.9.6",
  ignore: !HAS_PYYAML,
  async fn() {
    const ci = await loadYaml(CI);
    const on = triggers(ci);
    assert(on && "push" in on && "pull_request" in on, "ci.yml runs on push and pull_request");
    const runners = Object.values(ci.jobs as Record<string, Yaml>).map((j) => j["runs-on"]).sort();
    assertEquals(runners, ["macos-latest", "ubuntu-latest", "windows-latest"]);
    for (const [name, job] of Object.entries(ci.jobs as Record<string, Yaml>)) {
      assertSetupDeno(name, job);
      assert(steps(job).some((s) => s.uses?.startsWith("actions/checkout@")), `${name}: checkout`);
      const text = runText(job);
      assertStringIncludes(text, "deno lint", name);
      assertStringIncludes(text, "deno check", name);
      assert(/deno (task )?test/.test(text), `${name}: runs tests`);
    }
    const linux = Object.values(ci.jobs as Record<string, Yaml>)
      .find((j) => j["runs-on"] === "ubuntu-latest");
    const linuxText = runText(linux);
    for (const pkg of ["awscli", "dash", "zsh", "fish", "zenity", "xvfb", "xdotool"]) {
      assert(new RegExp(`apt-get install[^\\n]*\\s${pkg}(\\s|$)`, "m").test(linuxText), pkg);
    }
    for (const command of ["deno fmt --check", "deno task test", "deno task demo"]) {
      assertStringIncludes(linuxText, command);
    }
    const macos = Object.values(ci.jobs as Record<string, Yaml>)
      .find((j) => j["runs-on"] === "macos-latest");
    assertStringIncludes(runText(macos), "deno task test");
  },
});

Deno.test({
  name: "workflows: every test file ci.yml names exists",
  ignore: !HAS_PYYAML,
  async fn() {
    const ci = await loadYaml(CI);
    const text = Object.values(ci.jobs as Record<string, Yaml>).map(runText).join("\n");
    const named = [...text.matchAll(/tests\/[\w./-]+\.ts/g)].map((m) => m[0]);
    assert(named.length > 0, "the Windows job names its test files");
    for (const file of named) {
      assert(
        await Deno.stat(`${ROOT}/${file}`).then(() => true, () => false),
        `${file} is missing`,
      );
    }
  },
});

Deno.test({
  name: "workflows: release.yml builds on a v* tag and attaches every binary and SHA256SUMS",
  ignore: !HAS_PYYAML,
  async fn() {
    const release = await loadYaml(RELEASE);
    const on = triggers(release);
    assertEquals(on.push.tags, ["v*"]);
    assertEquals(Object.keys(on), ["push"]);
    assertEquals(release.permissions, { contents: "write" });
    const jobs = Object.values(release.jobs as Record<string, Yaml>);
    assertEquals(jobs.length, 1);
    const [job] = jobs;
    assertEquals(job["runs-on"], "ubuntu-latest");
    assertSetupDeno("release", job);
    const list = steps(job);
    const index = (pattern: RegExp) => list.findIndex((s) => pattern.test(s.run ?? ""));
    const build = index(/^deno task build$/m);
    const smoke = index(/dist\/mfa-linux-x86_64 --version/);
    const demo = index(/^deno task demo$/m);
    assert(build >= 0 && smoke > build && demo > build, "build, then smoke-run and demo");
    assertStringIncludes(String(list[demo].env?.MFA_TEST_BIN), "dist/mfa-linux-x86_64");
    const upload = list.findIndex((s) => s.uses === "softprops/action-gh-release@v2");
    assert(upload > demo, "upload after the smoke tests");
    const files = String(list[upload].with?.files).split("\n").map((l) => l.trim()).filter(Boolean);
    assertEquals(
      files.sort(),
      [
        ...TARGETS.map((t) => `dist/${assetName(t)}`),
        "dist/SHA256SUMS",
        "scripts/install.sh",
      ].sort(),
    );
    assertEquals(list[upload].with?.fail_on_unmatched_files, true);
  },
});
