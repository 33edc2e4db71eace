/**
 * The AWS shared config/credentials INI dialect: read it like the SDKs do, and update one section
 * while keeping every other byte of the file.
 *
 * Reading rules (botocore/configparser, plus the Java/Go/Rust SDKs' inline comments and merging):
 * - config: `[profile x]` -> x, `[default]` and `[profile default]` -> default (keys of
 *   `[profile default]` win); `[sso-session x]`, `[services x]` and plain `[x]` are not profiles.
 * - credentials: `[x]` -> x.
 * - `#` / `;` start a full-line comment; after a value they start a comment only when preceded by
 *   whitespace (`key = a#b` keeps `a#b`). botocore (the AWS CLI) keeps such comments in the value.
 * - `key = value` or `key: value`; keys are lowercased, values trimmed.
 * - A line indented deeper than its key continues it: under an empty value it is a sub-property
 *   (`s3 =` / `  max_concurrent_requests = 10` -> "s3.max_concurrent_requests"), otherwise it is
 *   appended to the value on a new line.
 * - Duplicate sections merge; later keys win (botocore refuses such a file).
 * - Anything else, or a `[` without `]`, is an error naming the file and line.
 */
import { MfaError } from "./errors.ts";

export type AwsFileKind = "config" | "credentials";
export type IniProfiles = Map<string, Record<string, string>>;

interface RawLine {
  content: string;
  /** "\n", "\r\n" or "" (last line without a newline). */
  eol: string;
}

type LineKind = "blank" | "comment" | "section" | "key" | "sub" | "continuation" | "invalid";

interface ScannedLine extends RawLine {
  kind: LineKind;
  /** section: the text between the brackets, trimmed. */
  header?: string;
  /** key / sub: lowercased name. */
  key?: string;
  /** key / sub / continuation: the value with any inline comment removed, trimmed. */
  value?: string;
  /** key: where the value starts and ends in `content` (the rest is kept when it is replaced). */
  valueStart?: number;
  valueEnd?: number;
  /** key: text between the key name and the value, e.g. " = ". */
  separator?: string;
  /** invalid: why. */
  problem?: string;
}

const BOM = "\uFEFF";

function splitLines(text: string): RawLine[] {
  const lines: RawLine[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) {
      lines.push({ content: text.slice(start), eol: "" });
      break;
    }
    if (nl > start && text[nl - 1] === "\r") {
      lines.push({ content: text.slice(start, nl - 1), eol: "\r\n" });
    } else {
      lines.push({ content: text.slice(start, nl), eol: "\n" });
    }
    start = nl + 1;
  }
  return lines;
}

function indentOf(content: string): number {
  return content.length - content.trimStart().length;
}

/** Index where an inline comment starts (a # or ; preceded by whitespace), or -1. */
function inlineCommentAt(content: string, from: number): number {
  for (let i = Math.max(from, 1); i < content.length; i++) {
    const c = content[i];
    if ((c === "#" || c === ";") && (content[i - 1] === " " || content[i - 1] === "\t")) return i;
  }
  return -1;
}

interface KeyValue {
  key: string;
  value: string;
  valueStart: number;
  valueEnd: number;
  separator: string;
}

/** `key = value` / `key: value`; delimiters: the first of the allowed ones, like configparser. */
function parseKeyValue(content: string, delimiters: string): KeyValue | string {
  let delim = -1;
  for (let i = 0; i < content.length; i++) {
    if (delimiters.includes(content[i])) {
      delim = i;
      break;
    }
  }
  if (delim < 0) return "expected [section], key = value or a comment";
  const rawKey = content.slice(0, delim);
  const key = rawKey.trim().toLowerCase();
  if (!key) return "missing key name before =";
  const keyEnd = rawKey.trimEnd().length;
  let valueStart = delim + 1;
  while (
    valueStart < content.length && (content[valueStart] === " " || content[valueStart] === "\t")
  ) {
    valueStart++;
  }
  const comment = inlineCommentAt(content, valueStart);
  const valueEnd = (comment < 0 ? content : content.slice(0, comment)).trimEnd().length;
  const end = Math.max(valueEnd, valueStart);
  return {
    key,
    value: content.slice(valueStart, end),
    valueStart,
    valueEnd: end,
    separator: content.slice(keyEnd, valueStart),
  };
}

function parseSectionLine(trimmed: string): { header: string } | string {
  const close = trimmed.indexOf("]");
  if (close < 0) return "section header is missing its closing ]";
  const header = trimmed.slice(1, close).trim();
  if (!header) return "empty section name []";
  const rest = trimmed.slice(close + 1).trim();
  if (rest && rest[0] !== "#" && rest[0] !== ";") return "unexpected text after the section header";
  return { header };
}

/**
 * Classifies every line. Never throws: invalid lines carry a `problem` (the reader turns the first
 * one into an error; the writer keeps them as they are).
 */
