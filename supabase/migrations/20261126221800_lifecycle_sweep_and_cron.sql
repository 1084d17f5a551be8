-- The minute sweep. Every query starts from a partial index of what is due, so its cost follows
-- the due work, not the size of the history.
create or replace function private.lifecycle_sweep(p_now timestamptz default now(), p_batch_size int default 500)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  leases_released integer := 0;
  deferred_released integer := 0;
  nudges_queued integer := 0;
  nudges_skipped integer := 0;
  completed integer := 0;
  early_statuses_purged integer := 0;
  due record;
  send_at timestamptz;
  unsolicited integer;
  summaries_due boolean;
  dispatch_due boolean;
  dispatch_woken boolean := false;
  summarize_woken boolean := false;
begin
  -- Sends whose worker vanished: back to the queue, or dead letter when out of attempts.
  with expired as (
    select m.id from public.messages m
     where m.status = 'sending' and m.lease_until < p_now
     order by m.lease_until limit p_batch_size
     for update skip locked
  )
  update public.messages m
     set status = case when m.attempts >= m.max_attempts then 'failed' else 'queued' end,
         status_reason = case when m.attempts >= m.max_attempts then 'dead_letter: lease expired on the last attempt' else 'lease_expired' end,
         lease_until = null, next_attempt_at = p_now
    from expired where m.id = expired.id;
  get diagnostics leases_released = row_count;

  -- Quiet hours over: deferred texts become sendable (the commit trigger wakes dispatch).
  with ready as (
    select m.id from public.messages m
     where m.status = 'deferred' and m.send_after <= p_now
     order by m.send_after limit p_batch_size
     for update skip locked
  )
  update public.messages m set status = 'queued'
    from ready where m.id = ready.id;
  get diagnostics deferred_released = row_count;

  -- Conversations whose next action is due: one nudge, then idle completion. SKIP LOCKED keeps two
  -- concurrent sweeps apart; the version guard makes a stale decision change nothing.
  for due in
    select c.id, c.version, c.status, c.nudge_count, c.lead_id, c.lead_phone, c.current_locale, c.business_id,
           b.name as business_name, b.timezone, b.quiet_hours_start, b.quiet_hours_end, b.twilio_number,
           b.idle_timeout_minutes, l.name as lead_name
      from public.conversations c
      join public.businesses b on b.id = c.business_id
      join public.leads l on l.id = c.lead_id
     where c.next_action_at <= p_now
     order by c.next_action_at
     limit p_batch_size
     for update of c skip locked
  loop
    if due.status = 'awaiting_reply' and due.nudge_count = 0 then
      select count(*) into unsolicited from public.messages m
       where m.to_phone = due.lead_phone and m.kind in ('text_back', 'nudge')
         and m.status not in ('canceled', 'failed')
         and m.send_after > p_now - interval '24 hours' and m.send_after <= p_now + interval '24 hours';
      update public.conversations c
         set nudge_count = 1, next_action_at = p_now + make_interval(mins => due.idle_timeout_minutes), version = c.version + 1
       where c.id = due.id and c.version = due.version;
      if not found then
        continue;
      end if;
      if unsolicited >= 3 or exists (select 1 from public.opt_outs o where o.business_id = due.business_id and o.phone = due.lead_phone) then
        nudges_skipped := nudges_skipped + 1;
      else
        send_at := private.next_allowed_send_time(p_now, due.timezone, due.quiet_hours_start, due.quiet_hours_end);
        insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body,
                                     status, send_after, next_attempt_at, dedupe_key)
        values (due.business_id, due.lead_id, due.id, 'outbound', 'nudge', due.lead_phone, due.twilio_number,
                private.nudge_body(due.current_locale, due.business_name, due.lead_name),
                case when send_at > p_now then 'deferred' else 'queued' end, send_at, send_at, 'nudge:' || due.id)
        on conflict (dedupe_key) do nothing;
        nudges_queued := nudges_queued + 1;
      end if;
    elsif due.status in ('awaiting_reply', 'active', 'pending') then
      update public.conversations c
         set status = case when due.status = 'active' then 'completed' else 'no_reply' end,
             completion_reason = case when due.status = 'active' then 'idle_timeout' else 'no_reply' end,
             completed_at = p_now, next_action_at = null, version = c.version + 1,
             summary_status = 'due', summary_due_at = p_now
       where c.id = due.id and c.version = due.version;
      if found then
        completed := completed + 1;
        update public.messages m set status = 'canceled', status_reason = 'conversation_closed'
         where m.conversation_id = due.id and m.kind = 'nudge' and m.status in ('queued', 'deferred');
      end if;
    end if;
  end loop;

  -- Early status callbacks whose SID mark_message_sent never recorded (not ours, or a reclaimed
  -- send whose first SID was kept) would otherwise stay forever.
  delete from private.early_message_statuses e where e.received_at < p_now - interval '1 day';
  get diagnostics early_statuses_purged = row_count;

  summaries_due := exists (
    select 1 from public.conversations c
     where c.summary_status in ('due', 'claimed') and c.summary_due_at <= p_now
       and (c.summary_status = 'due' or c.summary_lease_until < p_now));
  if summaries_due then
    summarize_woken := private.post_to_edge_function('summarize') is not null;
  end if;

  dispatch_due := exists (
    select 1 from public.messages m
     where m.status = 'queued' and m.next_attempt_at <= p_now and m.send_after <= p_now);
  if dispatch_due then
    dispatch_woken := private.wake_dispatch(true);
  end if;

  return jsonb_build_object(
    'leases_released', leases_released, 'deferred_released', deferred_released,
    'nudges_queued', nudges_queued, 'nudges_skipped', nudges_skipped, 'completed', completed,
    'early_statuses_purged', early_statuses_purged,
    'summaries_due', summaries_due, 'summarize_woken', summarize_woken,
    'dispatch_due', dispatch_due, 'dispatch_woken', dispatch_woken);
