// The postgres_changes filter grammar and its evaluation (docs/supabase-standin-spec.md §3.6), as pure functions: parsing,
// comparisons in the column's type, NULL semantics, the newer operators and `not.`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FilterParseError, filterMatches, filterValueProblem, parseFilter } from "./filters.ts";

function matches(filter: string, value: string | null | undefined, typname: string, column?: string): boolean {
  const parsed = parseFilter(filter);
  const values: Record<string, string | null | undefined> = { [column ?? parsed[0].column]: value };
  return parsed.every((f) => filterMatches(f, f.column in values ? values[f.column] : undefined, typname));
}

describe("realtime filters", () => {
  it("parses single and comma-combined filters, with quotes and parentheses protecting commas", () => {
    assert.deepEqual(parseFilter(""), []);
    assert.deepEqual(parseFilter(undefined), []);
    const parsed = parseFilter('status=in.(a,"b,c"),name=eq."x,y",id=not.eq.3');
    assert.equal(parsed.length, 3);
    assert.deepEqual(parsed[0].values, ["a", "b,c"]);
    assert.equal(parsed[1].value, "x,y");
    assert.equal(parsed[2].negate, true);
    assert.equal(parsed[2].op, "eq");
  });

  it("rejects unknown operators, `undefined`, malformed clauses and oversized in-lists", () => {
    assert.throws(() => parseFilter("id=foo.1"), FilterParseError);
    assert.throws(() => parseFilter("id=foo.1"), /Error parsing `filter` params: \["id","foo.1"\]/);
    assert.throws(() => parseFilter("undefined"), FilterParseError);
    assert.throws(() => parseFilter("justtext"), FilterParseError);
    assert.throws(() => parseFilter("id=in.1,2"), FilterParseError);
    assert.throws(() => parseFilter("flag=is.maybe"), FilterParseError);
    assert.throws(() => parseFilter(`id=in.(${Array.from({ length: 101 }, (_, i) => i).join(",")})`), FilterParseError);
  });

  it("compares numbers, timestamps and uuids as their types, not as text", () => {
    assert.equal(matches("amount=gt.9", "10", "numeric"), true, "10 > 9 numerically");
    assert.equal(matches("amount=lt.9", "10", "int4"), false);
    assert.equal(matches("amount=eq.1.50", "1.5", "numeric"), true);
    assert.equal(matches("id=in.(1,2,3)", "2", "int8"), true);
    assert.equal(matches("id=in.(1,2,3)", "4", "int8"), false);
    assert.equal(matches("at=gt.2025-01-01T00:00:00Z", "2025-01-01 00:00:01+00", "timestamptz"), true);
    assert.equal(matches("at=lte.2025-01-01", "2024-12-31 23:59:59+00", "timestamptz"), true);
    assert.equal(matches("id=eq.AAAAAAAA-0000-0000-0000-000000000000", "aaaaaaaa-0000-0000-0000-000000000000", "uuid"), true);
    assert.equal(matches("flag=eq.true", "t", "bool"), true);
    assert.equal(matches("name=lt.b", "a", "text"), true);
    assert.equal(matches("name=neq.a", "b", "text"), true);
  });

  it("NULL fails every operator except is.null and isdistinct; a missing column fails closed", () => {
    for (const f of ["v=eq.1", "v=neq.1", "v=lt.1", "v=gt.1", "v=in.(1)", "v=not.eq.1", "v=like.%"]) {
      assert.equal(matches(f, null, "int4"), false, f);
    }
    assert.equal(matches("v=is.null", null, "int4"), true);
    assert.equal(matches("v=not.is.null", null, "int4"), false);
    assert.equal(matches("v=isdistinct.1", null, "int4"), true);
    assert.equal(matches("v=isdistinct.1", "1", "int4"), false);
    assert.equal(matches("v=eq.1", undefined, "int4"), false);
  });

  it("supports like, ilike, match, imatch, is and not.", () => {
    assert.equal(matches("name=like.Ab%", "Abc", "text"), true);
    assert.equal(matches("name=like.ab%", "Abc", "text"), false);
    assert.equal(matches("name=ilike.ab%", "Abc", "text"), true);
    assert.equal(matches("name=like.a_c", "abc", "text"), true);
    assert.equal(matches("name=like.a.c", "abc", "text"), false, "dots are literal in LIKE");
    assert.equal(matches("name=match.^a[0-9]+$", "a123", "text"), true);
    assert.equal(matches("name=imatch.^A", "abc", "text"), true);
    assert.equal(matches("flag=is.true", "t", "bool"), true);
    assert.equal(matches("flag=is.false", "t", "bool"), false);
    assert.equal(matches("name=not.in.(a,b)", "c", "text"), true);
    assert.equal(matches("name=not.like.a%", "abc", "text"), false);
  });

  it("flags filter values that cannot be read as the column's type", () => {
    assert.match(filterValueProblem(parseFilter("id=eq.abc")[0], "int8") ?? "", /invalid input/);
    assert.equal(filterValueProblem(parseFilter("id=eq.12")[0], "int8"), undefined);
    assert.match(filterValueProblem(parseFilter("name=is.true")[0], "text") ?? "", /boolean/);
    assert.equal(filterValueProblem(parseFilter("name=is.null")[0], "text"), undefined);
  });
});
