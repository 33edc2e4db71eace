/**
 * The duration planner: which STS calls to make and which durations to try. Pure.
 * SPEC 3.4 (which calls) and 3.5 (the negotiation ladder).
 */
import { CHAINED_ROLE_MAX, DEFAULT_DURATION } from "./duration.ts";
import type { RoleSettings } from "./types.ts";

/** Steps tried after a DurationSeconds rejection. */
export const LADDER = [43_200, 21_600, 7_200, 3_600];

export type Plan =
  /** GetSessionToken with the MFA code. */
  | { kind: "session"; durations: number[] }
  /** AssumeRole straight from the long-term keys with the MFA code (the only way past 1h). */
  | { kind: "role-direct"; role: RoleSettings; durations: number[] }
  /**
   * An MFA session (cached or new), then AssumeRole hop by hop without a code. AWS caps AssumeRole made
   * with session credentials at 1h, so this is for roles of ≤ 1h and role chains.
   */
  | {
    kind: "role-via-session";
    sessionDurations: number[];
    hops: RoleSettings[];
    roleDuration: number;
  };

/** Durations to try, highest first: the request (or a lower learned maximum), then lower ladder steps. */
export function durationLadder(requested: number, learnedMax?: number): number[] {
  const start = learnedMax !== undefined && learnedMax < requested ? learnedMax : requested;
  return [start, ...LADDER.filter((step) => step < start)];
}

/** The next duration after a rejection: the next ladder step, or straight to 1h for role chaining. */
export function nextDuration(
  tried: number[],
  current: number,
  chaining: boolean,
): number | undefined {
  if (chaining) return current > CHAINED_ROLE_MAX ? CHAINED_ROLE_MAX : undefined;
  return LADDER.find((step) => step < current && !tried.includes(step));
}

/** Outer role first → hops in call order (innermost first). */
export function roleHops(role: RoleSettings): RoleSettings[] {
  const hops: RoleSettings[] = [];
  for (let r: RoleSettings | undefined = role; r; r = r.via) hops.unshift(r);
  return hops;
}

export function planCalls(input: {
  durationSeconds: number;
  role?: RoleSettings;
  /** Learned maximum for the (outer) role, from state.json. */
  learnedMax?: number;
  /** The source keys carry a session token: GetSessionToken refuses them, AssumeRole does not. */
  sourceIsSession?: boolean;
}): Plan {
  const { durationSeconds, role, learnedMax, sourceIsSession } = input;
  if (!role) return { kind: "session", durations: durationLadder(durationSeconds) };
  if (
    !role.via && (sourceIsSession ||
      (durationSeconds > CHAINED_ROLE_MAX && (learnedMax ?? Infinity) > CHAINED_ROLE_MAX))
  ) {
    return { kind: "role-direct", role, durations: durationLadder(durationSeconds, learnedMax) };
  }
  // The MFA session outlives the role sessions it serves, so one code covers many roles for a day.
  const sessionDuration = Math.max(durationSeconds, DEFAULT_DURATION);
  return {
    kind: "role-via-session",
    sessionDurations: durationLadder(sessionDuration),
    hops: roleHops(role),
    roleDuration: Math.min(durationSeconds, CHAINED_ROLE_MAX),
  };
}
