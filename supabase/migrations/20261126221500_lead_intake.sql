-- Lead intake. BEFORE INSERT validates the request and decides everything; AFTER INSERT only writes
-- what was decided (owner alert, conversation, text-back), so the lead row is the record of why.

create or replace function private.request_headers()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(nullif(current_setting('request.headers', true), '')::jsonb, '{}'::jsonb)
$$;

-- The client's address as PostgREST sees it behind the gateway. Headers set by the edge proxy
-- (CF-Connecting-IP, X-Real-IP) come first because a client can prepend its own X-Forwarded-For
-- hops; the first X-Forwarded-For hop is the fallback. Unparseable values count as unknown.
create or replace function private.request_ip(p_headers jsonb)
returns inet
language plpgsql
immutable
set search_path = ''
as $$
declare
  candidate text := btrim(split_part(coalesce(p_headers ->> 'cf-connecting-ip', p_headers ->> 'x-real-ip',
                                              p_headers ->> 'x-forwarded-for', ''), ',', 1));
begin
  if candidate = '' then
    return null;
  end if;
  return candidate::inet;
exception when others then
  return null;
end
$$;

create or replace function private.raise_intake_error(p_field text, p_message text)
returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception using errcode = 'P0001', message = p_message, detail = 'field: ' || p_field,
    hint = 'The form was not saved; fix the field and submit again.';
end
$$;

-- Someone who fills the form again after the duplicate window, while their conversation is still
-- open, is already being talked to: the owner is alerted about the new submission, but no second
-- conversation and no second text-back start (not_texted_reason 'conversation_open').
create or replace function private.leads_before_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller_role text := coalesce(nullif(current_setting('role', true), 'none'), 'postgres');
  headers jsonb := private.request_headers();
  request_origin text := lower(rtrim(headers ->> 'origin', '/'));
  widget public.widgets;
  business public.businesses;
  subscription public.subscriptions;
  earlier_lead_id uuid;
  known_phone_status text;
  recent_count integer;
  send_at timestamptz;
