// export-leads: a member (their JWT; RLS decides what they see) downloads a business's leads of a
// period as CSV. The file is streamed page by page (keyset on created_at, id), never built in memory.
import { z } from "zod";
import { ForbiddenError, type Handler, requireMethod, withErrors } from "../_shared/http.ts";
import { withCors } from "../_shared/cors.ts";
import { bearer } from "../_shared/owner-request.ts";
import { BOM, csvRow } from "./csv.ts";
import { columns, type ExportLead } from "./columns.ts";

const instant = z.string().datetime({ offset: true, message: "must be an ISO date-time such as 2026-12-01T00:00:00Z" })
  .or(z.string().date("must be a date such as 2026-12-01"));

export const exportQuerySchema = z.object({
  business_id: z.string().uuid(),
  from: instant.optional(),
  to: instant.optional(),
}).strict().refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), { message: "from must be before to" });
export type ExportQuery = z.output<typeof exportQuerySchema>;

export interface Cursor { created_at: string; id: string }

/** What the handler reads, as the calling member. */
export interface ExportSource {
  /** The business's name when the caller is a member of it; null otherwise (unknown businesses alike). */
  businessName(businessId: string): Promise<string | null>;
  /** user id -> name of the business's members. */
  team(businessId: string): Promise<Map<string, string>>;
  /** The next page of leads after `after`, oldest first. */
  page(query: ExportQuery, after: Cursor | null, size: number): Promise<ExportLead[]>;
}

export interface ExportDeps {
  source: (authorization: string) => ExportSource;
  pageSize?: number;
}

function fileName(business: string, query: ExportQuery): string {
  const slug = business.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "business";
  const day = (value: string | undefined) => (value ? value.slice(0, 10) : null);
  return `leads-${slug}${day(query.from) ? `-from-${day(query.from)}` : ""}${day(query.to) ? `-to-${day(query.to)}` : ""}.csv`;
}

export function createExportHandler(deps: ExportDeps): Handler {
  const pageSize = deps.pageSize ?? 500;
  return withCors(withErrors("export-leads", async (req) => {
    requireMethod(req, "GET");
    const authorization = bearer(req);
    const query = exportQuerySchema.parse(Object.fromEntries(new URL(req.url).searchParams));
    const source = deps.source(authorization);
    const business = await source.businessName(query.business_id);
    if (business === null) throw new ForbiddenError("you are not a member of this business");
    const team = await source.team(query.business_id);

    const encoder = new TextEncoder();
    let cursor: Cursor | null = null;
    let started = false;
    let done = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(BOM + csvRow(columns.map(([header]) => header))));
          return;
        }
        if (done) return controller.close();
        try {
          const leads = await source.page(query, cursor, pageSize);
          if (leads.length < pageSize) done = true;
          if (leads.length === 0) return controller.close();
          const last = leads[leads.length - 1];
          cursor = { created_at: last.created_at, id: last.id };
          controller.enqueue(encoder.encode(leads.map((lead) => csvRow(columns.map(([, value]) => value(lead, team)))).join("")));
        } catch (err) {
          // Headers are gone: the only honest signal left is a broken download.
          console.error(`[export-leads] ${(err as Error)?.message ?? err}`);
          controller.error(err);
        }
      },
    });
    return new Response(body, {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="${fileName(business, query)}"`,
        "Cache-Control": "no-store",
      },
    });
  }));
}
