-- Lead intake. The widget inserts with the anon key; BEFORE INSERT validates the request, counts it
-- against its client address's hourly limit and decides everything else it can without a lock, AFTER
-- INSERT writes what was decided (owner alert, conversation, text-back), and at commit a deferred trigger
-- settles what every submission of the business shares: the widget's and business's hourly limits (PT429
-- undoes the whole submission) and the billing gate with its quota. Taken at commit, those rows are
-- locked for the commit alone instead of the whole submission and the client's round trip to COMMIT, so
-- one business's submissions run in parallel (issue 13: intake at most 3x a plain insert). PostgREST
-- reports an error raised at commit like any other. The lead row is the record of why. Conversations, the
-- outbox, opt-outs and the counters come in later migrations; the triggers reach them at run time.

create table public.leads (
  id uuid primary key default gen_random_uuid(),
  widget_id uuid references public.widgets (id) on delete set null,
  business_id uuid not null references public.businesses (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 100),
  phone text not null check (private.is_e164(phone)),
  email text check (email is null or (length(email) <= 254 and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$')),
  message text check (message is null or length(message) <= 2000),
  source_url text check (source_url is null or (length(source_url) <= 2048 and (source_url like 'http://%' or source_url like 'https://%'))),
  sms_consent boolean not null default false,
  honeypot text check (honeypot is null or honeypot = ''),
  consent_text text check (consent_text is null or length(consent_text) <= 1000),
  consent_at timestamptz,
  ip inet,  -- null when the platform gave no parseable client address (limited as the 'unknown' address)
  user_agent text check (user_agent is null or length(user_agent) <= 512),
  -- The form's language as the widget sent it (no default: the intake trigger needs to see it was not
  -- sent); the trigger then stores the language of the lead's own words (private.detect_locale).
  locale text not null check (locale in ('en', 'es')),
  reported_timezone text check (reported_timezone is null or private.is_place_timezone(reported_timezone)),
  zip text check (zip is null or (length(zip) = 5 and private.is_digits(zip))),
  timezones text[] not null default '{}' check (cardinality(timezones) <= 4),
  timezone_source text not null default 'business' check (timezone_source in ('device', 'zip', 'area_code', 'business')),
  region text check (region is null or (length(region) = 2 and translate(region, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '') = '')),
  is_duplicate boolean not null default false,
  duplicate_of uuid references public.leads (id) on delete set null,
  owner_alert_status text not null default 'queued'
    check (owner_alert_status in ('queued', 'sent', 'delivered', 'failed', 'skipped_duplicate', 'awaiting_verification',
                                  'skipped_suspicious', 'skipped_daily_cap')),
  followup_status text not null default 'not_texted'
    check (followup_status in ('started', 'deferred', 'not_texted')),
  not_texted_reason text check (not_texted_reason in (
    'no_consent', 'no_active_subscription', 'payment_overdue', 'followup_disabled', 'quota_exhausted', 'opted_out',
    'landline', 'invalid_phone', 'country_not_allowed', 'frequency_cap', 'duplicate',
    'no_sending_number', 'internal_error', 'conversation_open', 'premium_rate', 'non_geographic', 'fictional_number',
    'texted_today')),
  phone_status text not null default 'unverified' check (phone_status in ('unverified', 'mobile', 'invalid', 'landline')),
  delivery_problem text check (delivery_problem is null or length(delivery_problem) <= 500),
  created_at timestamptz not null default now(),
  constraint leads_consent_evidence check (not sms_consent or (consent_text is not null and consent_at is not null)),
  constraint leads_not_texted_has_reason check ((followup_status = 'not_texted') = (not_texted_reason is not null))
);
comment on table public.leads is 'One website form submission. Saved first, whatever happens next; business_id and the consent evidence (text, time, IP, user agent) are set by the intake trigger, never by the client.';
comment on column public.leads.not_texted_reason is 'Why the lead was not texted back (shown to the owner).';
comment on column public.leads.locale is 'The language texts to the lead start in: its form message''s (private.detect_locale), else the language of the form it filled.';
comment on column public.leads.consent_text is 'The exact consent text the lead was shown (the widget''s text in the form''s language) when it ticked the box.';
comment on column public.leads.reported_timezone is 'The time zone the visitor''s browser reported with the form (kept only when it names a place).';
comment on column public.leads.zip is 'A US ZIP code found in the form message, if any.';
comment on column public.leads.timezones is 'The zones whose local time decides when the lead may be texted (every one of them must be inside the window); empty: the business''s.';
comment on column public.leads.timezone_source is 'Which signal gave timezones: device (the browser), zip, area_code, or business (none of them known).';
comment on column public.leads.region is 'The lead''s state or province from its ZIP or area code, for state texting rules (FL, OK, MD).';
-- conversation_open: the phone already has an open conversation with the business (see private.leads_before_insert).
comment on column public.leads.is_duplicate is 'Same phone for the same business within its duplicate window: stored, but alerts nobody again.';
comment on column public.leads.owner_alert_status is 'queued -> sent -> delivered | failed; skipped_duplicate (a recent lead already alerted), awaiting_verification (held until the owner confirms their phone), skipped_suspicious (a premium-rate, fictional or impossible number: not worth waking the owner), skipped_daily_cap (the business''s daily SMS cap was reached).';
comment on column public.leads.ip is 'The client address the platform gave (private.client_address); null when it gave none or an unparseable one.';
comment on column public.leads.source_url is 'The page the form was on, without its query string and fragment (tokens and personal data ride there).';
comment on column public.leads.phone_status is 'invalid (Twilio 21211) or landline (21614/21635, "call, don''t text") once known; such numbers are not texted again.';
-- With id, the order of the dashboard's keyset pages (created_at desc, id desc) is the index order.
create index leads_business_id_created_at_idx on public.leads (business_id, created_at desc, id desc);
create index leads_business_id_phone_created_at_idx on public.leads (business_id, phone, created_at desc);
create index leads_widget_id_created_at_idx on public.leads (widget_id, created_at desc);
create index leads_ip_created_at_idx on public.leads (ip, created_at desc) where ip is not null;
create index leads_duplicate_of_idx on public.leads (duplicate_of) where duplicate_of is not null;

alter table public.leads enable row level security;
revoke all on public.leads from anon, authenticated;
grant insert (widget_id, name, phone, email, message, source_url, sms_consent, honeypot, locale, reported_timezone) on public.leads to anon;
grant select on public.leads to authenticated;
grant all on public.leads to service_role;

create policy "anon can submit a lead through a widget" on public.leads
  for insert to anon
  with check (widget_id is not null);
create policy "members can read their business leads" on public.leads
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

-- The dashboard follows leads live (Realtime applies RLS per subscriber).
alter publication supabase_realtime add table public.leads;

create or replace function private.request_headers()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce(nullif(current_setting('request.headers', true), '')::jsonb, '{}'::jsonb);
end
$$;
comment on function private.request_headers() is 'The HTTP request headers PostgREST put in request.headers ({} outside a request).';
revoke execute on function private.request_headers() from public;

-- The client's address, the one way it is decided. On Supabase, Cloudflare sets CF-Connecting-IP and the
-- API gateway X-Real-IP to the address the request came from, whatever the client sent (locally the
-- gateway plays both). X-Forwarded-For is never read: its first hops are whatever the client wrote. No
-- header, or one that does not parse, is the address 'unknown': limited like any other address, never a
-- way around the limits.
create or replace function private.client_address(p_headers jsonb)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  candidate text := btrim(coalesce(nullif(btrim(p_headers ->> 'cf-connecting-ip'), ''), p_headers ->> 'x-real-ip', ''));
begin
  candidate := lower(candidate);
  if length(candidate) not between 2 and 45 or translate(candidate, '0123456789abcdef:.', '') <> '' then
    return 'unknown';
  end if;
  -- an IPv4 client written as IPv6 (::ffff:192.0.2.1) is the IPv4 address, not one of an IPv6 /64
  if candidate like '::ffff:%' and translate(substr(candidate, 8), '0123456789.', '') = '' then
    candidate := substr(candidate, 8);
  end if;
  return host(candidate::inet);
exception when others then
  return 'unknown';
end
$$;
comment on function private.client_address(jsonb) is 'The client address from the headers the platform sets (CF-Connecting-IP, else X-Real-IP; never X-Forwarded-For), as text; ''unknown'' when missing or unparseable.';
revoke execute on function private.client_address(jsonb) from public;

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
comment on function private.raise_intake_error(text, text) is 'Refuses a submission with a message the form shows next to the field (P0001, detail "field: <name>").';
revoke execute on function private.raise_intake_error(text, text) from public;

create or replace function private.owner_alert_body(p_business public.businesses, p_lead public.leads)
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  return private.render_sms('owner_alert', p_business.default_locale, jsonb_build_object(
    'business', p_business.name,
    'name', p_lead.name,
    'phone', p_lead.phone,
    'message', coalesce(private.sms_single_line(p_lead.message, 600), private.render_sms('owner_alert.no_message', p_business.default_locale)),
    'source', coalesce(p_lead.source_url, private.render_sms('owner_alert.no_source', p_business.default_locale)),
    'call_link', 'tel:' || p_lead.phone,
    'text_link', 'sms:' || p_lead.phone), '{}', p_business.id)
    -- The lead's short code (late_texts migration): the owner answers by texting it back.
    || coalesce(E'\n' || private.render_sms('owner_alert.reply_hint', p_business.default_locale,
                                            jsonb_build_object('code', p_lead.short_code), '{}', p_business.id), '');
end
$$;
comment on function private.owner_alert_body(public.businesses, public.leads) is 'The owner alert in the owner''s language: who, the message, the page and one-tap tel:/sms: links (render_sms keeps each on its line).';
revoke execute on function private.owner_alert_body(public.businesses, public.leads) from public;

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
  address text := private.client_address(headers);
  earlier_lead_id uuid;
  known_phone_status text;
  texted_today boolean;
  number_refusal text;
  form_locale text;
  locality record;
  send_at timestamptz;
  reason text;
begin
  if new.widget_id is null then
    perform private.raise_intake_error('widget_id', 'widget_id is required.');
  end if;
  select * into widget from public.widgets w where w.id = new.widget_id;
  if widget.id is null or not widget.active then
    perform private.raise_intake_error('widget_id', 'This form is not accepting submissions (unknown or inactive widget).');
  end if;
  select * into business from public.businesses b where b.id = widget.business_id;

  -- Browsers always send Origin on a cross-site POST; requests from servers with the service key skip this
  -- and the rate limits.
  if caller_role in ('anon', 'authenticated') then
    if request_origin is null or not request_origin = any (widget.allowed_origins) then
      perform private.raise_intake_error('origin', format('Submissions from %s are not allowed for this form.', coalesce(request_origin, 'an unknown website')));
    end if;
    -- Rate limits (private.take_address_allowance explains why the address is counted here and the
    -- widget and business at commit).
    perform private.take_address_allowance(widget, address);
    perform private.check_form_limits(widget.id, false);
  end if;

  if coalesce(new.honeypot, '') <> '' then
    perform private.raise_intake_error('honeypot', 'The submission looks automated and was not accepted.');
  end if;
  new.honeypot := null;

  new.name := btrim(coalesce(new.name, ''));
  if length(new.name) = 0 or length(new.name) > 100 then
    perform private.raise_intake_error('name', 'name: enter your name (1 to 100 characters).');
  end if;
  new.phone := private.clean_phone(new.phone);
  if not private.is_e164(new.phone) then
    perform private.raise_intake_error('phone', 'phone: enter a phone number with country code, like +15125550123.');
  end if;
  new.email := nullif(btrim(coalesce(new.email, '')), '');
  if new.email is not null and (length(new.email) > 254 or new.email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$') then
    perform private.raise_intake_error('email', 'email: enter a valid email address or leave it empty.');
  end if;
  new.message := nullif(btrim(coalesce(new.message, '')), '');
  if length(new.message) > 2000 then
    perform private.raise_intake_error('message', 'message: keep the message under 2000 characters.');
  end if;
  if new.locale is not null and new.locale not in ('en', 'es') then
    perform private.raise_intake_error('locale', 'locale: the form language must be en or es.');
  end if;
  new.source_url := nullif(btrim(coalesce(new.source_url, '')), '');
  if new.source_url is not null and (length(new.source_url) > 2048 or not (new.source_url like 'http://%' or new.source_url like 'https://%')) then
    perform private.raise_intake_error('source_url', 'source_url: must be the http(s) address of the page (at most 2048 characters).');
  end if;
  -- The page, not what rides in its query string or fragment (tokens, e-mail addresses, ad click ids).
  new.source_url := split_part(split_part(new.source_url, '?', 1), '#', 1);

  -- Server-owned columns: whatever a trusted caller passed is replaced.
  new.id := coalesce(new.id, gen_random_uuid());
  new.business_id := widget.business_id;
  new.created_at := now();
  new.ip := case when address <> 'unknown' then address::inet end;
  -- The consent evidence is the text in the language the form was shown in.
  form_locale := coalesce(new.locale, business.default_locale);
  new.consent_text := case when new.sms_consent then private.widget_consent_text(widget, form_locale) end;
  new.consent_at := case when new.sms_consent then now() end;
  new.user_agent := left(headers ->> 'user-agent', 512);
  new.locale := private.detect_locale(new.message, form_locale);
  -- Where the lead is, for its quiet hours: a browser zone that is no place is dropped, not refused.
  new.reported_timezone := case when private.is_place_timezone(btrim(new.reported_timezone)) then btrim(new.reported_timezone) end;
  new.zip := private.form_zip(new.message);
  select * into locality from private.lead_locality(new.phone, new.zip, new.reported_timezone, business.timezone);
  new.timezones := locality.timezones;
  new.timezone_source := locality.timezone_source;
  new.region := locality.region;
  new.is_duplicate := false;
  new.duplicate_of := null;
  new.delivery_problem := null;

  -- What leadloop never texts (premium-rate, fictional, impossible, non-geographic numbers, countries the
  -- business does not serve). Premium-rate, fictional and impossible numbers are junk or abuse: the lead
  -- is kept, but the owner is not woken for it. A toll-free or foreign number may be a real customer the
  -- owner can call: they are alerted.
  number_refusal := private.texting_refusal(business, new.phone);
  new.owner_alert_status := case
    when business.twilio_number is null then 'failed'
    when number_refusal in ('premium_rate', 'fictional_number', 'invalid_phone') then 'skipped_suspicious'
    when business.owner_phone_verified_at is null then 'awaiting_verification'
    else 'queued' end;

  -- Two identical submissions racing must not both alert: serialize per business and phone. One look at
  -- this phone's leads answers the duplicate window, what is known about the number, and "texted today"
  -- (the business's own day).
  perform pg_advisory_xact_lock(hashtextextended(business.id::text || new.phone, 0));
  select (array_agg(l.id order by l.created_at desc)
            filter (where l.created_at > now() - make_interval(mins => business.duplicate_window_minutes)))[1],
         (array_agg(l.phone_status order by l.created_at desc) filter (where l.phone_status <> 'unverified'))[1],
         coalesce(bool_or(l.followup_status <> 'not_texted'
                          and l.created_at >= (date_trunc('day', now() at time zone business.timezone) at time zone business.timezone)), false)
    into earlier_lead_id, known_phone_status, texted_today
    from public.leads l
   where l.business_id = business.id and l.phone = new.phone;
  new.phone_status := coalesce(known_phone_status, 'unverified');

  new.followup_status := 'not_texted';
  if earlier_lead_id is not null then
    new.is_duplicate := true;
    new.duplicate_of := earlier_lead_id;
    new.owner_alert_status := 'skipped_duplicate';
    new.not_texted_reason := 'duplicate';
    return new;
  end if;

  -- The rules for texting the lead back, first failing rule wins. The billing gate comes last, at
  -- commit, because it locks the subscription row (see the header).
  send_at := (select n.send_at from private.next_lead_send_time(business, new, now()) n);
  if not new.sms_consent then
    reason := 'no_consent';
  elsif not business.followup_enabled then
    reason := 'followup_disabled';
  elsif exists (select 1 from public.conversations c
                 where c.business_id = business.id and c.lead_phone = new.phone and c.is_open) then
    reason := 'conversation_open';
  else
    reason := coalesce(number_refusal, case
      when private.is_opted_out(business.id, new.phone) then 'opted_out'
      when new.phone_status = 'invalid' then 'invalid_phone'
      when new.phone_status = 'landline' then 'landline'
      when texted_today then 'texted_today'
      when not private.may_text_unsolicited(new.phone, send_at) then 'frequency_cap'
      when business.twilio_number is null then 'no_sending_number'
    end);
  end if;
  new.not_texted_reason := reason;
  if reason is null then
    new.followup_status := case when send_at > now() then 'deferred' else 'started' end;
  end if;
  return new;
end
$$;
comment on function private.leads_before_insert() is 'Intake rules: widget active, Origin allowed, a lock-free look at the rate limits (PT429), honeypot, sizes, E.164, numbers never texted, duplicate window, the consent text in the form''s language, where the lead is (quiet hours), then the text-back decision recorded on the lead (the billing gate follows at commit, private.leads_settle_at_commit).';
revoke execute on function private.leads_before_insert() from public;

create or replace function private.leads_after_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  business public.businesses;
  conversation_id uuid;
  asks text[];
begin
  select * into business from public.businesses b where b.id = new.business_id;
  begin
    if new.owner_alert_status in ('queued', 'awaiting_verification') then
      -- enqueue_outbound holds it while the owner phone is unverified
      perform private.enqueue_outbound(business, 'owner_alert', business.owner_phone, private.owner_alert_body(business, new),
        p_lead_id => new.id, p_dedupe_key => 'owner_alert:' || new.id);
    end if;
    if new.followup_status in ('started', 'deferred') then
      insert into public.conversations (business_id, lead_id, lead_phone, status, current_locale)
      values (new.business_id, new.id, new.phone, 'pending', new.locale)
      returning id into conversation_id;
      asks := private.text_back_asks(new.message);
      perform private.enqueue_outbound(business, 'text_back', new.phone,
        private.render_sms('text_back', new.locale, jsonb_build_object(
          'first_name', new.name,
          'business', business.name,
          'question', private.render_sms('text_back.question', new.locale, '{}', asks, business.id)), '{}', business.id),
        p_lead_id => new.id, p_conversation_id => conversation_id, p_asks => asks,
        p_dedupe_key => 'text_back:' || conversation_id);
    end if;
  exception when others then
    -- The lead itself must survive anything downstream; the owner sees why nothing followed.
    raise warning 'leadloop: follow-up for lead % failed: % (%)', new.id, sqlerrm, sqlstate;
    update public.leads
       set followup_status = 'not_texted', not_texted_reason = 'internal_error',
           owner_alert_status = case when owner_alert_status in ('queued', 'awaiting_verification') then 'failed' else owner_alert_status end
     where id = new.id;
  end;

  return null;
end
$$;
comment on function private.leads_after_insert() is 'Writes what intake decided: the owner alert at once, and the conversation with its text-back (queued, or deferred to the lead''s texting window); the billing gate settles it at commit.';
revoke execute on function private.leads_after_insert() from public;

-- At commit (see the header): the widget's and business's hourly counts, then the billing gate and the quota. The lead's
-- follow-up is read again, as the AFTER INSERT left it (NEW is the row as inserted).
create or replace function private.leads_settle_at_commit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller_role text := coalesce(nullif(current_setting('role', true), 'none'), 'postgres');
  followup_status text;
  reason text;
begin
  select l.followup_status into followup_status from public.leads l where l.id = new.id;
  if followup_status is null then
    return null;
  end if;
  if caller_role in ('anon', 'authenticated') then
    perform private.check_form_limits(new.widget_id, true);
  end if;
  if followup_status in ('started', 'deferred') then
    reason := private.billing_gate(new.business_id);
    if reason is null then
      perform private.count_conversation(new.business_id);
    else
      -- Not texted after all: the conversation goes, and its text-back with it (messages cascade).
      delete from public.conversations c where c.lead_id = new.id;
      update public.leads l set followup_status = 'not_texted', not_texted_reason = reason where l.id = new.id;
    end if;
  end if;
  return null;
end
$$;
comment on function private.leads_settle_at_commit() is 'Deferred constraint trigger on leads: at commit, takes the widget''s and business''s hourly lead counts (PT429 undoes the submission) and the billing gate; a refused gate removes the conversation and its text-back and records why on the lead.';
revoke execute on function private.leads_settle_at_commit() from public;

create trigger leads_intake_rules before insert on public.leads
  for each row execute function private.leads_before_insert();
create trigger leads_intake_followup after insert on public.leads
  for each row execute function private.leads_after_insert();
create constraint trigger leads_settle_at_commit after insert on public.leads
  deferrable initially deferred
  for each row execute function private.leads_settle_at_commit();
