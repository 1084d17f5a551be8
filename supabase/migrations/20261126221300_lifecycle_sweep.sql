-- The minute sweep (pg_cron). Every query starts from a partial index of what is due, so its cost
-- follows the due work, not the size of the history.
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
  limit_counters_purged integer := 0;
  due record;
  business public.businesses;
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
      update public.conversations c
         set nudge_count = 1, next_action_at = p_now + make_interval(mins => due.idle_timeout_minutes), version = c.version + 1
       where c.id = due.id and c.version = due.version;
      if not found then
        continue;
      end if;
      select * into business from public.businesses b where b.id = due.business_id;
      if private.is_opted_out(business.id, due.lead_phone)
         or not private.may_text_unsolicited(due.lead_phone, private.next_send_time(business, p_now)) then
        nudges_skipped := nudges_skipped + 1;
      else
        perform private.enqueue_outbound(business, 'nudge', due.lead_phone,
          private.render_sms('nudge', due.current_locale,
            jsonb_build_object('first_name', private.first_name(due.lead_name), 'business', business.name),
            '{need,timing,location}', business.id),
          p_lead_id => due.lead_id, p_conversation_id => due.id, p_asks => '{need,timing,location}',
          p_dedupe_key => 'nudge:' || due.id, p_at => p_now);
        nudges_queued := nudges_queued + 1;
      end if;
    elsif due.status = 'active' then
      if private.close_conversation(due.id, 'completed', 'idle_timeout', p_now, due.version) then
        completed := completed + 1;
      end if;
    elsif due.status in ('awaiting_reply', 'pending') then
      if private.close_conversation(due.id, 'no_reply', 'no_reply', p_now, due.version) then
        completed := completed + 1;
      end if;
    end if;
  end loop;

  -- Early status callbacks whose SID mark_message_sent never recorded (not ours, or a reclaimed
  -- send whose first SID was kept) would otherwise stay forever.
  delete from private.early_message_statuses e where e.received_at < p_now - interval '1 day';
  get diagnostics early_statuses_purged = row_count;
  limit_counters_purged := private.purge_limit_counters(p_now);

  summaries_due := exists (
    select 1 from public.conversations c
     where c.summary_status in ('due', 'claimed') and private.summary_is_claimable(c, p_now));
  if summaries_due then
    summarize_woken := private.post_to_edge_function('summarize') is not null;
  end if;

  dispatch_due := exists (
    select 1 from public.messages m where m.status = 'queued' and private.is_sendable_now(m, p_now));
  if dispatch_due then
    dispatch_woken := private.wake_dispatch(true);
  end if;

  return jsonb_build_object(
    'leases_released', leases_released, 'deferred_released', deferred_released,
    'nudges_queued', nudges_queued, 'nudges_skipped', nudges_skipped, 'completed', completed,
    'early_statuses_purged', early_statuses_purged, 'limit_counters_purged', limit_counters_purged,
    'summaries_due', summaries_due, 'summarize_woken', summarize_woken,
    'dispatch_due', dispatch_due, 'dispatch_woken', dispatch_woken);
end
$$;
comment on function private.lifecycle_sweep(timestamptz, int) is 'pg_cron, every minute: expired leases, deferred texts now due, one nudge, idle completion (version-guarded), summary and dispatch wakes, purge of early status callbacks older than a day and of old limit counters.';
revoke execute on function private.lifecycle_sweep(timestamptz, int) from public;

select cron.schedule('leadloop-lifecycle-sweep', '* * * * *', 'select private.lifecycle_sweep()');
