-- Nothing a lead texts is lost, and the owner can answer from their phone.
--   * A text from a past lead with no open conversation (it closed, or never started), or in a
--     conversation a member took over, is relayed to the owner's phone ("Maria Lopez (lead, 2 d ago):
--     ..."), at most 3 relays per lead per hour (the rest wait on the dashboard, unread).
--   * Every lead has a 4-digit short code, shown in the owner alert. From the owner's confirmed phone,
--     "1234 <message>" replies to that lead from the business number (send_owner_reply's path) and
--     "1234 CALLED" (BOOKED, WON, LOST, SPAM, NEW) sets its status; an unknown code gets a helpful answer.
--   * Texts to a business's previous sending number reach the business (process_inbound_sms looks the
--     number up with private.business_for_number), so a STOP or a late reply there is applied.
-- Texts about leads to the owner's phone are kind owner_notice (outbox migration): held while the owner
-- phone is unconfirmed, never suppressed by an opt-out of the lead, counted by the daily cap.

alter table public.leads
  add column short_code text check (length(short_code) = 4 and left(short_code, 1) <> '0' and private.is_digits(short_code));
comment on column public.leads.short_code is 'Four digits the owner texts to the business number to answer this lead ("1234 On my way") or set its status ("1234 CALLED"); unique among the business''s leads of the last 90 days, the newest lead wins an older clash.';
create index leads_business_id_short_code_idx on public.leads (business_id, short_code, created_at desc);

-- A code none of the business's recent leads has (ten tries; a clash after that only shadows an old lead).
create or replace function private.leads_assign_short_code()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  code text;
begin
  for attempt in 1..10 loop
    code := (1000 + floor(random() * 9000))::int::text;
    exit when not exists (select 1 from public.leads l
                           where l.business_id = new.business_id and l.short_code = code
                             and l.created_at > now() - interval '90 days');
  end loop;
  new.short_code := code;
  return new;
end
$$;
comment on function private.leads_assign_short_code() is 'BEFORE INSERT on leads (after the intake rules set business_id): a 4-digit short_code not used by the business''s leads of the last 90 days.';
revoke execute on function private.leads_assign_short_code() from public;

-- Named to run after leads_intake_rules (BEFORE triggers fire in name order), which sets business_id.
create trigger leads_short_code before insert on public.leads
  for each row execute function private.leads_assign_short_code();

insert into private.sms_copy (key, locale, audience, asks, body, body_without_name) values
  ('owner_alert.reply_hint', 'en', 'owner', '{}', 'Reply from this number: text {code} and your message, or {code} CALLED', null),
  ('owner_alert.reply_hint', 'es', 'owner', '{}', 'Responda desde este número: envíe {code} y su mensaje, o {code} CALLED', null),
  ('owner_relay', 'en', 'owner', '{}', E'{name} (lead, {ago} ago): {message}\nReply: {code} and your message', null),
  ('owner_relay', 'es', 'owner', '{}', E'{name} (cliente, hace {ago}): {message}\nResponder: {code} y su mensaje', null),
  ('owner_command.unknown_code', 'en', 'owner', '{}', 'No lead has the code {code}. Text the 4-digit code from a lead alert and your message (1234 On my way), or the code and CALLED, BOOKED, WON, LOST or SPAM.', null),
  ('owner_command.unknown_code', 'es', 'owner', '{}', 'Ningún cliente tiene el código {code}. Envíe el código de 4 cifras de la alerta y su mensaje (1234 Voy en camino), o el código y CALLED, BOOKED, WON, LOST o SPAM.', null),
  ('owner_command.empty', 'en', 'owner', '{}', 'Add your text after the code: {code} On my way, or {code} CALLED, BOOKED, WON, LOST or SPAM.', null),
  ('owner_command.empty', 'es', 'owner', '{}', 'Escriba su mensaje después del código: {code} Voy en camino, o {code} CALLED, BOOKED, WON, LOST o SPAM.', null),
  ('owner_command.status_set', 'en', 'owner', '{}', '{name} ({code}) is now {status}.', null),
  ('owner_command.status_set', 'es', 'owner', '{}', '{name} ({code}) ahora está: {status}.', null),
  ('owner_command.not_sent', 'en', 'owner', '{}', 'Not sent to {name} ({code}): {reason}.', null),
  ('owner_command.not_sent', 'es', 'owner', '{}', 'No enviado a {name} ({code}): {reason}.', null),
  ('owner_command.deferred', 'en', 'owner', '{}', 'Quiet hours for {name} ({code}): your text goes at {time} their time.', null),
  ('owner_command.deferred', 'es', 'owner', '{}', 'Horario de silencio de {name} ({code}): su mensaje sale a las {time} hora local.', null);

