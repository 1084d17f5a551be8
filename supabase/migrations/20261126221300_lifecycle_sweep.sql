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
  inbound_processed integer := 0;
  fallback_summaries integer := 0;
  due record;
  business public.businesses;
  lead public.leads;
  summaries_due boolean;
  dispatch_due boolean;
  dispatch_woken boolean := false;
  summarize_woken boolean := false;
begin
  -- Texts received but not processed (the function failed or stopped between storing and applying).
  inbound_processed := private.process_pending_inbound(p_now);

  -- Sends whose worker vanished: back to the queue, looked up in Twilio before they go again.
  leases_released := private.release_expired_leases(p_now, p_batch_size);

  -- Quiet hours over: deferred texts become sendable (the commit trigger wakes dispatch).
  with ready as (
    select m.id from public.messages m
     where m.status = 'deferred' and m.send_after <= p_now
     order by m.send_after limit p_batch_size
     for update skip locked
  )
  update public.messages m set status = 'queued', status_reason = null
    from ready where m.id = ready.id;
  get diagnostics deferred_released = row_count;

  -- Conversations whose next action is due: one nudge, then idle completion. SKIP LOCKED keeps two
  -- concurrent sweeps apart; the version guard makes a stale decision change nothing.
  for due in
    select c.id, c.version, c.status, c.nudge_count, c.lead_id, c.lead_phone, c.current_locale, c.business_id, c.bot_paused_at,
           b.idle_timeout_minutes, l.name as lead_name
      from public.conversations c
      join public.businesses b on b.id = c.business_id
      join public.leads l on l.id = c.lead_id
     where c.next_action_at <= p_now
     order by c.next_action_at
     limit p_batch_size
     for update of c skip locked
  loop
    -- A conversation a member took over (bot_paused_at) gets no nudge: it ends when idle.
    if due.status = 'awaiting_reply' and due.nudge_count = 0 and due.bot_paused_at is null then
      -- The lead has not answered within the nudge window: the owner's summary (from the form, labelled
      -- "no reply yet") is due now rather than when the conversation finally ends.
      update public.conversations c
         set nudge_count = 1, next_action_at = p_now + make_interval(mins => due.idle_timeout_minutes), version = c.version + 1,
             summary_status = case when c.summary_status = 'not_due' then 'due' else c.summary_status end,
             summary_due_at = case when c.summary_status = 'not_due' then p_now else c.summary_due_at end
       where c.id = due.id and c.version = due.version;
      if not found then
        continue;
      end if;
      select * into business from public.businesses b where b.id = due.business_id;
      select * into lead from public.leads l where l.id = due.lead_id;
      if private.is_opted_out(business.id, due.lead_phone)
         or not private.may_text_unsolicited(due.lead_phone, (select n.send_at from private.next_lead_send_time(business, lead, p_now) n)) then
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

  fallback_summaries := private.send_fallback_summaries(p_now);
  delete from private.inbound_sms r where r.processed_at < p_now - interval '30 days';

  summaries_due := exists (
    select 1 from public.conversations c
     where c.summary_status in ('due', 'claimed') and private.summary_is_claimable(c, p_now));
  if summaries_due then
    summarize_woken := private.post_to_edge_function('summarize') is not null;
  end if;

  dispatch_due := exists (
    select 1 from public.messages m where m.status = 'queued' and private.is_sendable_now(m, p_now));
  if dispatch_due then
    dispatch_woken := private.wake_function('sms-dispatch', true);
  end if;

  return jsonb_build_object(
    'leases_released', leases_released, 'deferred_released', deferred_released,
    'nudges_queued', nudges_queued, 'nudges_skipped', nudges_skipped, 'completed', completed,
    'early_statuses_purged', early_statuses_purged, 'limit_counters_purged', limit_counters_purged,
    'inbound_processed', inbound_processed, 'fallback_summaries', fallback_summaries,
    'summaries_due', summaries_due, 'summarize_woken', summarize_woken,
    'dispatch_due', dispatch_due, 'dispatch_woken', dispatch_woken);
end
$$;
comment on function private.lifecycle_sweep(timestamptz, int) is 'pg_cron, every minute: inbound texts not processed yet, expired leases, deferred texts now due, one nudge, idle completion (version-guarded), fallback summaries, summary and dispatch wakes, purge of early status callbacks older than a day, of old limit counters and of processed inbound rows older than 30 days.';
revoke execute on function private.lifecycle_sweep(timestamptz, int) from public;

select cron.schedule('leadloop-lifecycle-sweep', '* * * * *', 'select private.lifecycle_sweep()');