function scan(text: string): ScannedLine[] {
  const lines = splitLines(text);
  const out: ScannedLine[] = [];
  let inSection = false;
  // The key that indented lines continue, with its indentation.
  let current: { indent: number; empty: boolean } | undefined;
  lines.forEach((raw, index) => {
    const content = index === 0 && raw.content.startsWith(BOM) ? raw.content.slice(1) : raw.content;
    const trimmed = content.trim();
    const line: ScannedLine = { ...raw, kind: "blank" };
    out.push(line);
    if (!trimmed) return; // blank lines keep the current key going (configparser)
    if (trimmed[0] === "#" || trimmed[0] === ";") {
      line.kind = "comment";
      return;
    }
    const indent = indentOf(content);
    if (current && indent > current.indent) {
      if (current.empty) {
        const kv = parseKeyValue(trimmed, "=");
        if (typeof kv === "string") {
          line.kind = "invalid";
          line.problem = "expected an indented sub-property (name = value)";
        } else {
          line.kind = "sub";
          line.key = kv.key;
          line.value = kv.value;
        }
      } else {
        line.kind = "continuation";
        const comment = inlineCommentAt(trimmed, 0);
        line.value = (comment < 0 ? trimmed : trimmed.slice(0, comment)).trimEnd();
      }
      return;
    }
    if (trimmed[0] === "[") {
      current = undefined;
      const section = parseSectionLine(trimmed);
      if (typeof section === "string") {
        line.kind = "invalid";
        line.problem = section;
        return;
      }
      line.kind = "section";
      line.header = section.header;
      inSection = true;
      return;
    }
    const kv = parseKeyValue(content, "=:");
    if (typeof kv === "string") {
      line.kind = "invalid";
      line.problem = kv;
      return;
    }
    if (!inSection) {
      line.kind = "invalid";
      line.problem = "key outside of any [section]";
      return;
    }
    line.kind = "key";
    line.key = kv.key;
    line.value = kv.value;
    line.valueStart = kv.valueStart + (content === raw.content ? 0 : BOM.length);
    line.valueEnd = kv.valueEnd + (content === raw.content ? 0 : BOM.length);
    line.separator = kv.separator;
    current = { indent, empty: kv.value === "" };
  });
  return out;
}

/** Profile name a section header stands for in a file of this kind, or undefined (not a profile). */
export function profileOfHeader(header: string, kind: AwsFileKind): string | undefined {
  if (kind === "credentials") return header;
  if (header === "default") return "default";
  const match = /^profile\s+(.+)$/.exec(header);
  if (!match) return undefined; // sso-session x, services x, plain [x]
  let name = match[1].trim();
  const quoted = /^"(.*)"$|^'(.*)'$/.exec(name);
  if (quoted) name = quoted[1] ?? quoted[2];
  else if (/\s/.test(name)) return undefined; // botocore: shlex.split must give exactly 2 parts
  return name || undefined;
}

/** The section header that holds `profile` in a file of this kind. */
export function sectionHeaderFor(kind: AwsFileKind, profile: string): string {
  if (kind === "credentials" || profile === "default") return profile;
  return `profile ${profile}`;
}

