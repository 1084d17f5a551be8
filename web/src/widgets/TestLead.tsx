// "Send a test lead": the database submits a lead on this form through the widget's own intake
// (send_test_lead), to the owner phone; this follows its owner alert until it reaches the phone.
import { useMutation, useQuery } from "@tanstack/react-query";
import { toError } from "../lib/db.ts";
import { useDb } from "../lib/supabase.tsx";
import { ErrorBox } from "../ui/States.tsx";

const ALERT_WORDS: Record<string, string> = {
  queued: "Owner alert queued: sending to your phone…",
  sent: "Owner alert sent: on its way to your phone…",
  delivered: "Owner alert delivered to your phone.",
  failed: "The owner alert could not be delivered: see the lead for why.",
  awaiting_verification: "The owner alert is saved and waits until you confirm your phone.",
  skipped_daily_cap: "The owner alert was not sent: today's texting cap is reached.",
  skipped_duplicate: "No new alert: the same lead came in a moment ago.",
  skipped_suspicious: "The owner alert was held: the submission looked suspicious.",
};
const SETTLED = new Set(["delivered", "failed", "awaiting_verification", "skipped_daily_cap", "skipped_duplicate", "skipped_suspicious"]);

export function TestLead({ widgetId }: { widgetId: string }) {
  const db = useDb();
  const send = useMutation({
    mutationFn: async (): Promise<string> => {
      const { data, error } = await db.rpc("send_test_lead", { p_widget_id: widgetId });
      if (error) throw toError(error, "sending the test lead");
      return data;
    },
  });
  const leadId = send.data;
  const lead = useQuery({
    queryKey: ["widgets", "test-lead", leadId],
    enabled: Boolean(leadId),
    queryFn: async () => {
      const { data, error } = await db.from("leads").select("id, owner_alert_status").eq("id", leadId!).single();
      if (error) throw toError(error, "following the test lead");
      return data;
    },
    refetchInterval: (query) => (query.state.data && SETTLED.has(query.state.data.owner_alert_status) ? false : 1500),
  });
  return (
    <div className="test-lead">
      <button type="button" className="btn" disabled={send.isPending} onClick={() => send.mutate()}>
        {send.isPending ? "Sending…" : "Send a test lead"}
      </button>
      <p className="small muted">Goes through this form's own checks to your phone: you get the alert and the text a lead gets. It counts as one conversation.</p>
      <p role="status" className="small">{lead.data ? ALERT_WORDS[lead.data.owner_alert_status] ?? lead.data.owner_alert_status : send.isSuccess ? "Test lead saved." : ""}</p>
      {send.error && <ErrorBox error={send.error} />}
      {lead.error && <ErrorBox error={lead.error} />}
    </div>
  );
}
