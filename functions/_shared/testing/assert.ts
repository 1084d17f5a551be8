// Deno's @std/assert lives on JSR, which this build cannot reach; node:assert does the work.
import nodeAssert from "node:assert";

export function assert(value: unknown, message?: string): asserts value {
  nodeAssert.ok(value, message);
}
export function assertEquals<T>(actual: unknown, expected: T, message?: string): asserts actual is T {
  nodeAssert.deepStrictEqual(actual, expected, message);
}
export function assertMatch(actual: string, re: RegExp, message?: string): void {
  nodeAssert.match(actual, re, message);
}
export async function assertRejects(fn: () => Promise<unknown>, check?: RegExp | ((err: unknown) => boolean)): Promise<void> {
  await nodeAssert.rejects(fn, check as RegExp);
}