function setOwn(record: Record<string, string>, key: string, value: string): void {
  // defineProperty: a key named __proto__ is stored like any other.
  Object.defineProperty(record, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Parses a config or credentials file into profile name -> keys. Throws MfaError("config"). */
export function parseAwsIni(text: string, file: string, kind: AwsFileKind): IniProfiles {
  const profiles: IniProfiles = new Map();
  // `[profile default]` wins over `[default]` whatever their order (the SDKs' rule).
  const profileDefault: Record<string, string> = {};
  let target: Record<string, string> | undefined;
  let parentKey: string | undefined;
  let lastKey: string | undefined;
  scan(text).forEach((line, index) => {
    switch (line.kind) {
      case "invalid":
        throw new MfaError("config", `${file} line ${index + 1}: ${line.problem}`, {
          hint: "fix or remove that line (comments start with # or ;)",
        });
      case "section": {
        const header = line.header!;
        const name = profileOfHeader(header, kind);
        lastKey = parentKey = undefined;
        if (name === undefined) {
          target = undefined;
        } else if (kind === "config" && name === "default" && header !== "default") {
          target = profileDefault;
          if (!profiles.has("default")) profiles.set("default", {});
        } else {
          target = profiles.get(name);
          if (!target) profiles.set(name, target = {});
        }
        return;
      }
      case "key":
        lastKey = parentKey = line.key!;
        if (target) {
          // A later `key = ...` replaces the whole key, sub-properties included.
          for (const k of Object.keys(target)) if (k.startsWith(`${lastKey}.`)) delete target[k];
          setOwn(target, lastKey, line.value!);
        }
        return;
      case "sub":
        if (target) setOwn(target, `${parentKey}.${line.key}`, line.value!);
        return;
      case "continuation":
        if (target && lastKey) setOwn(target, lastKey, `${target[lastKey]}\n${line.value}`);
        return;
    }
  });
  if (profiles.has("default") && Object.keys(profileDefault).length) {
    const merged = { ...profiles.get("default")! };
    for (const [k, v] of Object.entries(profileDefault)) setOwn(merged, k, v);
    profiles.set("default", merged);
  }
  return profiles;
}

function normalizeHeader(header: string): string {
  return header.trim().replace(/\s+/g, " ");
}

function checkValue(what: string, text: string): void {
  if (/[\r\n]/.test(text)) {
    throw new MfaError("write", `${what} must be a single line`);
  }
}

/**
 * Updates section `[header]` and returns the new text; every byte outside that section is kept.
 *
 * - Existing keys get the new value in place (spacing and any inline comment kept); their
 *   continuation lines go. New keys go after the section's last key, styled like it. `null` deletes.
 * - When the header occurs more than once, keys are set in the LAST occurrence (the one whose
 *   values win when read) and deleted from every occurrence.
 * - A missing section is appended at the end, after one blank line, with the file's line endings.
 * - Lines are written with a newline, so a file without a final newline gets one when the section
 *   that ends it grows.
 */
export function setIniSection(
  text: string,
  header: string,
  values: Record<string, string | null>,
): string {
  checkValue("a section name", header);
  if (!header.trim() || header.includes("]")) {
    throw new MfaError("write", `invalid section name ${JSON.stringify(header)}`);
  }
  const entries = Object.entries(values).map(([k, v]) => [k.toLowerCase(), v] as const);
  for (const [key, value] of entries) {
    if (!/^[^\s=:\[\]#;]+$/.test(key)) {
      throw new MfaError("write", `invalid key name ${JSON.stringify(key)}`);
    }
    if (value !== null) checkValue(`the value of ${key}`, value);
  }
  const eolStyle = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = scan(text);
  const wanted = normalizeHeader(header);

  // Which section each line belongs to (index of its header line), -1 before the first one.
  const owner: number[] = [];
  let section = -1;
  lines.forEach((line, i) => {
    if (line.kind === "section") section = i;
    owner.push(section);
  });
  const occurrences = lines.flatMap((line, i) =>
    line.kind === "section" && normalizeHeader(line.header!) === wanted ? [i] : []
  );
  const toSet = new Map(entries.filter(([, v]) => v !== null) as [string, string][]);
  const toDelete = new Set(entries.filter(([, v]) => v === null).map(([k]) => k));

  if (occurrences.length === 0) {
    if (toSet.size === 0) return text;
    let out = text;
    if (out && !out.endsWith("\n")) out += eolStyle;
    const last = lines[lines.length - 1];
    if (last && last.content.trim() !== "") out += eolStyle;
    out += `[${header}]${eolStyle}`;
    for (const [key, value] of toSet) out += `${key} = ${value}${eolStyle}`;
    return out;
  }

  const occurrenceSet = new Set(occurrences);
  const lastHeader = occurrences[occurrences.length - 1];
  const kept: RawLine[] = [];
  // The line after which new keys go, as an index into `kept`.
  let insertAfter = -1;
  let reference: ScannedLine | undefined;
  let dropping = false; // inside the continuation lines of a key that was replaced or deleted
  lines.forEach((line, i) => {
    const inTarget = occurrenceSet.has(owner[i]);
    if (!inTarget) {
      dropping = false;
      kept.push(line);
      return;
    }
    if (line.kind === "sub" || line.kind === "continuation") {
      if (dropping) return;
      kept.push(line);
      if (owner[i] === lastHeader) insertAfter = kept.length - 1;
      return;
    }
    if (line.kind !== "blank" && line.kind !== "comment") dropping = false;
    if (line.kind === "key") {
      const key = line.key!;
      if (toDelete.has(key)) {
        dropping = true;
        return;
      }
      if (owner[i] === lastHeader && toSet.has(key)) {
        const value = toSet.get(key)!;
        let prefix = line.content.slice(0, line.valueStart);
        if (line.value === "" && /\s$/.test(line.separator!.replace(/=$|:$/, ""))) prefix += " ";
        kept.push({
          content: prefix + value + line.content.slice(line.valueEnd),
          eol: line.eol,
        });
        if (line.value !== "") reference = line;
        dropping = true;
        insertAfter = kept.length - 1;
        return;
      }
      if (owner[i] === lastHeader && line.value !== "") reference = line;
    }
    kept.push(line);
    if (owner[i] === lastHeader && (line.kind === "key" || i === lastHeader)) {
      insertAfter = kept.length - 1;
    }
  });

  // Keys not present in the last occurrence are added after its last key.
  const present = new Set(
    lines.filter((l, i) => owner[i] === lastHeader && l.kind === "key").map((l) => l.key!),
  );
  const added: RawLine[] = [];
  const indent = reference ? reference.content.slice(0, indentOf(reference.content)) : "";
  const separator = reference?.separator ?? " = ";
  for (const [key, value] of toSet) {
    if (!present.has(key)) {
      added.push({ content: `${indent}${key}${separator}${value}`, eol: eolStyle });
    }
  }
  if (added.length) {
    const anchor = kept[insertAfter];
    if (anchor.eol === "") kept[insertAfter] = { ...anchor, eol: eolStyle };
    kept.splice(insertAfter + 1, 0, ...added);
  }
  return kept.map((l) => l.content + l.eol).join("");
}
