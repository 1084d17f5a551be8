-- A batch made only of texts to opted-out numbers used to come back empty, which tells sms-dispatch
-- "drained" while sendable messages still waited behind it. The claim now cancels every due text to
-- an opted-out number first (SKIP LOCKED, so concurrent claims never wait on each other) and then
-- leases a batch of what can really be sent.
create or replace function public.claim_outbound_messages(p_batch_size int default 25, p_lease_seconds int default 60)
returns table (id uuid, business_id uuid, lead_id uuid, conversation_id uuid, kind text, to_phone text,
               from_phone text, body text, attempts int)
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 500 then
    raise exception 'p_batch_size must be between 1 and 500' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds < 5 or p_lease_seconds > 3600 then
    raise exception 'p_lease_seconds must be between 5 and 3600' using errcode = '22023';
  end if;
  -- Answering the pending wake first: a transaction that skipped its own wake holds this row until
  -- it commits, so the claim below sees its messages.
  update private.dispatch_wake_state set wake_pending = false, last_claim_at = now() where singleton;

  -- The send-time opt-out check: due texts to a number the business may no longer text are canceled.
  with suppressed as (
    select m.id from public.messages m
     where m.status = 'queued' and m.send_after <= now() and m.next_attempt_at <= now() and m.kind <> 'opt_out_ack'
       and exists (select 1 from public.opt_outs o where o.business_id = m.business_id and o.phone = m.to_phone)
     for update of m skip locked
  )
  update public.messages m set status = 'canceled', status_reason = 'opted_out'
    from suppressed where m.id = suppressed.id;

  return query
  with due as (
    select m.id
      from public.messages m
     where m.status = 'queued' and m.send_after <= now() and m.next_attempt_at <= now()
       and (m.kind = 'opt_out_ack'
            or not exists (select 1 from public.opt_outs o where o.business_id = m.business_id and o.phone = m.to_phone))
     order by (m.kind = 'owner_alert') desc, m.created_at
     limit p_batch_size
     for update of m skip locked
  ), leased as (
    update public.messages m
       set status = 'sending',
           lease_until = now() + make_interval(secs => p_lease_seconds), attempts = m.attempts + 1
      from due
     where m.id = due.id
    returning m.id, m.business_id, m.lead_id, m.conversation_id, m.kind, m.to_phone, m.from_phone, m.body, m.attempts, m.created_at
  )
  select l.id, l.business_id, l.lead_id, l.conversation_id, l.kind, l.to_phone, l.from_phone, l.body, l.attempts
    from leased l
   order by (l.kind = 'owner_alert') desc, l.created_at;
end
$$;
comment on function public.claim_outbound_messages(int, int) is 'sms-dispatch: cancel due texts to opted-out numbers, then lease due queued messages (owner alerts first, then oldest) with FOR UPDATE SKIP LOCKED.';
revoke execute on function public.claim_outbound_messages(int, int) from public, anon, authenticated;
grant execute on function public.claim_outbound_messages(int, int) to service_role;