end
$$;
comment on function private.lifecycle_sweep(timestamptz, int) is 'pg_cron, every minute: expired leases, deferred texts now due, one nudge, idle completion (version-guarded), summary and dispatch wakes, purge of early status callbacks older than a day.';

select cron.schedule('leadloop-lifecycle-sweep', '* * * * *', 'select private.lifecycle_sweep()');

-- RPCs: service_role only (functions call them with the service key).
revoke execute on function
  public.claim_outbound_messages(int, int),
  public.mark_message_sent(uuid, text),
  public.mark_message_failed(uuid, text, text, boolean),
  public.record_message_status(text, text, text),
  public.record_inbound_sms(text, text, text, text, text),
  public.get_conversation_context(uuid),
  public.apply_conversation_turn(uuid, int, jsonb, text, text, text, boolean, text),
  public.claim_due_summaries(int, int),
  public.complete_conversation_summary(uuid, jsonb, text)
  from public, anon, authenticated;
grant execute on function
  public.claim_outbound_messages(int, int),
  public.mark_message_sent(uuid, text),
  public.mark_message_failed(uuid, text, text, boolean),
  public.record_message_status(text, text, text),
  public.record_inbound_sms(text, text, text, text, text),
  public.get_conversation_context(uuid),
  public.apply_conversation_turn(uuid, int, jsonb, text, text, text, boolean, text),
  public.claim_due_summaries(int, int),
  public.complete_conversation_summary(uuid, jsonb, text)
  to service_role;

-- Nothing in private is callable by API roles except the two membership helpers RLS needs.
revoke execute on all functions in schema private from public, anon, authenticated;
grant execute on function private.member_business_ids(), private.owned_business_ids() to authenticated;
grant execute on all functions in schema private to service_role;
revoke all on all tables in schema private from public, anon, authenticated;

-- The dashboard follows leads, conversations and messages live (Realtime applies RLS per subscriber).
alter publication supabase_realtime add table public.leads, public.conversations, public.messages;
-- CHECK constraints call these pure validators as the inserting/updating role.
grant execute on function private.is_e164(text), private.is_valid_timezone(text), private.is_valid_origin(text),
  private.all_valid_origins(text[]) to anon, authenticated;
