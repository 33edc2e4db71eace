import assert from "node:assert/strict";
import { parseAwsIni, profileOfHeader, sectionHeaderFor, setIniSection } from "../lib/ini.ts";
import { MfaError } from "../lib/errors.ts";

function plain(map: Map<string, Record<string, string>>): Record<string, Record<string, string>> {
  return Object.fromEntries([...map].map(([k, v]) => [k, { ...v }]));
}

/** Text split at section headers: [preamble, "[a]...", "[b]..."]; headers at column 0. */
function chunks(text: string): string[] {
  return text.split(/(?=^\[)/m);
}

/** Asserts that every chunk other than those of `header` is byte-identical. */
function assertOnlySectionChanged(before: string, after: string, header: string) {
  const isTarget = (c: string) => c.startsWith(`[${header}]`);
  assert.deepEqual(
    chunks(after).filter((c) => !isTarget(c)),
    chunks(before).filter((c) => !isTarget(c)),
  );
}

// A corpus of layouts seen in the wild.
const CORPUS: Record<string, string> = {
  empty: "",
  onlyComments: "# my aws creds\n; nothing here yet\n",
  simple: "[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old/secret+key\n",
  noTrailingNewline: "[default]\naws_access_key_id = AKIAOLD\nregion = us-east-1",
  crlf:
    "# work laptop\r\n[default]\r\naws_access_key_id = AKIAOLD\r\n\r\n[other]\r\nregion = eu-west-1\r\n",
  tabsAndTight: "[default]\naws_access_key_id\t=\tAKIAOLD\nregion=us-east-1\n\t\n[other]\nx=1\n",
  utf8Comments:
    "# Zugangsdaten für München — ключи 🔑\n[default]\n; commentaire é\nregion = eu-central-1\n",
  duplicates:
    "[default]\nregion = us-east-1\nx = 1\n\n[other]\na = b\n\n[default]\nregion = eu-west-1\n",
  subProperties:
    "[default]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = 10\n  addressing_style = path\nout = json\n",
  continuation: "[default]\nmfa_process = op item get x\n  --otp\nregion = us-east-1\n",
  bom: "\uFEFF[default]\nregion = us-east-1\n",
  inlineComments: "[default]\nregion = us-east-1 # home\nurl = http://x/#frag\nsemi = a;b ; note\n",
  ssoSession: "[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://x\n\n" +
    "[profile dev]\nsso_session = corp\n[services local]\ns3 =\n  endpoint_url = http://localhost\n",
  commentsBetween:
    "[default]\n# first\naws_access_key_id = AKIAOLD\n\n# belongs to other\n[other]\nk = v\n",
  colonDelimiter: "[default]\nregion: us-west-2\n",
  indentedKeys: "[default]\n  region = us-east-1\n  output = json\n",
};

Deno.test("ini: round trip without changes keeps every byte (whole corpus)", () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    assert.equal(setIniSection(text, "default", {}), text, name);
    assert.equal(setIniSection(text, "missing", { gone: null }), text, name);
  }
});

Deno.test("ini: setting a key to its current value keeps every byte", () => {
  const text = CORPUS.tabsAndTight;
  assert.equal(
    setIniSection(text, "default", { aws_access_key_id: "AKIAOLD", region: "us-east-1" }),
    text,
  );
  assert.equal(setIniSection(CORPUS.crlf, "other", { region: "eu-west-1" }), CORPUS.crlf);
});

Deno.test("ini: parses the corpus like the SDKs", () => {
  assert.deepEqual(plain(parseAwsIni(CORPUS.empty, "f", "config")), {});
  assert.deepEqual(plain(parseAwsIni(CORPUS.onlyComments, "f", "credentials")), {});
  assert.deepEqual(plain(parseAwsIni(CORPUS.crlf, "f", "credentials")), {
    default: { aws_access_key_id: "AKIAOLD" },
    other: { region: "eu-west-1" },
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.tabsAndTight, "f", "credentials")).default, {
    aws_access_key_id: "AKIAOLD",
    region: "us-east-1",
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.utf8Comments, "f", "config")), {
    default: { region: "eu-central-1" },
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.duplicates, "f", "credentials")).default, {
    region: "eu-west-1",
    x: "1",
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.subProperties, "f", "config")).default, {
    region: "us-east-1",
    s3: "",
    "s3.max_concurrent_requests": "10",
    "s3.addressing_style": "path",
    out: "json",
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.continuation, "f", "config")).default, {
    mfa_process: "op item get x\n--otp",
    region: "us-east-1",
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.bom, "f", "config")), {
    default: { region: "us-east-1" },
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.inlineComments, "f", "config")).default, {
    region: "us-east-1",
    url: "http://x/#frag",
    semi: "a;b",
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.ssoSession, "f", "config")), {
    dev: { sso_session: "corp" },
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.colonDelimiter, "f", "config")).default, {
    region: "us-west-2",
  });
  assert.deepEqual(plain(parseAwsIni(CORPUS.indentedKeys, "f", "config")).default, {
    region: "us-east-1",
    output: "json",
  });
});

