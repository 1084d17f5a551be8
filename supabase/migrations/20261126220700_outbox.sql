-- The outbox: every SMS in or out is one row of public.messages, the transcript and the queue in one.
-- Outbound rows are written only by private.enqueue_outbound (quiet hours decide queued or
-- deferred), become sendable when private.is_sendable_now says so, and wake sms-dispatch at commit.
-- Claiming, sending and delivery statuses are in the delivery migration.

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  lead_id uuid references public.leads (id) on delete cascade,
  conversation_id uuid references public.conversations (id) on delete cascade,
  direction text not null check (direction in ('outbound', 'inbound')),
  kind text not null check (kind in (
    'owner_alert', 'text_back', 'question', 'nudge', 'closing', 'owner_summary', 'help', 'opt_out_ack', 'opt_in_ack',
    'clarify', 'inbound', 'verification', 'owner_reply', 'owner_notice', 'member_alert', 'member_summary', 'member_notice')),
  to_phone text not null check (length(to_phone) between 3 and 32),
  from_phone text not null check (length(from_phone) between 3 and 32),
  body text not null check (length(body) between 1 and 1600),
  asks text[] not null default '{}' check (asks <@ array['need', 'timing', 'location', 'constraints']),
  status text not null check (status in (
    'queued', 'deferred', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'received', 'canceled')),
  status_reason text check (status_reason is null or length(status_reason) <= 500),
  twilio_sid text unique check (twilio_sid is null or length(twilio_sid) between 10 and 64),
  error_code text check (error_code is null or length(error_code) <= 16),
  error_message text check (error_message is null or length(error_message) <= 1000),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 30 check (max_attempts between 1 and 50),
  last_attempt_at timestamptz,
  unknown_attempt_at timestamptz,
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
    kind in ('owner_alert', 'owner_summary', 'owner_notice', 'member_notice', 'inbound', 'help', 'opt_out_ack', 'opt_in_ack', 'clarify', 'verification') or lead_id is not null),
  constraint messages_conversation_kinds_have_conversation check (
    kind not in ('text_back', 'question', 'nudge', 'closing') or conversation_id is not null),
  constraint messages_inbound_asks_nothing check (direction = 'outbound' or asks = '{}')
);
comment on table public.messages is 'Transcript and outbox in one: every SMS in or out. Outbound rows move queued|deferred -> sending (leased) -> sent -> delivered, or failed (dead letter) / canceled.';
comment on column public.messages.asks is 'What this outbound text asks the lead for (need, timing, location, constraints), set by whoever composed it from private.sms_copy. The conversation engine learns what was asked from it, never from the body.';
comment on column public.messages.send_after is 'Quiet hours: a deferred message becomes queued when this time comes (and is checked again when claimed).';
comment on column public.messages.next_attempt_at is 'Backoff: a retried message is not claimed before this time (seconds at first, hours in an outage: private.retry_delay).';
comment on column public.messages.max_attempts is 'A safety cap on attempts; retries normally end at the kind''s delivery deadline (private.delivery_deadline).';
comment on column public.messages.last_attempt_at is 'When the latest attempt was claimed (its lease began).';
comment on column public.messages.unknown_attempt_at is 'The earliest attempt whose outcome is unknown (timed out after the request left, or its worker vanished): sms-dispatch looks for it in Twilio''s message list before sending again.';
comment on column public.messages.dedupe_key is 'Makes a message exactly-once (owner_summary:<conversation>, owner_alert:<lead>, member_alert:<owner alert>:<phone>, ...).';
comment on column public.messages.kind is 'What the text is. owner_*: to the owner phone (held while it is unconfirmed, never suppressed by an opt-out); member_*: the same to a team member''s confirmed alert phone (member_alert_phones migration; an opt-out of that phone stops them); the rest go to leads.';
create index messages_business_id_created_at_idx on public.messages (business_id, created_at desc);

