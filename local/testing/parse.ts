// Reads each test tool's own report into counts per file: node:test's records (node-reporter.mjs),
// pg_prove's verbose TAP, and deno test's JUnit XML.
import { relative } from "node:path";
import { countsFor, type FileCounts } from "./counts.ts";

/** One finished node:test test or suite, as node-reporter.mjs writes it. */
export interface NodeTestRecord {
  file: string | undefined;
  name: string;
  outcome: "pass" | "fail";
  suite: boolean;
  skip: boolean;
  todo: boolean;
  cancelled: boolean;
  /** node's failureType: testCodeFailure, hookFailed, subtestsFailed, cancelledByParent ... */
  failureType?: string;
}

/** node:test records, one JSON object per line. Suites are not tests, as in node's own summary. */
export function parseNodeRecords(jsonLines: string, root: string): FileCounts {
  const files: FileCounts = new Map();
  for (const line of jsonLines.split("\n")) {
    if (line.trim() === "") continue;
    const r = JSON.parse(line) as NodeTestRecord;
    const file = r.file ? relative(root, r.file) : "(unknown file)";
    const c = countsFor(files, file);
    if (r.name === r.file && !r.suite) {
      // The file itself: node reports it only when it declared no test (pass) or could not run (fail).
      if (r.outcome === "fail") c.failed++;
      continue;
    }
    if (r.suite) {
      // A suite fails on its own only through a hook or an error in its body; failed tests are counted below.
      if (r.outcome === "fail" && r.failureType !== "subtestsFailed" && r.failureType !== "cancelledByParent") c.failed++;
      continue;
    }
    if (r.skip) c.skipped++;
    else if (r.todo) c.todo++;
    else if (r.cancelled) c.cancelled++;
    else if (r.outcome === "fail") c.failed++;
    else c.passed++;
  }
  return files;
}

/** pg_prove --verbose: a "path.sql ....." line opens each file's TAP stream. */
export function parsePgProve(output: string): FileCounts {
  const files: FileCounts = new Map();
  let current: string | undefined;
  for (const line of output.split("\n")) {
    const header = /^(\S+\.sql) \.+\s*$/.exec(line);
    if (header) {
      current = header[1];
      countsFor(files, current);
      continue;
    }
    if (!current) continue;
    const result = /^\s*(not )?ok \d+\b(.*)$/.exec(line);
    if (!result) continue;
    const c = countsFor(files, current);
    const directive = /#\s*(skip|todo)\b/i.exec(result[2])?.[1]?.toLowerCase();
    if (directive === "skip") c.skipped++;
    else if (directive === "todo") c.todo++;
    else if (result[1]) c.failed++;
    else c.passed++;
  }
  return files;
}

function xmlText(value: string): string {
  return value
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

/**
 * deno test --junit-path: one <testsuite> per file, one <testcase> per test and per step. Steps are
 * named "<test> > <step>"; only tests are counted, as deno's own summary does.
 */
export function parseDenoJunit(xml: string, root: string, cwd: string): FileCounts {
  const files: FileCounts = new Map();
  const suites = xml.matchAll(/<testsuite\s+name="([^"]*)"[^>]*>([\s\S]*?)<\/testsuite>/g);
  for (const [, suiteName, body] of suites) {
    const file = relative(root, `${cwd}/${xmlText(suiteName)}`);
    const c = countsFor(files, file);
    const cases = [...body.matchAll(/<testcase\s+name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)].map(([, name, inner]) => ({
      name: xmlText(name),
      failed: /<failure\b|<error\b/.test(inner),
      skipped: /<skipped\b/.test(inner),
    }));
    const names = cases.map((t) => t.name);
    for (const t of cases) {
      if (names.some((other) => other !== t.name && t.name.startsWith(`${other} > `))) continue; // a step
      if (t.skipped) c.skipped++;
      else if (t.failed) c.failed++;
      else c.passed++;
    }
  }
  return files;
}
