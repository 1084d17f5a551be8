import { assert, assertEquals } from "../_shared/testing/assert.ts";
import { BOM, csvCell, csvRow } from "./csv.ts";
import type { ExportLead } from "./columns.ts";
import { createExportHandler, type Cursor, type ExportQuery, type ExportSource } from "./handler.ts";

Deno.test("RFC 4180: commas, quotes and line breaks are quoted, quotes doubled, records end in CRLF", () => {
  assertEquals(csvRow(["plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", null, undefined, 3, true]),
    'plain,"a,b","say ""hi""","two\nlines","cr\rhere",,,3,true\r\n');
  assertEquals(csvCell(["dog", "gate code 12"]), "dog; gate code 12");
  assertEquals(csvCell("Año, niño — ok"), '"Año, niño — ok"');
});

Deno.test("CSV injection: a cell a spreadsheet would run as a formula is made text", () => {
  for (const evil of ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]) {
    assert(csvCell(evil).replace(/^"/, "").startsWith("'"), `${JSON.stringify(evil)} -> ${csvCell(evil)}`);
  }
  assertEquals(csvCell("+15125550123"), "'+15125550123");
  assertEquals(csvCell("a=b"), "a=b");
});

const lead = (n: number, extra: Partial<ExportLead> = {}): ExportLead => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
  created_at: `2026-12-01T10:00:${String(n).padStart(2, "0")}Z`,
  name: `Lead ${n}`, phone: "+15125550100", email: null, message: "Leak", source_url: null, status: "new", notes: null,
  assigned_to: null, followup_status: "started", sms_consent: true, consent_text: "I agree", consent_at: "2026-12-01T10:00:00Z",
  ip: "203.0.113.7", user_agent: "UA", conversation: null, ...extra,
});

function fakeSource(leads: ExportLead[], member = true) {
  const calls: { query: ExportQuery; after: Cursor | null; size: number }[] = [];
  const source: ExportSource = {
    businessName: () => Promise.resolve(member ? "Acme Plumbing & Sons" : null),
    team: () => Promise.resolve(new Map([["u-1", "Sam Staff"]])),
    page(query, after, size) {
      calls.push({ query, after, size });
      const start = after ? leads.findIndex((l) => l.id === after.id) + 1 : 0;
      return Promise.resolve(leads.slice(start, start + size));
    },
  };
  return { source, calls };
}

const BUSINESS = "11111111-1111-4111-8111-111111111111";
const get = (query: string, auth = "Bearer member-jwt") =>
  new Request(`http://functions.test/export-leads?${query}`, { headers: auth ? { Authorization: auth } : {} });

Deno.test("streams every page (keyset), with the BOM, the header and one row per lead", async () => {
  const leads = Array.from({ length: 7 }, (_, i) => lead(i + 1));
  leads[2] = lead(3, { assigned_to: "u-1", status: "won", notes: "=cmd|' /C calc'!A0",
    conversation: { status: "completed", completion_reason: "slots_filled", slots: { need: "sink", timing: "today", location: "78745", constraints: ["dog"] }, summary: { text: "Lead summary" } } });
  const { source, calls } = fakeSource(leads);
  const res = await createExportHandler({ source: () => source, pageSize: 3 })(get(`business_id=${BUSINESS}&from=2026-12-01&to=2026-12-02T00:00:00Z`));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/csv; charset=utf-8");
  assertEquals(res.headers.get("content-disposition"), 'attachment; filename="leads-acme-plumbing-sons-from-2026-12-01-to-2026-12-02.csv"');
  const bytes = new Uint8Array(await res.arrayBuffer());
  assertEquals([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 BOM first");
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  assert(text.startsWith(BOM + "lead_id,received_at,name,phone,"), text.slice(0, 80));
  const lines = text.slice(1).split("\r\n").filter(Boolean);
  assertEquals(lines.length, 8, "header + 7 leads");
  assert(lines[3].includes(",won,Sam Staff,'=cmd|' /C calc'!A0,completed,slots_filled,sink,today,78745,dog,Lead summary,yes,"), lines[3]);
  assertEquals(calls.map((c) => c.after?.id ?? null), [null, leads[2].id, leads[5].id], "three pages, each after the last row of the one before");
});

Deno.test("refusals: no token 401, not a member 403, bad parameters 400, only GET", async () => {
  const { source } = fakeSource([lead(1)], false);
  const handler = createExportHandler({ source: () => source });
  assertEquals((await handler(get(`business_id=${BUSINESS}`, ""))).status, 401);
  assertEquals((await handler(get(`business_id=${BUSINESS}`))).status, 403);
  const member = createExportHandler({ source: () => fakeSource([]).source });
  assertEquals((await member(get("business_id=nope"))).status, 400);
  assertEquals((await member(get(`business_id=${BUSINESS}&from=yesterday`))).status, 400);
  assertEquals((await member(get(`business_id=${BUSINESS}&from=2026-12-02&to=2026-12-01`))).status, 400);
  assertEquals((await member(get(`business_id=${BUSINESS}&extra=1`))).status, 400);
  assertEquals((await member(new Request(`http://functions.test/export-leads?business_id=${BUSINESS}`, { method: "POST", headers: { Authorization: "Bearer x" } }))).status, 405);
  const empty = await member(get(`business_id=${BUSINESS}`));
  assertEquals((await empty.text()).split("\r\n").filter(Boolean).length, 1, "no leads: just the header");
});
