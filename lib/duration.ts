/** Session durations: parsing user input and the STS limits it must fit. */
import { usageError } from "./errors.ts";

export const MIN_DURATION = 900;
export const MAX_SESSION_DURATION = 129_600; // GetSessionToken: 36h
export const MAX_ROLE_DURATION = 43_200; // AssumeRole: 12h
export const DEFAULT_DURATION = 43_200; // 12h
export const CHAINED_ROLE_MAX = 3_600; // AssumeRole with session credentials

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `3600`, `90m`, `12h`, `1h30m`, `2h15m30s` → seconds. Throws a usage error for anything else. */
export function parseDuration(text: string, source = "duration"): number {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const parts = [...trimmed.matchAll(/(\d+)([dhms])/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (parts.length === 0 || consumed !== trimmed) {
    throw usageError(
      `invalid ${source} ${JSON.stringify(text)}`,
      "use seconds or units, e.g. 3600, 90m, 12h, 1h30m",
    );
  }
  const units = parts.map((p) => p[2]);
  if (new Set(units).size !== units.length) {
    throw usageError(`invalid ${source} ${JSON.stringify(text)}: a unit repeats`, "e.g. 1h30m");
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]], 0);
}

export function checkDurationRange(seconds: number, withRole: boolean, source = "duration"): void {
  const max = withRole ? MAX_ROLE_DURATION : MAX_SESSION_DURATION;
  if (seconds < MIN_DURATION || seconds > max) {
    throw usageError(
      `${source} ${seconds}s is out of range: ${
        withRole ? "a role session" : "a session"
      } lasts ${MIN_DURATION}..${max} seconds`,
      withRole ? "use 15m to 12h for a role" : "use 15m to 36h",
    );
  }
}

/** 7200 → "2h", 5400 → "1h30m", 61 → "1m1s". */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
}