-- The texts that go to the owner phone: held while it is unconfirmed, never suppressed by an opt-out, left
-- out of the lead's transcript. One list, read by every rule that treats them apart.
create or replace function private.is_owner_text(p_kind text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return p_kind in ('owner_alert', 'owner_summary', 'owner_notice');
end
$$;
comment on function private.is_owner_text(text) is 'True for the kinds texted to the business''s owner phone (owner_alert, owner_summary, owner_notice).';
revoke execute on function private.is_owner_text(text) from public;
create index messages_conversation_id_created_at_idx on public.messages (conversation_id, created_at) where conversation_id is not null;
create index messages_lead_id_idx on public.messages (lead_id) where lead_id is not null;
-- The outbox: only rows waiting for a worker are indexed.
create index messages_outbox_queued_idx on public.messages (next_attempt_at, send_after) where status = 'queued';
create index messages_outbox_deferred_idx on public.messages (send_after) where status = 'deferred';
create index messages_outbox_sending_lease_idx on public.messages (lease_until) where status = 'sending';
-- Frequency cap: unsolicited texts to one phone around a moment (private.unsolicited_count).
create index messages_unsolicited_to_phone_idx on public.messages (to_phone, send_after)
  where kind in ('text_back', 'nudge');
create index messages_pending_to_phone_idx on public.messages (business_id, to_phone)
  where status in ('queued', 'deferred');

create trigger messages_touch_updated_at before update on public.messages
  for each row execute function private.touch_updated_at();

alter table public.messages enable row level security;
revoke all on public.messages from anon, authenticated;
grant select on public.messages to authenticated;
grant all on public.messages to service_role;

-- The owner phone code is a secret even from the business's members (private.start_owner_phone_verification).
create policy "members can read their business messages" on public.messages
  for select to authenticated
  using (business_id in (select private.member_business_ids()) and kind <> 'verification');

alter publication supabase_realtime add table public.messages;

-- Callers also test status = 'queued' themselves so the planner can start from messages_outbox_queued_idx.
create or replace function private.is_sendable_now(p_message public.messages, p_at timestamptz default now())
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return p_message.status = 'queued' and p_message.send_after <= p_at and p_message.next_attempt_at <= p_at;
end
$$;
comment on function private.is_sendable_now(public.messages, timestamptz) is 'A message sms-dispatch may claim at p_at: queued, past its quiet-hours deferral and its retry backoff.';
revoke execute on function private.is_sendable_now(public.messages, timestamptz) from public;

-- sms-compliance: at most 3 unsolicited texts (text-backs and nudges; replies to the lead's own
-- messages are not unsolicited) to one phone per 24 hours, across businesses. Deferred texts wait in
-- the future, so the texts within 24 hours either side of p_at are counted: then no 24-hour window
-- holding the new text holds more than three.
create or replace function private.unsolicited_count(p_phone text, p_at timestamptz)
returns integer
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
  select count(*)::int from public.messages m
   where m.to_phone = p_phone and m.kind in ('text_back', 'nudge')
     and m.status not in ('canceled', 'failed')
     and m.send_after > p_at - interval '24 hours' and m.send_after < p_at + interval '24 hours'
  );
end
$$;
comment on function private.unsolicited_count(text, timestamptz) is 'Unsolicited texts (text_back, nudge; not canceled or failed) to a phone due within 24 hours of p_at.';
revoke execute on function private.unsolicited_count(text, timestamptz) from public;

create or replace function private.may_text_unsolicited(p_phone text, p_at timestamptz)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return private.unsolicited_count(p_phone, p_at) < 3;
end
$$;
comment on function private.may_text_unsolicited(text, timestamptz) is 'The frequency cap: true while fewer than 3 unsolicited texts to the phone fall within 24 hours of p_at.';
revoke execute on function private.may_text_unsolicited(text, timestamptz) from public;

-- The one way an outbound text is written. Texts in a conversation with a lead wait for the lead's
-- texting window (private.next_lead_send_time: its zones, the owner's hours, its state's rules), deferred
-- until then with the reason; owner texts and the answers to STOP/START/HELP go at once.
-- Null when p_dedupe_key was already used (the text exists).
create or replace function private.enqueue_outbound(
  p_business public.businesses, p_kind text, p_to text, p_body text,
  p_lead_id uuid default null, p_conversation_id uuid default null, p_asks text[] default '{}',
  p_dedupe_key text default null, p_at timestamptz default now())
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  lead public.leads;
  slot record;
  message_id uuid;