-- "5 min", "3 h", "2 d": how long ago, for the relay.
create or replace function private.ago_text(p_since timestamptz, p_now timestamptz default now())
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  minutes int := greatest(1, floor(extract(epoch from p_now - p_since) / 60)::int);
begin
  return case when minutes < 60 then minutes || ' min' when minutes < 2880 then (minutes / 60) || ' h' else (minutes / 1440) || ' d' end;
end
$$;
comment on function private.ago_text(timestamptz, timestamptz) is 'How long before p_now p_since was, as "5 min", "3 h" or "2 d" (the same in en and es).';
revoke execute on function private.ago_text(timestamptz, timestamptz) from public;

-- The business a text to p_phone belongs to: the one sending from it now, else the one that used to.
create or replace function private.business_for_number(p_phone text)
returns public.businesses
language plpgsql
stable
set search_path = ''
as $$
declare
  business public.businesses;
begin
  select * into business from public.businesses b where b.twilio_number = p_phone;
  if business.id is null then
    select b.* into business from public.previous_sending_numbers p join public.businesses b on b.id = p.business_id
     where p.phone_number = p_phone;
  end if;
  return business;
end
$$;
comment on function private.business_for_number(text) is 'The business that texts from p_phone, else the business that sent from it before (previous_sending_numbers); a row of nulls for a number nobody uses.';
revoke execute on function private.business_for_number(text) from public;

