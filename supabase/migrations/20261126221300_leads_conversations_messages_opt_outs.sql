create table public.leads (
  id uuid primary key default gen_random_uuid(),
  widget_id uuid references public.widgets (id) on delete set null,
  business_id uuid not null references public.businesses (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 100),
  phone text not null check (private.is_e164(phone)),
  email text check (email is null or (length(email) <= 254 and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$')),
  message text check (message is null or length(message) <= 2000),
  source_url text check (source_url is null or (length(source_url) <= 2048 and source_url ~ '^https?://')),
  sms_consent boolean not null default false,
  honeypot text check (honeypot is null or honeypot = ''),
  consent_text text check (consent_text is null or length(consent_text) <= 1000),
  consent_at timestamptz,
  ip inet,
  user_agent text check (user_agent is null or length(user_agent) <= 512),
  locale text not null default 'en' check (locale in ('en', 'es')),
  is_duplicate boolean not null default false,
  duplicate_of uuid references public.leads (id) on delete set null,
  owner_alert_status text not null default 'queued'
    check (owner_alert_status in ('queued', 'sent', 'delivered', 'failed', 'skipped_duplicate')),
  followup_status text not null default 'not_texted'
    check (followup_status in ('started', 'deferred', 'not_texted')),
  not_texted_reason text check (not_texted_reason in (
    'no_consent', 'no_active_subscription', 'followup_disabled', 'quota_exhausted', 'opted_out',
    'landline', 'invalid_phone', 'country_not_allowed', 'frequency_cap', 'duplicate',
    'no_sending_number', 'internal_error', 'conversation_open')),
  phone_status text not null default 'unverified' check (phone_status in ('unverified', 'mobile', 'invalid', 'landline')),
  delivery_problem text check (delivery_problem is null or length(delivery_problem) <= 500),
  created_at timestamptz not null default now(),
  constraint leads_consent_evidence check (not sms_consent or (consent_text is not null and consent_at is not null)),
  constraint leads_not_texted_has_reason check ((followup_status = 'not_texted') = (not_texted_reason is not null))
);
comment on table public.leads is 'One website form submission. Saved first, whatever happens next; business_id and the consent evidence (text, time, IP, user agent) are set by the intake trigger, never by the client.';
comment on column public.leads.not_texted_reason is 'Why the lead was not texted back (shown to the owner).';
-- conversation_open: the phone already has an open conversation with the business (see private.leads_before_insert).
comment on column public.leads.is_duplicate is 'Same phone for the same business within its duplicate window: stored, but alerts nobody again.';
comment on column public.leads.phone_status is 'invalid (Twilio 21211) or landline (21614/21635, "call, don''t text") once known; such numbers are not texted again.';
create index leads_business_id_created_at_idx on public.leads (business_id, created_at desc);
create index leads_business_id_phone_created_at_idx on public.leads (business_id, phone, created_at desc);
create index leads_widget_id_created_at_idx on public.leads (widget_id, created_at desc);
create index leads_ip_created_at_idx on public.leads (ip, created_at desc) where ip is not null;
create index leads_duplicate_of_idx on public.leads (duplicate_of) where duplicate_of is not null;

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  lead_id uuid not null unique references public.leads (id) on delete cascade,
  lead_phone text not null check (private.is_e164(lead_phone)),
  status text not null default 'pending'
    check (status in ('pending', 'awaiting_reply', 'active', 'completed', 'no_reply', 'opted_out', 'failed')),
  current_locale text not null default 'en' check (current_locale in ('en', 'es')),
  slots jsonb not null default '{"need": null, "timing": null, "location": null, "constraints": []}'::jsonb
    check (jsonb_typeof(slots) = 'object' and jsonb_typeof(coalesce(slots -> 'constraints', '[]'::jsonb)) = 'array'),
  turn_count integer not null default 0 check (turn_count >= 0),
  question_count integer not null default 0 check (question_count >= 0),
  nudge_count integer not null default 0 check (nudge_count between 0 and 1),
  next_action_at timestamptz,
  version integer not null default 1 check (version >= 1),
  completion_reason text check (completion_reason in (
    'slots_filled', 'max_questions', 'call_requested', 'not_interested', 'wrong_number',
    'idle_timeout', 'no_reply', 'opted_out', 'send_failed')),
  summary_status text not null default 'not_due' check (summary_status in ('not_due', 'due', 'claimed', 'done')),
  summary_due_at timestamptz,
  summary_lease_until timestamptz,
  summary jsonb,
  summary_completed_at timestamptz,
  last_inbound_at timestamptz,
  last_outbound_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint conversations_open_has_no_reason check (
    (status in ('pending', 'awaiting_reply', 'active')) = (completion_reason is null)),
  constraint conversations_closed_has_no_next_action check (
    status in ('pending', 'awaiting_reply', 'active') or next_action_at is null),
  constraint conversations_summary_due_has_time check (summary_status = 'not_due' or summary_due_at is not null)
);
comment on table public.conversations is 'The SMS follow-up with one lead: the state machine (pending -> awaiting_reply -> active -> completed | no_reply | opted_out | failed), collected slots, summary state. Every transition is one UPDATE guarded by version.';
comment on column public.conversations.next_action_at is 'When the sweep must act (nudge or idle completion); null when nothing is scheduled.';
comment on column public.conversations.version is 'Optimistic lock: every transition increments it and is guarded by the value read.';
create index conversations_business_id_created_at_idx on public.conversations (business_id, created_at desc);
create index conversations_lead_phone_open_idx on public.conversations (business_id, lead_phone)
  where status in ('pending', 'awaiting_reply', 'active');
-- The sweep reads only what is due: these stay small however long the history grows.
create index conversations_next_action_due_idx on public.conversations (next_action_at)
  where next_action_at is not null;
create index conversations_summary_due_idx on public.conversations (summary_due_at)
  where summary_status in ('due', 'claimed');

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  lead_id uuid references public.leads (id) on delete cascade,
  conversation_id uuid references public.conversations (id) on delete cascade,
  direction text not null check (direction in ('outbound', 'inbound')),
  kind text not null check (kind in (
    'owner_alert', 'text_back', 'question', 'nudge', 'closing', 'owner_summary', 'help', 'opt_out_ack', 'inbound')),
  to_phone text not null check (length(to_phone) between 3 and 32),
  from_phone text not null check (length(from_phone) between 3 and 32),
  body text not null check (length(body) between 1 and 1600),
  status text not null check (status in (
    'queued', 'deferred', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'received', 'canceled')),
  status_reason text check (status_reason is null or length(status_reason) <= 500),
  twilio_sid text unique check (twilio_sid is null or length(twilio_sid) between 10 and 64),
  error_code text check (error_code is null or length(error_code) <= 16),
  error_message text check (error_message is null or length(error_message) <= 1000),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 5 check (max_attempts between 1 and 20),
  next_attempt_at timestamptz not null default now(),
  send_after timestamptz not null default now(),
  lease_until timestamptz,
  dedupe_key text unique check (dedupe_key is null or length(dedupe_key) <= 200),
  sent_at timestamptz,
  delivered_at timestamptz,
  -- clock time, not transaction time: the transcript is ordered by it, and one transaction may write several texts
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default now(),
  constraint messages_direction_matches_kind check ((direction = 'inbound') = (kind = 'inbound')),
  constraint messages_inbound_is_received check (direction = 'outbound' or status = 'received'),
  constraint messages_outbound_phones_e164 check (
    direction = 'inbound' or (private.is_e164(to_phone) and private.is_e164(from_phone))),
  constraint messages_sending_has_lease check ((status = 'sending') = (lease_until is not null)),
  constraint messages_lead_kinds_have_lead check (
    kind in ('owner_alert', 'owner_summary', 'inbound', 'help', 'opt_out_ack') or lead_id is not null),
  constraint messages_conversation_kinds_have_conversation check (
    kind not in ('text_back', 'question', 'nudge', 'closing') or conversation_id is not null)
);
comment on table public.messages is 'Transcript and outbox in one: every SMS in or out. Outbound rows move queued|deferred -> sending (leased) -> sent -> delivered, or failed (dead letter) / canceled.';
comment on column public.messages.send_after is 'Quiet hours: a deferred message becomes queued when this time comes.';
comment on column public.messages.next_attempt_at is 'Exponential backoff: a retried message is not claimed before this time.';
comment on column public.messages.dedupe_key is 'Makes a message exactly-once (owner_summary:<conversation>, owner_alert:<lead>, ...).';
create index messages_business_id_created_at_idx on public.messages (business_id, created_at desc);
create index messages_conversation_id_created_at_idx on public.messages (conversation_id, created_at) where conversation_id is not null;
create index messages_lead_id_idx on public.messages (lead_id) where lead_id is not null;
-- The outbox: only rows waiting for a worker are indexed.
create index messages_outbox_queued_idx on public.messages (next_attempt_at, send_after) where status = 'queued';
create index messages_outbox_deferred_idx on public.messages (send_after) where status = 'deferred';
create index messages_outbox_sending_lease_idx on public.messages (lease_until) where status = 'sending';
-- Frequency cap: unsolicited texts to one phone in the last 24 hours.
create index messages_unsolicited_to_phone_idx on public.messages (to_phone, send_after)
  where kind in ('text_back', 'nudge');
