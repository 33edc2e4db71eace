import { assertEquals } from "./assert.ts";
import { durationLadder, LADDER, nextDuration, planCalls, roleHops } from "../lib/plan.ts";
import type { RoleSettings } from "../lib/types.ts";

const ADMIN: RoleSettings = { arn: "arn:aws:iam::123456789012:role/Admin" };
const DEPLOY: RoleSettings = {
  arn: "arn:aws:iam::210987654321:role/Deploy",
  externalId: "ext",
  via: ADMIN,
};
const H = 3600;

Deno.test("the ladder is 12h → 6h → 2h → 1h", () => {
  assertEquals(LADDER, [12 * H, 6 * H, 2 * H, H]);
});

Deno.test("durationLadder: the request first, then every lower ladder step", () => {
  assertEquals(durationLadder(12 * H), [12 * H, 6 * H, 2 * H, H]);
  assertEquals(durationLadder(36 * H), [36 * H, 12 * H, 6 * H, 2 * H, H]);
  assertEquals(durationLadder(8 * H), [8 * H, 6 * H, 2 * H, H]);
  assertEquals(durationLadder(5400), [5400, H]);
  assertEquals(durationLadder(H), [H]);
  assertEquals(durationLadder(900), [900]);
});

Deno.test("durationLadder: a lower learned maximum starts the ladder; a higher one is ignored", () => {
  assertEquals(durationLadder(12 * H, 2 * H), [2 * H, H]);
  assertEquals(durationLadder(12 * H, 5400), [5400, H]);
  assertEquals(durationLadder(2 * H, 6 * H), [2 * H, H]);
  assertEquals(durationLadder(12 * H, 12 * H), [12 * H, 6 * H, 2 * H, H]);
});

Deno.test("planCalls: no role → GetSessionToken over the whole ladder", () => {
  assertEquals(planCalls({ durationSeconds: 12 * H }), {
    kind: "session",
    durations: [12 * H, 6 * H, 2 * H, H],
  });
  assertEquals(planCalls({ durationSeconds: 36 * H }).kind, "session");
  // A learned maximum belongs to roles: a session ignores it.
  assertEquals(planCalls({ durationSeconds: 12 * H, learnedMax: H }), {
    kind: "session",
    durations: [12 * H, 6 * H, 2 * H, H],
  });
});

Deno.test("planCalls: one role for more than 1h → AssumeRole directly with the code", () => {
  assertEquals(planCalls({ durationSeconds: 12 * H, role: ADMIN }), {
    kind: "role-direct",
    role: ADMIN,
    durations: [12 * H, 6 * H, 2 * H, H],
  });
  assertEquals(planCalls({ durationSeconds: H + 1, role: ADMIN }), {
    kind: "role-direct",
    role: ADMIN,
    durations: [H + 1, H],
  });
  // The role accepted 2h before: start there, so a known role costs one call.
  assertEquals(planCalls({ durationSeconds: 12 * H, role: ADMIN, learnedMax: 2 * H }), {
    kind: "role-direct",
    role: ADMIN,
    durations: [2 * H, H],
  });
});

Deno.test("planCalls: one role for ≤ 1h → MFA session, then AssumeRole without a code", () => {
  assertEquals(planCalls({ durationSeconds: H, role: ADMIN }), {
    kind: "role-via-session",
    sessionDurations: [12 * H, 6 * H, 2 * H, H],
    hops: [ADMIN],
    roleDuration: H,
  });
  assertEquals(planCalls({ durationSeconds: 1800, role: ADMIN }), {
    kind: "role-via-session",
    sessionDurations: [12 * H, 6 * H, 2 * H, H],
    hops: [ADMIN],
    roleDuration: 1800,
  });
});

Deno.test("planCalls: a role known to allow only 1h goes through the MFA session", () => {
  const plan = planCalls({ durationSeconds: 12 * H, role: ADMIN, learnedMax: H });
  assertEquals(plan.kind, "role-via-session");
  if (plan.kind === "role-via-session") assertEquals(plan.roleDuration, H);
});

Deno.test("planCalls: a role chain always goes through the MFA session, hops innermost first, ≤ 1h", () => {
  assertEquals(planCalls({ durationSeconds: 12 * H, role: DEPLOY }), {
    kind: "role-via-session",
    sessionDurations: [12 * H, 6 * H, 2 * H, H],
    hops: [ADMIN, DEPLOY],
    roleDuration: H,
  });
  const short = planCalls({ durationSeconds: 900, role: DEPLOY });
  assertEquals(short.kind === "role-via-session" && short.roleDuration, 900);
});

Deno.test("roleHops: innermost first", () => {
  const top: RoleSettings = { arn: "arn:aws:iam::1:role/C", via: DEPLOY };
  assertEquals(roleHops(top).map((r) => r.arn), [ADMIN.arn, DEPLOY.arn, top.arn]);
  assertEquals(roleHops(ADMIN), [ADMIN]);
});

Deno.test("nextDuration: walks down the ladder, skipping steps already tried", () => {
  assertEquals(nextDuration([12 * H], 12 * H, false), 6 * H);
  assertEquals(nextDuration([12 * H, 6 * H], 6 * H, false), 2 * H);
  assertEquals(nextDuration([12 * H, 6 * H, 2 * H], 2 * H, false), H);
  assertEquals(nextDuration([12 * H, 6 * H, 2 * H, H], H, false), undefined);
  assertEquals(nextDuration([36 * H], 36 * H, false), 12 * H);
  assertEquals(nextDuration([8 * H], 8 * H, false), 6 * H);
  assertEquals(nextDuration([5400], 5400, false), H);
  assertEquals(nextDuration([1800], 1800, false), undefined);
  // A step tried before (e.g. by an earlier code) is not tried again.
  assertEquals(nextDuration([6 * H, 12 * H], 12 * H, false), 2 * H);
});

Deno.test("nextDuration: the role-chaining message jumps straight to 1h", () => {
  assertEquals(nextDuration([12 * H], 12 * H, true), H);
  assertEquals(nextDuration([6 * H], 6 * H, true), H);
  assertEquals(nextDuration([5400], 5400, true), H);
  assertEquals(nextDuration([H], H, true), undefined);
  assertEquals(nextDuration([1800], 1800, true), undefined);
});

Deno.test("walking the ladder with nextDuration visits exactly durationLadder", () => {
  for (const requested of [36 * H, 12 * H, 8 * H, 2 * H, 5400, H, 900]) {
    const seen = [requested];
    for (let d = nextDuration(seen, requested, false); d !== undefined;) {
      seen.push(d);
      d = nextDuration(seen, d, false);
    }
    assertEquals(seen, durationLadder(requested), String(requested));
  }
});

Deno.test("planCalls: temporary source keys always assume one role directly (no GetSessionToken)", () => {
  // GetSessionToken refuses session credentials; AssumeRole with the code still works (≤ 1h).
  assertEquals(planCalls({ durationSeconds: H, role: ADMIN, sourceIsSession: true }), {
    kind: "role-direct",
    role: ADMIN,
    durations: [H],
  });
  assertEquals(
    planCalls({ durationSeconds: 12 * H, role: ADMIN, learnedMax: H, sourceIsSession: true }),
    { kind: "role-direct", role: ADMIN, durations: [H] },
  );
  assertEquals(
    planCalls({ durationSeconds: 1800, role: ADMIN, sourceIsSession: false }).kind,
    "role-via-session",
  );
});