begin
  if new.widget_id is null then
    perform private.raise_intake_error('widget_id', 'widget_id is required.');
  end if;
  select * into widget from public.widgets w where w.id = new.widget_id;
  if widget.id is null or not widget.active then
    perform private.raise_intake_error('widget_id', 'This form is not accepting submissions (unknown or inactive widget).');
  end if;
  select * into business from public.businesses b where b.id = widget.business_id;

  -- Browsers always send Origin on a cross-site POST; requests from servers with the service key skip this.
  if caller_role in ('anon', 'authenticated') and (request_origin is null or not request_origin = any (widget.allowed_origins)) then
    perform private.raise_intake_error('origin', format('Submissions from %s are not allowed for this form.', coalesce(request_origin, 'an unknown website')));
  end if;

  if coalesce(new.honeypot, '') <> '' then
    perform private.raise_intake_error('honeypot', 'The submission looks automated and was not accepted.');
  end if;
  new.honeypot := null;

  new.name := btrim(coalesce(new.name, ''));
  if length(new.name) = 0 or length(new.name) > 100 then
    perform private.raise_intake_error('name', 'name: enter your name (1 to 100 characters).');
  end if;
  new.phone := regexp_replace(coalesce(new.phone, ''), '[[:space:]().-]', '', 'g');
  if not private.is_e164(new.phone) then
    perform private.raise_intake_error('phone', 'phone: enter a phone number with country code, like +15551234567.');
  end if;
  new.email := nullif(btrim(coalesce(new.email, '')), '');
  if new.email is not null and (length(new.email) > 254 or new.email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$') then
    perform private.raise_intake_error('email', 'email: enter a valid email address or leave it empty.');
  end if;
  new.message := nullif(btrim(coalesce(new.message, '')), '');
  if length(new.message) > 2000 then
    perform private.raise_intake_error('message', 'message: keep the message under 2000 characters.');
  end if;
  new.source_url := nullif(btrim(coalesce(new.source_url, '')), '');
  if new.source_url is not null and (length(new.source_url) > 2048 or new.source_url !~ '^https?://') then
    perform private.raise_intake_error('source_url', 'source_url: must be the http(s) address of the page (at most 2048 characters).');
  end if;

  -- Rate limits count accepted leads in the last hour; bounded by LIMIT so each check costs at most the limit.
  new.ip := private.request_ip(headers);
  if new.ip is not null then
    select count(*) into recent_count from (
      select 1 from public.leads l
       where l.ip = new.ip and l.created_at > now() - interval '1 hour'
       limit widget.max_leads_per_ip_per_hour) as recent;
    if recent_count >= widget.max_leads_per_ip_per_hour then
      raise exception using errcode = 'PT429',
        message = 'Too many requests from your network. Please wait a little while and try again, or call us.';
    end if;
  end if;
  select count(*) into recent_count from (
    select 1 from public.leads l
     where l.widget_id = widget.id and l.created_at > now() - interval '1 hour'
     limit widget.max_leads_per_hour) as recent;
  if recent_count >= widget.max_leads_per_hour then
    raise exception using errcode = 'PT429',
      message = 'This form is receiving too many requests right now. Please try again in a few minutes, or call us.';
  end if;

  -- Server-owned columns: whatever a trusted caller passed is replaced.
  new.id := coalesce(new.id, gen_random_uuid());
  new.business_id := widget.business_id;
  new.created_at := now();
  new.consent_text := case when new.sms_consent then widget.consent_text end;
  new.consent_at := case when new.sms_consent then now() end;
  new.user_agent := left(headers ->> 'user-agent', 512);
  new.locale := private.guess_locale(new.message, business.default_locale);
  new.is_duplicate := false;
  new.duplicate_of := null;
  new.delivery_problem := null;
  new.owner_alert_status := case when business.twilio_number is null then 'failed' else 'queued' end;

  -- Two identical submissions racing must not both alert: serialize per business and phone.
  perform pg_advisory_xact_lock(hashtextextended(business.id::text || new.phone, 0));
  select l.id into earlier_lead_id from public.leads l
   where l.business_id = business.id and l.phone = new.phone
     and l.created_at > now() - make_interval(mins => business.duplicate_window_minutes)
   order by l.created_at desc limit 1;
  select l.phone_status into known_phone_status from public.leads l
   where l.business_id = business.id and l.phone = new.phone and l.phone_status <> 'unverified'
   order by l.created_at desc limit 1;
  new.phone_status := coalesce(known_phone_status, 'unverified');

  new.followup_status := 'not_texted';
  if earlier_lead_id is not null then
    new.is_duplicate := true;
    new.duplicate_of := earlier_lead_id;
    new.owner_alert_status := 'skipped_duplicate';
    new.not_texted_reason := 'duplicate';
    return new;
  end if;

  -- The rules for texting the lead back, first failing rule wins. The subscription row lock (taken only
  -- when the quota can matter) makes the quota counter exact under concurrency: it is held until this
  -- insert commits, and AFTER INSERT increments the counter.
  if new.sms_consent and business.followup_enabled then
    select * into subscription from public.subscriptions s where s.business_id = business.id for update;
  end if;
  new.not_texted_reason := case
    when not new.sms_consent then 'no_consent'
    when not business.followup_enabled then 'followup_disabled'
    when subscription.id is null or subscription.status not in ('trialing', 'active')
      or now() < subscription.current_period_start or now() >= subscription.current_period_end then 'no_active_subscription'
    when exists (select 1 from public.conversations c
                  where c.business_id = business.id and c.lead_phone = new.phone
                    and c.status in ('pending', 'awaiting_reply', 'active')) then 'conversation_open'
    when (case when subscription.usage_period_start = subscription.current_period_start then subscription.conversations_used else 0 end)
         >= subscription.conversation_quota then 'quota_exhausted'
    when exists (select 1 from public.opt_outs o where o.business_id = business.id and o.phone = new.phone) then 'opted_out'
    when new.phone_status = 'invalid' then 'invalid_phone'
    when new.phone_status = 'landline' then 'landline'
    when not exists (select 1 from unnest(business.allowed_calling_codes) code where new.phone like '+' || code || '%') then 'country_not_allowed'
    when (select count(*) from public.messages m
           where m.to_phone = new.phone and m.kind in ('text_back', 'nudge')
             and m.status not in ('canceled', 'failed')
             and m.send_after > now() - interval '24 hours') >= 3 then 'frequency_cap'
    when business.twilio_number is null then 'no_sending_number'
  end;
  if new.not_texted_reason is null then
    send_at := private.next_allowed_send_time(now(), business.timezone, business.quiet_hours_start, business.quiet_hours_end);
    new.followup_status := case when send_at > now() then 'deferred' else 'started' end;
  end if;
  return new;
end
$$;
comment on function private.leads_before_insert() is 'Intake rules: widget active, Origin allowed, honeypot empty, sizes, E.164, rate limits (PT429), duplicate window, then the text-back decision recorded on the lead.';

create or replace function private.leads_after_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  business public.businesses;
  conversation_id uuid;
  send_at timestamptz;
begin
  select * into business from public.businesses b where b.id = new.business_id;
  begin
    if new.owner_alert_status = 'queued' then
      insert into public.messages (business_id, lead_id, direction, kind, to_phone, from_phone, body, status, dedupe_key)
      values (new.business_id, new.id, 'outbound', 'owner_alert', business.owner_phone, business.twilio_number,
              private.owner_alert_body(business.owner_alert_template, business.name, new), 'queued',
              'owner_alert:' || new.id);
    end if;
    if new.followup_status in ('started', 'deferred') then
      send_at := private.next_allowed_send_time(now(), business.timezone, business.quiet_hours_start, business.quiet_hours_end);
      insert into public.conversations (business_id, lead_id, lead_phone, status, current_locale)
      values (new.business_id, new.id, new.phone, 'pending', new.locale)
      returning id into conversation_id;
      update public.subscriptions s
         set conversations_used = case when s.usage_period_start = s.current_period_start then s.conversations_used + 1 else 1 end,
             usage_period_start = s.current_period_start
       where s.business_id = new.business_id;
      insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body,
                                   status, send_after, next_attempt_at, dedupe_key)
      values (new.business_id, new.id, conversation_id, 'outbound', 'text_back', new.phone, business.twilio_number,
              private.text_back_body(new.locale, business.name, new.name, new.message),
              case when send_at > now() then 'deferred' else 'queued' end, send_at, send_at,
              'text_back:' || conversation_id);
    end if;
  exception when others then
    -- The lead itself must survive anything downstream; the owner sees why nothing followed.
    raise warning 'leadloop: follow-up for lead % failed: % (%)', new.id, sqlerrm, sqlstate;
    update public.leads
       set followup_status = 'not_texted', not_texted_reason = 'internal_error',
           owner_alert_status = case when owner_alert_status = 'queued' then 'failed' else owner_alert_status end
     where id = new.id;
  end;
  return null;
end
$$;
comment on function private.leads_after_insert() is 'Writes what intake decided: the owner alert at once, and the conversation with its text-back (queued, or deferred to the quiet-hours window).';

create trigger leads_intake_rules before insert on public.leads
  for each row execute function private.leads_before_insert();
create trigger leads_intake_followup after insert on public.leads
  for each row execute function private.leads_after_insert();
