// Download the business's leads as CSV (the export-leads function streams it; the member's session
// authorizes it). A period keeps a spreadsheet of years of leads optional.
import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import { functionError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";

const PERIODS = { "30": "Last 30 days", "90": "Last 90 days", all: "All time" } as const;
type Period = keyof typeof PERIODS;

export function exportPath(businessId: string, period: Period, now = new Date()): string {
  const params = new URLSearchParams({ business_id: businessId });
  if (period !== "all") params.set("from", new Date(now.getTime() - Number(period) * 86_400_000).toISOString());
  return `export-leads?${params}`;
}

export function LeadExportButton({ businessId }: { businessId: string }) {
  const db = useDb();
  const [period, setPeriod] = useState<Period>("30");
  const id = useId();
  const download = useMutation({
    mutationFn: async () => {
      const { data, error } = await db.functions.invoke<string>(exportPath(businessId, period), { method: "GET" });
      // The function's own message (no access, a bad period), not supabase-js's "non-2xx status code".
      if (error) throw await functionError(error, "exporting leads");
      // The text lost the file's byte order mark on decoding; spreadsheets need it for accents.
      const url = URL.createObjectURL(new Blob(["\uFEFF", data ?? ""], { type: "text/csv;charset=utf-8" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = `leads-${new Date().toISOString().slice(0, 10)}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  });
  return (
    <span className="export">
      <label htmlFor={id} className="visually-hidden">Export period</label>
      <select id={id} value={period} onChange={(e) => setPeriod(e.target.value as Period)}>
        {Object.entries(PERIODS).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
      </select>
      <button type="button" className="btn" disabled={download.isPending} onClick={() => download.mutate()}>
        {download.isPending ? "Exporting…" : "Download CSV"}
      </button>
      {download.error && <span className="field-error" role="alert">{download.error.message}</span>}
    </span>
  );
}