Deno.test("ini: config profile naming rules", () => {
  const config = "[default]\na = 1\nb = 1\n[profile default]\nb = 2\n[profile work]\nc = 3\n" +
    '[plain]\nd = 4\n[profile "with space"]\ne = 5\n[profile two words]\nf = 6\n[profilex]\ng = 7\n' +
    "[ profile   spaced ]\nh = 8\n[services s]\ni = 9\n";
  assert.deepEqual(plain(parseAwsIni(config, "f", "config")), {
    default: { a: "1", b: "2" },
    work: { c: "3" },
    "with space": { e: "5" },
    spaced: { h: "8" },
  });
  // [profile default] wins even when it comes first.
  const reversed = "[profile default]\nb = 2\n[default]\nb = 1\n";
  assert.deepEqual(plain(parseAwsIni(reversed, "f", "config")), { default: { b: "2" } });
  // In the credentials file every section is a profile by its literal name.
  assert.deepEqual(plain(parseAwsIni("[work]\nx = 1\n[default]\ny = 2\n", "f", "credentials")), {
    work: { x: "1" },
    default: { y: "2" },
  });
  assert.equal(profileOfHeader("plain", "config"), undefined);
  assert.equal(profileOfHeader("plain", "credentials"), "plain");
  assert.equal(sectionHeaderFor("config", "default"), "default");
  assert.equal(sectionHeaderFor("config", "work"), "profile work");
  assert.equal(sectionHeaderFor("credentials", "work"), "work");
});

Deno.test("ini: keys are lowercased, values trimmed, odd key names stored as own keys", () => {
  const got = parseAwsIni(
    "[default]\n  AWS_Access_Key_ID   =   AKIA  \n__proto__ = x\n",
    "f",
    "credentials",
  );
  const record = got.get("default")!;
  assert.equal(record.aws_access_key_id, "AKIA");
  assert.ok(Object.hasOwn(record, "__proto__"));
  assert.equal(Object.getPrototypeOf(record), Object.prototype);
});

function assertConfigError(text: string, line: number, pattern: RegExp) {
  assert.throws(
    () => parseAwsIni(text, "/home/u/.aws/config", "config"),
    (err: unknown) => {
      assert.ok(err instanceof MfaError);
      assert.equal(err.kind, "config");
      assert.match(err.message, new RegExp(`^/home/u/\\.aws/config line ${line}: `));
      assert.match(err.message, pattern);
      assert.ok(err.hint);
      return true;
    },
  );
}

Deno.test("ini: malformed lines are errors naming file and line", () => {
  assertConfigError("[default]\nregion = x\njust some words\n", 3, /expected/);
  assertConfigError("# c\n[default\nregion = x\n", 2, /closing \]/);
  assertConfigError("region = x\n[default]\n", 1, /outside/);
  assertConfigError("[default]\n = novalue\n", 2, /key name/);
  assertConfigError("[default]\ns3 =\n  not a property\n", 3, /sub-property/);
  assertConfigError("[]\n", 1, /empty section/);
  assertConfigError("[default] trailing junk\n", 1, /after the section header/);
  assertConfigError("[default]\r\nok = 1\r\nAKIA/SECRETLINE\r\n", 3, /expected/);
  // Errors in sections that are not profiles count too (the SDKs fail to load such a file).
  assertConfigError("[sso-session s]\nbroken\n", 2, /expected/);
  // The message never repeats the line's content (it may be a pasted secret).
  try {
    parseAwsIni("[default]\nwJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n", "f", "credentials");
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof MfaError);
    assert.doesNotMatch(err.message, /wJalr/);
  }
});

Deno.test("ini: section header comments are allowed", () => {
  assert.deepEqual(
    plain(parseAwsIni("[default] # main\nregion = x\n[profile w] ; w\n", "f", "config")),
    {
      default: { region: "x" },
      w: {},
    },
  );
});

