// What every test phase reports, per test file: how many tests passed, failed, were skipped, todo or
// cancelled. The runner sums these; a file (or a phase) in which no test ran fails the run.
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  cancelled: number;
}

export function noCounts(): Counts {
  return { passed: 0, failed: 0, skipped: 0, todo: 0, cancelled: 0 };
}

export function addCounts(into: Counts, more: Counts): Counts {
  into.passed += more.passed;
  into.failed += more.failed;
  into.skipped += more.skipped;
  into.todo += more.todo;
  into.cancelled += more.cancelled;
  return into;
}

/** Tests that ran: everything but skipped ones (todo tests run; their outcome is not held against the suite). */
export function ranCount(c: Counts): number {
  return c.passed + c.failed + c.todo + c.cancelled;
}

export function describeCounts(c: Counts): string {
  return `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.todo} todo, ${c.cancelled} cancelled`;
}

/** Counts per test file (paths relative to the project root). */
export type FileCounts = Map<string, Counts>;

export function countsFor(files: FileCounts, file: string): Counts {
  let c = files.get(file);
  if (!c) files.set(file, (c = noCounts()));
  return c;
}
