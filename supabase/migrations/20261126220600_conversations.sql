-- Conversations: the SMS follow-up with one lead, as a state machine
-- pending -> awaiting_reply -> active -> completed | no_reply | opted_out | failed.
-- Every transition is one UPDATE guarded by version (or by is_open), so a retried or concurrent job
-- changes nothing the second time. The engine's RPCs are in the conversation_turns migration.

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  lead_id uuid not null unique references public.leads (id) on delete cascade,
  lead_phone text not null check (private.is_e164(lead_phone)),
  status text not null default 'pending'
    check (status in ('pending', 'awaiting_reply', 'active', 'completed', 'no_reply', 'opted_out', 'failed')),
  is_open boolean not null generated always as (status in ('pending', 'awaiting_reply', 'active')) stored,
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
  summary_attempts integer not null default 0 check (summary_attempts >= 0),
  summary jsonb,
  summary_completed_at timestamptz,
  last_inbound_at timestamptz,
  last_outbound_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint conversations_open_has_no_reason check (is_open = (completion_reason is null)),
  constraint conversations_closed_has_no_next_action check (is_open or next_action_at is null),
  constraint conversations_summary_due_has_time check (summary_status = 'not_due' or summary_due_at is not null)
);
comment on table public.conversations is 'The SMS follow-up with one lead: the state machine (pending -> awaiting_reply -> active -> completed | no_reply | opted_out | failed), collected slots, summary state. Every transition is one UPDATE guarded by version.';
comment on column public.conversations.is_open is 'pending, awaiting_reply or active: the conversation may still text and be texted.';
comment on column public.conversations.current_locale is 'The language of the lead''s latest text (private.detect_locale); every text to the lead is rendered in it.';
comment on column public.conversations.next_action_at is 'When the sweep must act (nudge or idle completion); null when nothing is scheduled.';
comment on column public.conversations.summary_attempts is 'How often summarize has taken the summary; at the limit (or 30 minutes overdue) the sweep sends the owner the plain fallback summary instead (private.send_fallback_summaries).';
comment on column public.conversations.version is 'Optimistic lock: every transition increments it and is guarded by the value read.';
create index conversations_business_id_created_at_idx on public.conversations (business_id, created_at desc);
create index conversations_lead_phone_open_idx on public.conversations (business_id, lead_phone) where is_open;
-- The sweep reads only what is due: these stay small however long the history grows.
create index conversations_next_action_due_idx on public.conversations (next_action_at)
  where next_action_at is not null;
create index conversations_summary_due_idx on public.conversations (summary_due_at)
  where summary_status in ('due', 'claimed');

create trigger conversations_touch_updated_at before update on public.conversations
  for each row execute function private.touch_updated_at();

alter table public.conversations enable row level security;
revoke all on public.conversations from anon, authenticated;
grant select on public.conversations to authenticated;
grant all on public.conversations to service_role;

create policy "members can read their business conversations" on public.conversations
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

alter publication supabase_realtime add table public.conversations;

-- The one way a conversation ends. A conversation that ran its course (completed, no_reply) gets its
-- owner summary due; waiting nudges are canceled. With p_expected_version a stale decision changes
-- nothing; without it the close applies to whatever open state the row is in.
create or replace function private.close_conversation(
  p_conversation_id uuid, p_status text, p_reason text, p_at timestamptz default now(), p_expected_version int default null)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  if p_status not in ('completed', 'no_reply', 'opted_out', 'failed') then
    raise exception 'a conversation cannot end as %', p_status using errcode = '22023';
  end if;
  update public.conversations c
     set status = p_status, completion_reason = p_reason, completed_at = p_at, next_action_at = null,
         version = c.version + 1,
         summary_status = case when p_status in ('completed', 'no_reply') then 'due' else c.summary_status end,
         summary_due_at = case when p_status in ('completed', 'no_reply') then p_at else c.summary_due_at end
   where c.id = p_conversation_id and c.is_open
     and (p_expected_version is null or c.version = p_expected_version);
  if not found then
    return false;
  end if;
  update public.messages m set status = 'canceled', status_reason = 'conversation_closed'
   where m.conversation_id = p_conversation_id and m.kind = 'nudge' and m.status in ('queued', 'deferred');
  return true;
end
$$;
comment on function private.close_conversation(uuid, text, text, timestamptz, int) is 'Ends an open conversation (completed, no_reply, opted_out, failed) with its reason; summary due for completed/no_reply; cancels its waiting nudge. False when it was not open (or not at p_expected_version).';
revoke execute on function private.close_conversation(uuid, text, text, timestamptz, int) from public;
