/**
 * SPEC 7: a cache hit loads no AWS SDK and reads at most the two AWS files and one cache file.
 * Proved by running it with read access to exactly those three files, no network, no writes, no
 * subprocesses, and an empty Deno cache with --cached-only (so importing any npm package would fail).
 */
import { assertEquals, assertMatch, assertNotEquals } from "./assert.ts";
import { makeSandbox, ROOT, type Sandbox } from "./helpers.ts";
import { runProgram } from "./programs.ts";

async function restrictedRun(
  box: Sandbox,
  readable: string[],
  denoDir: string,
  extra: string[] = [],
) {
  return await runProgram(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--cached-only",
      `--config=${ROOT}/deno.json`,
      `--allow-read=${[box.credentialsFile, box.configFile, ...readable].join(",")}`,
      "--allow-env",
      "--deny-net",
      "--deny-run",
      ...extra,
      "--deny-sys",
      "--deny-ffi",
      `${ROOT}/main.ts`,
      "exports",
      "--format",
      "sh",
    ],
    env: { ...box.env, DENO_DIR: denoDir },
  });
}

Deno.test("a cache hit needs only the two AWS files and its cache entry, and no npm package", async () => {
  await using box = await makeSandbox({ config: "[default]\nregion = eu-west-1\n" });
  const warm = await box.run(["exports", "--format", "sh", "--code", await box.code()]);
  assertEquals(warm.code, 0, warm.stderr);
  const entry = [...Deno.readDirSync(`${box.mfaHome}/cache`)]
    .map((e) => e.name)
    .find((name) => name.endsWith(".json"))!;
  const emptyDenoDir = await Deno.makeTempDir({ prefix: "mfa-empty-deno-dir-" });
  try {
    const hit = await restrictedRun(box, [`${box.mfaHome}/cache/${entry}`], emptyDenoDir, [
      "--deny-write",
    ]);
    assertEquals(hit.code, 0, hit.stderr);
    assertEquals(hit.stdout, warm.stdout);
    assertEquals(hit.stderr, "");

    // Control: a miss, even allowed its cache directory, fails here: it must load the SDK.
    const cleared = await box.run(["clear", "--all"]);
    assertEquals(cleared.code, 0, cleared.stderr);
    const miss = await restrictedRun(box, [box.mfaHome], emptyDenoDir, [
      `--allow-write=${box.mfaHome}`,
    ]);
    assertNotEquals(miss.code, 0);
    assertMatch(miss.stderr, /@aws-sdk\/client-sts/);
    assertEquals(box.fake.callsOf("GetSessionToken").length, 1);
  } finally {
    await Deno.remove(emptyDenoDir, { recursive: true });
  }
});