begin
  if private.is_limited_lead_text(p_kind) then
    select * into lead from public.leads l where l.id = p_lead_id;
    select * into slot from private.next_lead_send_time(p_business, lead, p_at);
  else
    select p_at as send_at, null::text as reason into slot;
  end if;
  insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, asks,
                               status, status_reason, send_after, next_attempt_at, dedupe_key)
  values (p_business.id, p_lead_id, p_conversation_id, 'outbound', p_kind, p_to, p_business.twilio_number, p_body,
          coalesce(p_asks, '{}'), case when slot.send_at > p_at then 'deferred' else 'queued' end,
          case when slot.send_at > p_at then slot.reason end, slot.send_at, slot.send_at, p_dedupe_key)
  on conflict (dedupe_key) do nothing
  returning id into message_id;
  -- Issue 12 (outbound_guards migration): owner texts wait for a confirmed owner phone, numbers leadloop
  -- never texts are refused, a lead's first text carries the opt-out wording.
  if message_id is not null then
    perform private.guard_outbound(message_id, p_business, p_kind, p_to, p_body, p_conversation_id);
  end if;
  return message_id;
end
$$;
comment on function private.enqueue_outbound(public.businesses, text, text, text, uuid, uuid, text[], text, timestamptz) is 'Writes one outbound text from the business''s number: queued, or (a conversation text to a lead) deferred to the lead''s texting window with status_reason quiet_hours or state_limit. Returns its id, or null when p_dedupe_key already exists.';
revoke execute on function private.enqueue_outbound(public.businesses, text, text, text, uuid, uuid, text[], text, timestamptz) from public;

-- Waking the edge functions, coalesced: one row per function the database wakes (sms-dispatch here;
-- webhook-deliver and send-email add theirs). A wake is "pending" from the moment it is posted until the
-- function's next claim answers it (private.answer_wake). While one is pending, new work needs no wake of
-- its own; private.wake_function says how the claim still sees that work. Decisions run at commit
-- (private.wake_once_at_commit from deferred constraint triggers), so what they hold is held for an
-- instant. A wake no claim answered within lost_after is treated as lost (a function that crashed or was
-- redeployed mid-request) and posted again; each minute sweep also wakes a function whose work is due.
create table private.function_wakes (
  function_name text primary key check (function_name ~ '^[a-z][a-z0-9-]{0,62}$'),
  lost_after interval not null check (lost_after > interval '0'),
  wake_pending boolean not null default false,
  last_wake_at timestamptz,
  last_claim_at timestamptz,
  wakes_posted bigint not null default 0
);
comment on table private.function_wakes is 'One row per edge function the database wakes: whether a wake is in flight (coalescing), when an unanswered one counts as lost, and counters.';
alter table private.function_wakes enable row level security;
revoke all on private.function_wakes from public, anon, authenticated;
-- A lost sms-dispatch wake holds new owner alerts: a cold start answers well within 5 s.
insert into private.function_wakes (function_name, lost_after) values ('sms-dispatch', interval '5 seconds');

