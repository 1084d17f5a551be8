-- Owner summaries (summarize, service_role only). A conversation that ran its course has its summary
-- due (private.close_conversation); the sweep wakes summarize, which leases due summaries, writes each
-- one and queues the owner's text exactly once (dedupe key owner_summary:<conversation>).

-- Callers also test summary_status themselves so the planner can start from conversations_summary_due_idx.
create or replace function private.summary_is_claimable(p_conversation public.conversations, p_at timestamptz default now())
returns boolean
language sql
stable
set search_path = ''
as $$
  select p_conversation.summary_due_at <= p_at
     and (p_conversation.summary_status = 'due'
          or (p_conversation.summary_status = 'claimed' and p_conversation.summary_lease_until < p_at))
$$;
comment on function private.summary_is_claimable(public.conversations, timestamptz) is 'A summary summarize may take at p_at: due, or claimed by a worker whose lease has run out.';
revoke execute on function private.summary_is_claimable(public.conversations, timestamptz) from public;

-- Summaries get a few tries: one that keeps failing (a crash, a lease that runs out) or waits too long
-- (summarize not running) is replaced by a plain summary written here, from what the conversation
-- holds, so the owner always hears about the lead.
create or replace function private.summary_attempt_limit()
returns integer
language sql
immutable
set search_path = ''
as $$
  select 5
$$;
comment on function private.summary_attempt_limit() is 'How many times summarize may take a summary before the plain fallback is sent instead.';
revoke execute on function private.summary_attempt_limit() from public;

create or replace function public.claim_due_summaries(p_batch_size int default 10, p_lease_seconds int default 120)
returns setof jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 100 then
    raise exception 'p_batch_size must be between 1 and 100' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds < 10 or p_lease_seconds > 3600 then
    raise exception 'p_lease_seconds must be between 10 and 3600' using errcode = '22023';
  end if;
  return query
  with due as (
    select c.id from public.conversations c
     where c.summary_status in ('due', 'claimed') and private.summary_is_claimable(c)
       and c.summary_attempts < private.summary_attempt_limit()
     order by c.summary_due_at
     limit p_batch_size
     for update skip locked
  ), claimed as (
    update public.conversations c
       set summary_status = 'claimed', summary_lease_until = now() + make_interval(secs => p_lease_seconds),
           summary_attempts = c.summary_attempts + 1
      from due where c.id = due.id
    returning c.*
  )
  select jsonb_build_object(
    'conversation_id', c.id,
    'locale', c.current_locale,
    'now', now(),
    'slots', c.slots,
    'completion_reason', c.completion_reason,
    'business', jsonb_build_object('name', b.name, 'timezone', b.timezone, 'owner_phone', b.owner_phone, 'default_locale', b.default_locale),
    'lead', private.lead_json(l),
    'messages', private.transcript(c.id))
  from claimed c
  join public.businesses b on b.id = c.business_id
  join public.leads l on l.id = c.lead_id;
end
$$;
comment on function public.claim_due_summaries(int, int) is 'summarize: lease due summaries (SKIP LOCKED, each claim counts an attempt; none at its attempt limit) with everything the summarizer needs.';
revoke execute on function public.claim_due_summaries(int, int) from public, anon, authenticated;
grant execute on function public.claim_due_summaries(int, int) to service_role;

