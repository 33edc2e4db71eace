/** Small assertion helpers over node:assert (JSR's @std/assert is unreachable here). */
import nodeAssert from "node:assert/strict";

export function assert(value: unknown, message?: string): asserts value {
  nodeAssert.ok(value, message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  nodeAssert.match(actual, pattern, message);
}

export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  if (!actual.includes(expected)) {
    throw new nodeAssert.AssertionError({
      message: message ??
        `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
      actual,
      expected,
      operator: "includes",
    });
  }
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  check?: (err: unknown) => void,
): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    check?.(err);
    return err;
  }
  throw new nodeAssert.AssertionError({ message: "expected the promise to reject" });
}