-- Posts to an edge function with the project URL and service key from the vault; null (and a
-- warning) when the vault is not configured or the post is refused, never an error: saving a lead must
-- not depend on it (a wake is an optimisation on top of the minute sweeps).
create or replace function private.post_to_edge_function(p_function_name text, p_body jsonb default '{}'::jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  service_role_key text;
begin
  select s.decrypted_secret into project_url from vault.decrypted_secrets s where s.name = 'project_url' limit 1;
  select s.decrypted_secret into service_role_key from vault.decrypted_secrets s where s.name = 'service_role_key' limit 1;
  if project_url is null or service_role_key is null then
    raise warning 'leadloop: vault secrets project_url/service_role_key are not set; % not woken', p_function_name;
    return null;
  end if;
  return net.http_post(
    url := rtrim(project_url, '/') || '/functions/v1/' || p_function_name,
    body := p_body,
    headers := jsonb_build_object('Authorization', 'Bearer ' || service_role_key, 'Content-Type', 'application/json'));
exception when others then
  raise warning 'leadloop: could not post to %: % (%)', p_function_name, sqlerrm, sqlstate;
  return null;
end
$$;
comment on function private.post_to_edge_function(text, jsonb) is 'net.http_post to <project_url>/functions/v1/<name> with the service key from vault.decrypted_secrets; null (and a warning) when it cannot, never an error.';
revoke execute on function private.post_to_edge_function(text, jsonb) from public;

-- Coalescing without a queue on the wake row: a transaction that skips its wake because one is pending
-- holds the function's wake lock shared until it commits, and the claim that answers the pending wake
-- takes it exclusively before it looks for work (private.answer_wake), so it waits for those commits and
-- sees their rows. While such a claim runs (the shared try fails), the claim may not see this
-- transaction's rows, so a wake of its own is posted: the function folds a wake that arrives mid-drain
-- into one more pass. Neither side waits on the other's whole transaction.
create or replace function private.wake_lock_key(p_function_name text)
returns bigint
language sql
immutable
set search_path = ''
as $$ select pg_catalog.hashtextextended('leadloop.wake:' || p_function_name, 0) $$;
comment on function private.wake_lock_key(text) is 'The advisory lock between transactions that skip a function''s wake (shared) and the claim that answers its pending wake (exclusive).';
revoke execute on function private.wake_lock_key(text) from public;

create or replace function private.wake_function(p_function_name text, p_force boolean default false)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not p_force and not pg_catalog.pg_try_advisory_xact_lock_shared(private.wake_lock_key(p_function_name)) then
    return private.post_to_edge_function(p_function_name) is not null;
  end if;
  -- Taking the row marks the wake as this transaction's to post; a concurrent poster's row means it has
  -- just posted one, whose claim waits for this transaction (the lock above) and so sees its rows.
  update private.function_wakes w
     set wake_pending = true, last_wake_at = now(), wakes_posted = w.wakes_posted + 1
   where w.function_name = p_function_name
     and (p_force or not (w.wake_pending and w.last_wake_at > now() - w.lost_after));
  if not found then
    return false;
  end if;
  if private.post_to_edge_function(p_function_name) is null then
    update private.function_wakes w set wake_pending = false, wakes_posted = w.wakes_posted - 1 where w.function_name = p_function_name;
    return false;
  end if;
  return true;
end
$$;
comment on function private.wake_function(text, boolean) is 'Posts one wake to the edge function unless one is already pending and no claim is answering it (coalescing); p_force posts regardless. True when a wake was posted.';
revoke execute on function private.wake_function(text, boolean) from public;

create or replace function private.answer_wake(p_function_name text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Without a pending wake nobody skipped one, and concurrent claims need not queue on the lock.
  if (select w.wake_pending from private.function_wakes w where w.function_name = p_function_name) then
    perform pg_catalog.pg_advisory_xact_lock(private.wake_lock_key(p_function_name));
    update private.function_wakes w set wake_pending = false, last_claim_at = now()
     where w.function_name = p_function_name and w.wake_pending;
  end if;
end
$$;
comment on function private.answer_wake(text) is 'A claim''s first step: answers the function''s pending wake, waiting for the transactions that skipped their own wake, so the claim''s next statements see their rows.';
revoke execute on function private.answer_wake(text) from public;

-- Deferred constraint triggers call this: one decision per transaction and function, however many rows it
-- queued. A wake is an optimisation on top of the minute sweeps, so an error here (a lock timeout, a
-- malformed vault URL) must never abort the transaction that queued the work: it is logged instead.
create or replace function private.wake_once_at_commit(p_function_name text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  decided text := 'leadloop.wake_decided_' || replace(p_function_name, '-', '_');
begin
  if current_setting(decided, true) = 'yes' then
    return;
  end if;
  perform set_config(decided, 'yes', true);
  begin
    perform private.wake_function(p_function_name);
  exception when others then
    raise warning 'leadloop: % wake skipped: % (%); the sweep will wake it', p_function_name, sqlerrm, sqlstate;
  end;
end
$$;
comment on function private.wake_once_at_commit(text) is 'At commit: wakes the edge function once per transaction (coalesced by private.wake_function); logs instead of failing.';
revoke execute on function private.wake_once_at_commit(text) from public;

create or replace function private.messages_wake_dispatch_at_commit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Only rows still sendable right now matter (the row may have changed since it was queued).
  if exists (select 1 from public.messages m where m.id = new.id and private.is_sendable_now(m)) then
    perform private.wake_once_at_commit('sms-dispatch');
  end if;
  return null;
end
$$;
comment on function private.messages_wake_dispatch_at_commit() is 'Deferred constraint trigger: at commit, one coalesced sms-dispatch wake per transaction that left a sendable message.';
revoke execute on function private.messages_wake_dispatch_at_commit() from public;

create constraint trigger messages_wake_dispatch_at_commit
  after insert or update of status on public.messages
  deferrable initially deferred
  for each row
  when (new.direction = 'outbound' and new.status = 'queued')
  execute function private.messages_wake_dispatch_at_commit();
