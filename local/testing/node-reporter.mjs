// A node:test reporter that writes one JSON line per finished test with the file it came from, so the
// runner can tell how many tests each file ran (node's own summary only has totals, and it counts a file
// with no tests at all as one passing "test" named after the file). Plain JavaScript: node loads
// reporters before any --import hook, so it cannot be TypeScript. Record shape: NodeTestRecord in parse.ts.
export default async function* reporter(source) {
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const data = event.data;
    const failureType = data.details?.error?.failureType;
    yield JSON.stringify({
      file: data.file,
      name: data.name,
      outcome: event.type === "test:pass" ? "pass" : "fail",
      suite: data.details?.type === "suite",
      skip: data.skip !== undefined && data.skip !== false,
      todo: data.todo !== undefined && data.todo !== false,
      cancelled: failureType === "cancelledByParent",
      failureType,
    }) + "\n";
  }
}
