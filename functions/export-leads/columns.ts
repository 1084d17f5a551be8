// What one exported row holds: the lead, its pipeline state, the summary slots and the consent
// evidence. One list of columns: the header and every row are built from it.
export interface ExportLead {
  id: string;
  created_at: string;
  name: string;
  phone: string;
  email: string | null;
  message: string | null;
  source_url: string | null;
  status: string;
  notes: string | null;
  assigned_to: string | null;
  followup_status: string;
  sms_consent: boolean;
  consent_text: string | null;
  consent_at: string | null;
  ip: string | null;
  user_agent: string | null;
  conversation: {
    status: string;
    completion_reason: string | null;
    slots: { need?: string | null; timing?: string | null; location?: string | null; constraints?: string[] } | null;
    summary: { text?: string | null } | null;
  } | null;
}

type Column = [header: string, value: (lead: ExportLead, team: Map<string, string>) => unknown];

export const columns: Column[] = [
  ["lead_id", (l) => l.id],
  ["received_at", (l) => l.created_at],
  ["name", (l) => l.name],
  ["phone", (l) => l.phone],
  ["email", (l) => l.email],
  ["message", (l) => l.message],
  ["page", (l) => l.source_url],
  ["status", (l) => l.status],
  ["assigned_to", (l, team) => (l.assigned_to ? team.get(l.assigned_to) ?? l.assigned_to : "")],
  ["notes", (l) => l.notes],
  ["follow_up", (l) => l.conversation?.status ?? l.followup_status],
  ["completion_reason", (l) => l.conversation?.completion_reason],
  ["need", (l) => l.conversation?.slots?.need],
  ["timing", (l) => l.conversation?.slots?.timing],
  ["location", (l) => l.conversation?.slots?.location],
  ["constraints", (l) => l.conversation?.slots?.constraints ?? []],
  ["summary", (l) => l.conversation?.summary?.text],
  ["sms_consent", (l) => (l.sms_consent ? "yes" : "no")],
  ["consent_text", (l) => l.consent_text],
  ["consent_at", (l) => l.consent_at],
  ["consent_ip", (l) => l.ip],
  ["consent_user_agent", (l) => l.user_agent],
];
