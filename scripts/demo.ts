/**
 * `deno task demo`: the main job end to end with no AWS account. Starts the bundled fake STS, makes a
 * temp HOME whose profile gets its MFA code from a TOTP secret (mfa_process), then runs claude-export,
 * exports, update-profile and exec against it.
 */
import { DEFAULT_USER, startFakeSts } from "../tests/fake_sts.ts";
import { baseEnv, runMfa } from "../tests/helpers.ts";

const bold = (s: string) => Deno.stdout.isTerminal() ? `\x1b[1m${s}\x1b[0m` : s;
/** Fake credentials, but the demo still shows secrets the way a careful user would want: shortened. */
const shorten = (text: string) =>
  text.replace(/("(?:SecretAccessKey|SessionToken)":")([^"]{8})[^"]*/g, "$1$2…")
    .replace(
      /((?:SECRET_ACCESS_KEY|SESSION_TOKEN|secret_access_key|session_token)\S*\s*=\s*'?)([^'\s]{8})[^'\s]*/g,
      "$1$2…",
    );

const fake = await startFakeSts();
const home = await Deno.makeTempDir({ prefix: "mfa-demo-" });
let failed = false;
try {
  await Deno.mkdir(`${home}/.aws`);
  await Deno.writeTextFile(
    `${home}/.aws/credentials`,
    `# long-term keys of the demo user (dual-profile convention: the session goes to [demo])\n` +
      `[demo-long-term]\naws_access_key_id = ${DEFAULT_USER.accessKeyId}\n` +
      `aws_secret_access_key = ${DEFAULT_USER.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  await Deno.writeTextFile(
    `${home}/.aws/config`,
    `[profile demo]\nregion = eu-west-3\nmfa_serial = ${DEFAULT_USER.mfaSerial}\n` +
      `# a TOTP secret printed by a command: mfa computes the code itself (RFC 6238)\n` +
      `mfa_process = echo ${DEFAULT_USER.totpSecret}\n`,
    { mode: 0o600 },
  );
  const env = {
    ...baseEnv(),
    HOME: home,
    AWS_ENDPOINT_URL: fake.url,
    AWS_EC2_METADATA_DISABLED: "true",
  };

  const step = async (title: string, args: string[]) => {
    const shown = args.map((a) => /[\s"$]/.test(a) ? `'${a}'` : a).join(" ");
    console.log(bold(`\n$ mfa ${shown}`) + `   # ${title}`);
    const out = await runMfa(args, env);
    if (out.stdout) console.log(shorten(out.stdout.trimEnd()));
    if (out.stderr) console.log(out.stderr.trimEnd().replace(/^/gm, "  (stderr) "));
    if (out.code !== 0) {
      failed = true;
      console.log(`  exit code ${out.code}`);
    }
    return out;
  };

  console.log(`fake STS at ${fake.url}; HOME=${home}`);
  await step("what Claude Code's awsCredentialExport runs", ["claude-export", "--profile", "demo"]);
  await step('what eval "$(mfa exports)" evaluates (from the cache now)', [
    "exports",
    "--profile",
    "demo",
  ]);
  await step("write the session into [demo] for every AWS tool", [
    "update-profile",
    "--profile",
    "demo",
  ]);
  console.log(
    bold("\n~/.aws/credentials now:\n") +
      shorten(await Deno.readTextFile(`${home}/.aws/credentials`)).trimEnd(),
  );
  await step("run one command with the session", [
    "exec",
    "--profile",
    "demo",
    "--",
    "sh",
    "-c",
    'echo "child sees $AWS_ACCESS_KEY_ID in $AWS_REGION"',
  ]);
  await step("cached sessions", ["status"]);
  const calls = fake.calls.map((c) => c.action);
  console.log(
    bold(`\nSTS calls made: ${calls.length} (${calls.join(", ")})`) +
      " — one MFA code for all of the above.",
  );
} finally {
  await fake.close();
  await Deno.remove(home, { recursive: true }).catch(() => {});
}
if (failed) {
  console.error("demo: a step failed");
  Deno.exit(1);
}