-- The owner text comes as lines (the summarizer composes them from the lead's words); each line is made
-- one clean line here (private.sms_single_line, as render_sms does with every value), so nothing the lead
-- wrote can start a line of its own ("Call: tel:+1900...").
create or replace function public.complete_conversation_summary(p_conversation_id uuid, p_summary jsonb, p_owner_lines text[])
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  conversation public.conversations;
  business public.businesses;
  owner_text text := left(array_to_string(array(
    select l.line from (select private.sms_single_line(t.line, 400) as line, t.n from unnest(p_owner_lines) with ordinality as t(line, n)) l
     where l.line is not null order by l.n), E'\n'), 1600);
  message_id uuid;
begin
  if p_summary is null or jsonb_typeof(p_summary) <> 'object' then
    raise exception 'p_summary must be a JSON object' using errcode = '22023';
  end if;
  if cardinality(p_owner_lines) is null or cardinality(p_owner_lines) > 30 or coalesce(owner_text, '') = '' then
    raise exception 'p_owner_lines must be 1 to 30 lines of text' using errcode = '22023';
  end if;
  select * into conversation from public.conversations c where c.id = p_conversation_id for update;
  if conversation.id is null then
    raise exception 'conversation % not found', p_conversation_id using errcode = 'P0002';
  end if;
  if conversation.summary_status = 'not_due' then
    raise exception 'conversation % has no summary due (status %)', p_conversation_id, conversation.status using errcode = 'P0001';
  end if;
  select * into business from public.businesses b where b.id = conversation.business_id;

  if conversation.summary_status <> 'done' then
    update public.conversations c
       set summary = p_summary, summary_status = 'done', summary_completed_at = now(), summary_lease_until = null
     where c.id = conversation.id;
  end if;
  message_id := private.enqueue_outbound(business, 'owner_summary', business.owner_phone, owner_text,
    p_lead_id => conversation.lead_id, p_conversation_id => conversation.id, p_dedupe_key => 'owner_summary:' || conversation.id);
  return jsonb_build_object('queued', message_id is not null);
end
$$;
comment on function public.complete_conversation_summary(uuid, jsonb, text[]) is 'summarize: store the summary and queue the owner summary text (its lines, each cleaned to one line) exactly once per conversation.';
revoke execute on function public.complete_conversation_summary(uuid, jsonb, text[]) from public, anon, authenticated;
grant execute on function public.complete_conversation_summary(uuid, jsonb, text[]) to service_role;

-- The dead letter of a summary: the plain-text fallback from the form and the slots the engine filled,
-- in the owner's language, queued exactly once (same dedupe key as a real summary), and the owner told.
create or replace function private.send_fallback_summaries(p_now timestamptz default now(), p_batch_size int default 100)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  due record;
  unknown text;
  owner_text text;
  sent integer := 0;
begin
  for due in
    select c.id, c.lead_id, c.slots, c.summary_attempts, b as business, l.name as lead_name, l.phone as lead_phone
      from public.conversations c
      join public.businesses b on b.id = c.business_id
      join public.leads l on l.id = c.lead_id
     where c.summary_status in ('due', 'claimed')
       and (c.summary_attempts >= private.summary_attempt_limit() or c.summary_due_at < p_now - interval '30 minutes')
       and (c.summary_status = 'due' or c.summary_lease_until < p_now)
     order by c.summary_due_at
     limit p_batch_size
     for update of c skip locked
  loop
    unknown := private.render_sms('owner_summary_fallback.unknown', (due.business).default_locale);
    owner_text := private.render_sms('owner_summary_fallback', (due.business).default_locale, jsonb_build_object(
      'business', (due.business).name, 'name', left(due.lead_name, 100), 'phone', due.lead_phone,
      'need', coalesce(left(due.slots ->> 'need', 200), unknown),
      'timing', coalesce(left(due.slots ->> 'timing', 200), unknown),
      'location', coalesce(left(due.slots ->> 'location', 200), unknown)), '{}', (due.business).id);
    update public.conversations c
       set summary_status = 'done', summary_completed_at = p_now, summary_lease_until = null,
           summary = jsonb_build_object('need', due.slots -> 'need', 'timing', due.slots -> 'timing', 'location', due.slots -> 'location',
                                        'constraints', coalesce(due.slots -> 'constraints', '[]'::jsonb), 'missing', '[]'::jsonb,
                                        'text', owner_text, 'source', 'fallback',
                                        'fallback_reason', format('the summarizer did not finish after %s attempts', due.summary_attempts))
     where c.id = due.id;
    perform private.enqueue_outbound(due.business, 'owner_summary', (due.business).owner_phone, owner_text,
      p_lead_id => due.lead_id, p_conversation_id => due.id, p_dedupe_key => 'owner_summary:' || due.id, p_at => p_now);
    perform private.notify_owner((due.business).id, 'summary.fallback', 'summary_fallback:' || due.id,
      format('The automatic summary of %s''s conversation failed', left(due.lead_name, 100)),
      'You were texted a plain summary from what the lead wrote; the full conversation is on the lead''s page.',
      'info', jsonb_build_object('attempts', due.summary_attempts), due.lead_id);
    sent := sent + 1;
  end loop;
  return sent;
end
$$;
comment on function private.send_fallback_summaries(timestamptz, int) is 'Lifecycle sweep: summaries at their attempt limit or 30 minutes overdue get the plain fallback summary (from the slots), queued once to the owner, who is told on the attention list.';
revoke execute on function private.send_fallback_summaries(timestamptz, int) from public;