Deno.test("ini: update replaces in place, keeps style, comments and other sections", () => {
  const before =
    "# top\n[other]\nregion = eu-west-1\n\n[default]\naws_access_key_id=AKIAOLD # old\n" +
    "aws_session_token=oldtoken\n  continued\nmfa_serial=arn\n\n# about work\n[work]\nk = v\n";
  const after = setIniSection(before, "default", {
    aws_access_key_id: "ASIANEW",
    aws_session_token: "newtoken",
    expiration: "2026-11-23T20:00:00Z",
    aws_security_token: null,
  });
  assert.equal(
    after,
    "# top\n[other]\nregion = eu-west-1\n\n[default]\naws_access_key_id=ASIANEW # old\n" +
      "aws_session_token=newtoken\nmfa_serial=arn\nexpiration=2026-11-23T20:00:00Z\n\n# about work\n" +
      "[work]\nk = v\n",
  );
  assertOnlySectionChanged(before, after, "default");
  assert.deepEqual(plain(parseAwsIni(after, "f", "credentials")).default, {
    aws_access_key_id: "ASIANEW",
    aws_session_token: "newtoken",
    mfa_serial: "arn",
    expiration: "2026-11-23T20:00:00Z",
  });
});

Deno.test("ini: update deletes keys with their continuation lines", () => {
  const before =
    "[default]\nkeep = 1\ns3 =\n  max = 10\n  style = path\ngone = x\n  more\nlast = 2\n";
  const after = setIniSection(before, "default", { s3: null, gone: null });
  assert.equal(after, "[default]\nkeep = 1\nlast = 2\n");
});

Deno.test("ini: missing section is appended after one blank line, in the file's line endings", () => {
  assert.equal(setIniSection("", "default", { a: "1" }), "[default]\na = 1\n");
  assert.equal(
    setIniSection("[x]\nk = v\n", "default", { a: "1" }),
    "[x]\nk = v\n\n[default]\na = 1\n",
  );
  assert.equal(
    setIniSection("[x]\nk = v\n\n", "default", { a: "1" }),
    "[x]\nk = v\n\n[default]\na = 1\n",
  );
  assert.equal(
    setIniSection("[x]\nk = v", "default", { a: "1" }),
    "[x]\nk = v\n\n[default]\na = 1\n",
  );
  assert.equal(
    setIniSection("[x]\r\nk = v\r\n", "mfa-work", { a: "1", b: "2" }),
    "[x]\r\nk = v\r\n\r\n[mfa-work]\r\na = 1\r\nb = 2\r\n",
  );
  // Deleting from a missing section changes nothing.
  assert.equal(setIniSection("[x]\n", "default", { a: null }), "[x]\n");
});

Deno.test("ini: CRLF files stay CRLF, the section ending the file without newline grows cleanly", () => {
  const crlf = setIniSection(CORPUS.crlf, "default", { aws_session_token: "tok" });
  assert.equal(
    crlf,
    "# work laptop\r\n[default]\r\naws_access_key_id = AKIAOLD\r\naws_session_token = tok\r\n\r\n" +
      "[other]\r\nregion = eu-west-1\r\n",
  );
  assert.ok(!/[^\r]\n/.test(crlf));
  const grown = setIniSection(CORPUS.noTrailingNewline, "default", { expiration: "e" });
  assert.equal(
    grown,
    "[default]\naws_access_key_id = AKIAOLD\nregion = us-east-1\nexpiration = e\n",
  );
  const replaced = setIniSection(CORPUS.noTrailingNewline, "default", { region: "eu-west-1" });
  assert.equal(replaced, "[default]\naws_access_key_id = AKIAOLD\nregion = eu-west-1");
});

Deno.test("ini: new keys copy the section's separator style and go after its last key", () => {
  assert.equal(
    setIniSection("[default]\na=1\n# trailing comment\n\n[b]\n", "default", { c: "3" }),
    "[default]\na=1\nc=3\n# trailing comment\n\n[b]\n",
  );
  assert.equal(
    setIniSection("[default]\n  a = 1\n", "default", { c: "3" }),
    "[default]\n  a = 1\n  c = 3\n",
  );
  assert.equal(
    setIniSection("[default]\n\n[b]\n", "default", { c: "3" }),
    "[default]\nc = 3\n\n[b]\n",
  );
  assert.equal(
    setIniSection("[default]\nempty =\n", "default", { empty: "v" }),
    "[default]\nempty = v\n",
  );
  assert.equal(
    setIniSection("[default]\nempty=\n", "default", { empty: "v" }),
    "[default]\nempty=v\n",
  );
});

Deno.test("ini: duplicate sections: set in the last occurrence, delete everywhere", () => {
  const before =
    "[default]\nregion = us-east-1\naws_security_token = stale1\n\n[other]\na = b\n\n" +
    "[default]\nregion = eu-west-1\naws_security_token = stale2\n";
  const after = setIniSection(before, "default", {
    region: "ap-south-1",
    aws_security_token: null,
  });
  assert.equal(
    after,
    "[default]\nregion = us-east-1\n\n[other]\na = b\n\n[default]\nregion = ap-south-1\n",
  );
  assert.deepEqual(plain(parseAwsIni(after, "f", "credentials")).default, { region: "ap-south-1" });
});