create index messages_pending_to_phone_idx on public.messages (business_id, to_phone)
  where status in ('queued', 'deferred');

create table public.opt_outs (
  business_id uuid not null references public.businesses (id) on delete cascade,
  phone text not null check (private.is_e164(phone)),
  source text not null default 'owner' check (source in ('keyword', 'carrier', 'owner')),
  matched_rule text not null default 'owner' check (length(matched_rule) between 1 and 100),
  inbound_message_id uuid references public.messages (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (business_id, phone)
);
comment on table public.opt_outs is 'Per-business suppression list (STOP keywords, FCC reasonable wordings, carrier errors 21610/30005/30006, owner entries). Checked when a follow-up starts and again at send time.';
comment on column public.opt_outs.matched_rule is 'Which rule matched: keyword:STOP, phrase:stop texting me, twilio:OptOutType, carrier:21610, owner, ...';

create trigger conversations_touch_updated_at before update on public.conversations
  for each row execute function private.touch_updated_at();
create trigger messages_touch_updated_at before update on public.messages
  for each row execute function private.touch_updated_at();

alter table public.leads enable row level security;
alter table public.conversations enable row level security;
alter table public.messages enable row level security;
alter table public.opt_outs enable row level security;

revoke all on public.leads, public.conversations, public.messages, public.opt_outs from anon, authenticated;
grant insert (widget_id, name, phone, email, message, source_url, sms_consent, honeypot) on public.leads to anon;
grant select on public.leads, public.conversations, public.messages, public.opt_outs to authenticated;
grant insert (business_id, phone) on public.opt_outs to authenticated;
grant all on public.leads, public.conversations, public.messages, public.opt_outs to service_role;

create policy "anon can submit a lead through a widget" on public.leads
  for insert to anon
  with check (widget_id is not null);
create policy "members can read their business leads" on public.leads
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

create policy "members can read their business conversations" on public.conversations
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

create policy "members can read their business messages" on public.messages
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

create policy "members can read their business opt-outs" on public.opt_outs
  for select to authenticated
  using (business_id in (select private.member_business_ids()));
create policy "owners can add a number to their do-not-text list" on public.opt_outs
  for insert to authenticated
  with check (business_id in (select private.owned_business_ids()) and source = 'owner');
