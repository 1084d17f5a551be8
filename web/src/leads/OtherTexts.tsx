// Texts to the business number from phones that are not a lead of the business (issue 10: nothing a
// lead texts is lost). They are stored like any text, tied to no lead; this page lists the newest.
import { queryOptions, useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import type { Db } from "../lib/db.ts";
import { toError } from "../lib/db.ts";
import { formatDateTime } from "../lib/format.ts";
import { useDb } from "../lib/supabase.tsx";
import { usePhoneFormat } from "../lib/usePhoneFormat.ts";
import { useDocumentTitle } from "../lib/useDocumentTitle.ts";
import { useMembership } from "../shell/membership.tsx";
import { ErrorBox, Loading } from "../ui/States.tsx";
import { leadKeys } from "./queries.ts";

export interface OtherText { id: string; from_phone: string; body: string; created_at: string }

export const otherTextQueries = {
  // Under leadKeys.details(): the realtime hook refreshes that prefix when a text tied to no lead arrives.
  list: (db: Db, businessId: string) =>
    queryOptions({
      queryKey: [...leadKeys.details(), "other-texts", businessId] as const,
      queryFn: async (): Promise<OtherText[]> => {
        const { data, error } = await db.from("messages").select("id, from_phone, body, created_at")
          .eq("business_id", businessId).eq("direction", "inbound").is("lead_id", null)
          .order("created_at", { ascending: false }).limit(100);
        if (error) throw toError(error, "loading other texts");
        return data;
      },
    }),
};

export function OtherTexts() {
  const { business } = useMembership();
  const db = useDb();
  const texts = useQuery(otherTextQueries.list(db, business.id));
  const formatPhone = usePhoneFormat(texts.data?.map((t) => t.from_phone) ?? []);
  useDocumentTitle("Other texts");
  return (
    <section aria-labelledby="other-title">
      <Link to="/" className="back">← All leads</Link>
      <div className="page-head"><h1 id="other-title">Other texts</h1></div>
      <p className="muted">Texts to your business number from phones that are not one of your leads (newest 100).</p>
      {texts.isPending && <Loading what="texts" />}
      {texts.error && <ErrorBox error={texts.error} onRetry={() => void texts.refetch()} />}
      {texts.data && texts.data.length === 0 && <div className="card empty"><h2>No other texts</h2></div>}
      {texts.data && texts.data.length > 0 && (
        <ol className="thread card" data-testid="other-texts">
          {texts.data.map((t) => (
            <li key={t.id} className="bubble bubble-in">
              <div className="bubble-head">
                <a href={`sms:${t.from_phone}`}>{formatPhone(t.from_phone)}</a>
                <time dateTime={t.created_at}>{formatDateTime(t.created_at)}</time>
              </div>
              <p className="pre">{t.body}</p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