Deno.test("ini: header matching ignores spacing; BOM and UTF-8 kept", () => {
  const before = "\uFEFF# schlüssel\n[ profile   work ]\nregion = x\n";
  const after = setIniSection(before, "profile work", { region: "y" });
  assert.equal(after, "\uFEFF# schlüssel\n[ profile   work ]\nregion = y\n");
  const created = setIniSection(CORPUS.bom, "other", { a: "1" });
  assert.ok(created.startsWith(CORPUS.bom));
});

Deno.test("ini: invalid lines elsewhere are kept as they are when writing", () => {
  const before = "[other]\nthis line is broken\n[default]\na = 1\n";
  assert.equal(
    setIniSection(before, "default", { a: "2" }),
    "[other]\nthis line is broken\n[default]\na = 2\n",
  );
});

Deno.test("ini: refuses values and names that would break the file", () => {
  assert.throws(() => setIniSection("", "default", { a: "x\ny" }), MfaError);
  assert.throws(() => setIniSection("", "default", { a: "x\ry" }), MfaError);
  assert.throws(() => setIniSection("", "a]b", { a: "1" }), MfaError);
  assert.throws(() => setIniSection("", "default", { "a b": "1" }), MfaError);
  assert.throws(() => setIniSection("", "", { a: "1" }), MfaError);
});

/** Deterministic pseudo-random numbers for the property test. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test("ini: property: random files, random updates change only the target section", () => {
  const pieces = [
    "# comment ü\n",
    "; other comment\n",
    "\n",
    "  \n",
    "k1 = v1\n",
    "K2=v2 # c\n",
    "sub =\n  a = 1\n  b = 2\n",
    "cont = x\n  y\n",
  ];
  const names = ["default", "work", "mfa-default", "default-long-term"];
  for (let seed = 1; seed <= 500; seed++) {
    const rand = rng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    let text = rand() < 0.5 ? pick(pieces.slice(0, 3)) : "";
    const sections = 1 + Math.floor(rand() * 4);
    for (let s = 0; s < sections; s++) {
      text += `[${pick(names)}]\n`;
      const n = Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) text += pick(pieces);
    }
    if (rand() < 0.3) text = text.replace(/\n/g, "\r\n");
    if (rand() < 0.3) text = text.replace(/\r?\n$/, "");
    const target = pick(names);
    const values: Record<string, string | null> = {};
    for (const key of ["k1", "k2", "sub", "cont", "new_key", "aws_session_token"]) {
      const r = rand();
      if (r < 0.3) values[key] = `val-${seed}-${key}`;
      else if (r < 0.45) values[key] = null;
    }
    const before = parseAwsIni(text, "f", "credentials");
    const out = setIniSection(text, target, values);
    const after = parseAwsIni(out, "f", "credentials");
    const context = `seed ${seed}: ${JSON.stringify(text)} -> ${JSON.stringify(out)}`;
    // Other profiles parse the same.
    for (const name of names) {
      if (name !== target) assert.deepEqual(after.get(name), before.get(name), context);
    }
    // The target has exactly the old keys, minus deletions (with their sub-keys), plus the new values.
    const expected: Record<string, string> = { ...(before.get(target) ?? {}) };
    for (const [key, value] of Object.entries(values)) {
      for (const k of Object.keys(expected)) {
        if (k === key || k.startsWith(`${key}.`)) delete expected[k];
      }
      if (value !== null) expected[key] = value;
    }
    if (before.has(target) || Object.values(values).some((v) => v !== null)) {
      assert.deepEqual({ ...after.get(target) }, expected, context);
    }
    // Bytes: every other section is identical, except that the file's last chunk may gain the
    // line breaks before an appended section.
    const isTarget = (c: string) => c.startsWith(`[${target}]`);
    const kept = chunks(out).filter((c) => !isTarget(c));
    const orig = chunks(text).filter((c) => !isTarget(c));
    assert.equal(kept.length, orig.length, context);
    assert.deepEqual(kept.slice(0, -1), orig.slice(0, -1), context);
    const [lastKept, lastOrig] = [kept.at(-1) ?? "", orig.at(-1) ?? ""];
    assert.ok(lastKept.startsWith(lastOrig), context);
    assert.match(lastKept.slice(lastOrig.length), /^(\r?\n)*$/, context);
    if (text.includes("\r\n")) assert.ok(!/[^\r]\n/.test(out), context);
    // Idempotent.
    assert.equal(setIniSection(out, target, values), out, context);
  }
});