-- The relay: at most 3 per lead per hour. Null when none was sent (over the limit, or no lead).
create or replace function private.relay_late_text(p_business public.businesses, p_lead_id uuid, p_message_id uuid, p_body text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  lead public.leads;
begin
  select * into lead from public.leads l where l.id = p_lead_id;
  if lead.id is null or (select count(*) from public.messages m
                          where m.lead_id = lead.id and m.kind = 'owner_notice' and m.dedupe_key like 'relay:%'
                            and m.created_at > now() - interval '1 hour') >= 3 then
    return null;
  end if;
  return private.enqueue_outbound(p_business, 'owner_notice', p_business.owner_phone,
    private.render_sms('owner_relay', p_business.default_locale, jsonb_build_object(
      'name', lead.name, 'ago', private.ago_text(lead.created_at), 'code', lead.short_code,
      'message', coalesce(private.sms_single_line(p_body, 600), '(no text)')), '{}', p_business.id),
    p_lead_id => lead.id, p_dedupe_key => 'relay:' || p_message_id);
end
$$;
comment on function private.relay_late_text(public.businesses, uuid, uuid, text) is 'Texts the owner a lead''s text that no conversation answers (cleaned to one line, with the lead''s short code): at most 3 relays per lead per hour, once per inbound message.';
revoke execute on function private.relay_late_text(public.businesses, uuid, uuid, text) from public;

-- A text from the owner's confirmed phone (or a member's confirmed alert phone) that starts with 4 digits
-- is a command; null when it is not one (it is then handled as any text). The answer, if any, goes back
-- to that phone as owner_notice (member_notice to a member's phone).
create or replace function private.apply_owner_command(p_business public.businesses, p_raw private.inbound_sms)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  parts text[] := regexp_match(coalesce(p_raw.body, ''), '^[[:space:]]*([0-9]{4})(?:[[:space:]]+(.*))?[[:space:]]*$', 's');
  code text := parts[1];
  rest text := btrim(coalesce(parts[2], ''));
  word text := upper(regexp_replace(rest, '[[:punct:][:space:]]+$', ''));
  new_status text;
  lead public.leads;
  sender_id uuid;
  answer_kind text;
  reply_id uuid;
  reply public.messages;
  locale text := p_business.default_locale;
  answer text;
begin
  if code is null then
    return null;
  end if;
  -- Who is texting: the confirmed owner phone (acting as the first owner), or a team member's confirmed
  -- alert phone (member_alert_phones migration; a removed member's phone is nobody's any more).
  if p_raw.from_phone = p_business.owner_phone and p_business.owner_phone_verified_at is not null then
    answer_kind := 'owner_notice';
    select m.user_id into sender_id from public.business_members m
     where m.business_id = p_business.id and m.role = 'owner' order by m.created_at limit 1;
  else
    answer_kind := 'member_notice';
    select m.user_id into sender_id from public.business_members m
     where m.business_id = p_business.id and m.alert_phone_verified_at is not null and m.alert_phone = p_raw.from_phone
     order by (m.role = 'owner') desc, m.created_at limit 1;
    if sender_id is null then
      return null;
    end if;
  end if;
  select * into lead from public.leads l
   where l.business_id = p_business.id and l.short_code = code order by l.created_at desc limit 1;
  new_status := case word when 'CALLED' then 'contacted' when 'CONTACTED' then 'contacted' when 'BOOKED' then 'booked'
                      when 'WON' then 'won' when 'LOST' then 'lost' when 'SPAM' then 'spam' when 'NEW' then 'new' end;

  if lead.id is null or rest = '' then
    answer := private.render_sms(case when lead.id is null then 'owner_command.unknown_code' else 'owner_command.empty' end,
                                 locale, jsonb_build_object('code', code), '{}', p_business.id);
  elsif new_status is not null then
    -- The history names the sender and "by text" (private.leads_record_history reads leadloop.actor_id).
    perform set_config('leadloop.actor_id', coalesce(sender_id::text, ''), true);
    update public.leads l set status = new_status where l.id = lead.id;
    perform set_config('leadloop.actor_id', '', true);
    answer := private.render_sms('owner_command.status_set', locale,
      jsonb_build_object('name', lead.name, 'code', code, 'status', initcap(new_status)), '{}', p_business.id);
  else
    begin
      reply_id := private.queue_owner_reply(lead, rest, sender_id);
      select * into reply from public.messages m where m.id = reply_id;
      if reply.status = 'deferred' then
        answer := private.render_sms('owner_command.deferred', locale, jsonb_build_object('name', lead.name, 'code', code,
          'time', to_char(reply.send_after at time zone coalesce(lead.timezones[1], p_business.timezone), 'FMHH12:MI AM')), '{}', p_business.id);
      end if;
    exception when sqlstate '55000' or sqlstate '22023' then
      answer := private.render_sms('owner_command.not_sent', locale, jsonb_build_object('name', lead.name, 'code', code,
        'reason', case when sqlstate = '22023' then 'the text is too long' else replace(sqlerrm, 'this lead cannot be texted: ', '') end),
        '{}', p_business.id);
    end;
  end if;
  if answer is not null then
    perform private.enqueue_outbound(p_business, answer_kind, p_raw.from_phone, answer,
      p_lead_id => lead.id, p_dedupe_key => 'command:' || p_raw.message_sid);
  end if;
  return case when lead.id is null or rest = '' then 'owner_command_unknown' when new_status is not null then 'owner_command_status'
              when reply_id is not null then 'owner_command_reply' else 'owner_command_refused' end;
end
$$;
comment on function private.apply_owner_command(public.businesses, private.inbound_sms) is 'A text from the business''s confirmed owner phone, or a member''s confirmed alert phone, starting with a lead''s 4-digit code (the answer goes back to that phone): "<code> <message>" replies to the lead (private.queue_owner_reply), "<code> CALLED|BOOKED|WON|LOST|SPAM|NEW" sets its status; unknown codes get a helpful answer. Null when the text is not a command.';
revoke execute on function private.apply_owner_command(public.businesses, private.inbound_sms) from public;
