/**
 * `mfa status`: the cached sessions as a table (profile, role, kind, expiry). Reads only the mfa home:
 * no AWS files, no STS, and never a secret.
 */
import { type CacheEntry, listCacheEntries, remainingMs } from "../cache.ts";
import { formatRemaining } from "../format.ts";
import { resolvePaths } from "../settings.ts";
import type { CommandRun } from "./types.ts";

/** Left-aligned columns separated by two spaces; no trailing spaces. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  return rows
    .map((row) => row.map((cell, col) => cell.padEnd(widths[col])).join("  ").trimEnd())
    .join("\n") + "\n";
}

export function statusTable(entries: CacheEntry[], now: Date): string {
  const sorted = [...entries].sort((a, b) =>
    a.profile.localeCompare(b.profile) || a.kind.localeCompare(b.kind) ||
    (a.roleArn ?? "").localeCompare(b.roleArn ?? "")
  );
  const rows = sorted.map((e) => [
    e.profile,
    e.roleArn ?? "-",
    e.kind,
    formatRemaining(remainingMs(e, now)),
    new Date(e.expiration).toISOString().replace(/\.\d{3}Z$/, "Z"),
  ]);
  return formatTable([["PROFILE", "ROLE", "KIND", "EXPIRES IN", "EXPIRES AT"], ...rows]);
}

export const run: CommandRun = async (ctx) => {
  const { mfaHome } = resolvePaths(ctx.args.options, ctx.env, ctx.deps.home, "status");
  let entries = (await listCacheEntries(mfaHome)).map((x) => x.entry);
  // Only an explicit --profile narrows the list: AWS_PROFILE is often set and would hide sessions.
  const profile = ctx.args.options.profile;
  if (typeof profile === "string") {
    entries = entries.filter((e) => e.profile === profile || e.sourceProfile === profile);
  }
  ctx.deps.log.debug(`reading cached sessions in ${mfaHome}/cache`);
  if (entries.length === 0) {
    ctx.deps.log.info(
      typeof profile === "string" ? `no cached sessions for ${profile}` : "no cached sessions",
    );
    return {};
  }
  return { stdout: statusTable(entries, ctx.deps.now()) };
};
