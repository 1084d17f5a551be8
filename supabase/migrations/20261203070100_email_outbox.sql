-- The email outbox. Every email is one row, written only by private.enqueue_email (rendered there from
-- private.email_templates, exactly once per dedupe key) and sent by the send-email edge function:
-- woken at commit through pg_net (coalesced, like sms-dispatch), it leases due rows (SKIP LOCKED),
-- sends each through the configured provider (SMTP or HTTP) and records the outcome here. A failure the
-- provider calls temporary is retried with growing backoff; the last attempt or a permanent refusal
-- dead-letters the row and tells the owner on the dashboard. The minute sweep returns rows whose worker
-- vanished, wakes send-email for retries that came due, and forgets old mail after 30 days.
-- Functions that decide by the clock take p_now, so tests move time instead of waiting.

create table private.email_outbox (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  to_address text not null check (private.is_email(to_address)),
  to_user_id uuid references auth.users (id) on delete set null,
  template text not null check (length(template) <= 100),
  locale text not null check (locale in ('en', 'es')),
  subject text not null check (length(subject) between 1 and 250 and subject !~ '[\r\n]'),
  body_text text not null check (length(body_text) between 1 and 100000),
  body_html text not null check (length(body_html) between 1 and 200000),
  status text not null default 'queued' check (status in ('queued', 'sending', 'sent', 'failed')),
  status_reason text check (length(status_reason) <= 500),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 10 check (max_attempts between 1 and 30),
  next_attempt_at timestamptz not null default now(),
  lease_until timestamptz,
  last_error text check (length(last_error) <= 1000),
  provider_message_id text check (length(provider_message_id) <= 300),
  dedupe_key text not null unique check (length(dedupe_key) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz,
  constraint email_outbox_sending_has_lease check ((status = 'sending') = (lease_until is not null))
);
comment on table private.email_outbox is 'Every email leadloop sends, rendered: queued -> sending (leased) -> sent, or failed (dead letter). Exactly one row per dedupe_key. Written by private.enqueue_email, sent by send-email, forgotten 30 days after it was queued (settled by then).';
comment on column private.email_outbox.dedupe_key is 'Names the occurrence and the recipient (lead_alert:<lead>:<user>, invitation:<id>): enqueue_email with a used key sends nothing.';
comment on column private.email_outbox.next_attempt_at is 'Backoff: a retried email is not claimed before this time.';
create index email_outbox_queued_idx on private.email_outbox (next_attempt_at) where status = 'queued';
create index email_outbox_sending_lease_idx on private.email_outbox (lease_until) where status = 'sending';
create index email_outbox_settled_idx on private.email_outbox (created_at) where status in ('sent', 'failed');
create index email_outbox_business_id_idx on private.email_outbox (business_id, created_at desc);
create index email_outbox_to_user_id_idx on private.email_outbox (to_user_id) where to_user_id is not null;
alter table private.email_outbox enable row level security;
revoke all on private.email_outbox from public, anon, authenticated;

create trigger email_outbox_touch_updated_at before update on private.email_outbox
  for each row execute function private.touch_updated_at();

-- The documented API for any feature that sends email (team invitations, alerts, notifications):
--   select private.enqueue_email(business_id, 'someone@example.com', 'team_invitation',
--                                jsonb_build_object('inviter', ..., 'role_name', ..., 'accept_url', ..., 'expires', ...),
--                                'invitation:' || invitation_id);
-- {business}, {dashboard_url} and {preferences_url} are filled in for every template; p_vars supplies
-- the rest (and may override those). The language is the business's unless p_locale says otherwise.
-- It renders at once, so a missing value, an unknown template or a bad address is an error in the
-- caller's transaction (22023), never a dead letter later. Returns the email's id, or null when the
-- dedupe key was already used (nothing is sent twice). The row wakes send-email when it commits.
create or replace function private.enqueue_email(
  p_business_id uuid, p_to text, p_template text, p_vars jsonb, p_dedupe_key text,
  p_user_id uuid default null, p_locale text default null)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  business public.businesses;
  address text := lower(btrim(coalesce(p_to, '')));
  locale text;
  rendered record;
  email_id uuid;
begin
  if p_dedupe_key is null or length(p_dedupe_key) not between 1 and 200 then
    raise exception 'p_dedupe_key must be 1 to 200 characters' using errcode = '22023';
  end if;
  if exists (select 1 from private.email_outbox e where e.dedupe_key = p_dedupe_key) then
    return null;
  end if;
  if not private.is_email(address) then
    raise exception 'not an email address: %', left(p_to, 254) using errcode = '22023';
  end if;
  select * into business from public.businesses b where b.id = p_business_id;
  if business.id is null then
    raise exception 'business % not found', p_business_id using errcode = 'P0002';
  end if;
  locale := coalesce(p_locale, business.default_locale);
  select * into rendered from private.render_email(p_template, locale,
    jsonb_build_object('business', business.name, 'dashboard_url', private.dashboard_url('/'),
                       'preferences_url', private.dashboard_url('/settings/email'))
    || coalesce(p_vars, '{}'::jsonb));
  insert into private.email_outbox (business_id, to_address, to_user_id, template, locale, subject, body_text, body_html, dedupe_key)
  values (business.id, address, p_user_id, p_template, locale, rendered.subject, rendered.body_text, rendered.body_html, p_dedupe_key)
  on conflict (dedupe_key) do nothing
  returning id into email_id;
  return email_id;
end
$$;
comment on function private.enqueue_email(uuid, text, text, jsonb, text, uuid, text) is 'Queues one email to p_to rendered from template p_template (private.email_templates) with p_vars, in the business''s language (or p_locale), exactly once per p_dedupe_key (null when already queued). Errors (22023) on a bad address, unknown template or missing value.';
revoke execute on function private.enqueue_email(uuid, text, text, jsonb, text, uuid, text) from public;

-- Waking send-email, coalesced as sms-dispatch is (private.wake_function, outbox migration); a wake no claim
-- answered within 30 s is posted again.
insert into private.function_wakes (function_name, lost_after) values ('send-email', interval '30 seconds');

create or replace function private.email_outbox_wake_at_commit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from private.email_outbox e where e.id = new.id and e.status = 'queued' and e.next_attempt_at <= now()) then
    perform private.wake_once_at_commit('send-email');
  end if;
  return null;
end
$$;
comment on function private.email_outbox_wake_at_commit() is 'Deferred constraint trigger: at commit, one coalesced send-email wake per transaction that left an email due now.';
revoke execute on function private.email_outbox_wake_at_commit() from public;

create constraint trigger email_outbox_wake_at_commit
  after insert or update of status on private.email_outbox
  deferrable initially deferred
  for each row
  when (new.status = 'queued')
  execute function private.email_outbox_wake_at_commit();

create or replace function public.claim_emails(p_batch_size int default 10, p_lease_seconds int default 60, p_now timestamptz default now())
returns table (id uuid, to_address text, subject text, body_text text, body_html text, attempt int)
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 100 then
    raise exception 'p_batch_size must be between 1 and 100' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds < 10 or p_lease_seconds > 900 then
    raise exception 'p_lease_seconds must be between 10 and 900' using errcode = '22023';
  end if;
  if p_now is null then
    raise exception 'p_now must be a time' using errcode = '22023';
  end if;
  perform private.answer_wake('send-email');

  return query
  with due as (
    select e.id from private.email_outbox e
     where e.status = 'queued' and e.next_attempt_at <= p_now
     order by e.next_attempt_at
     limit p_batch_size
     for update skip locked
  ), leased as (
    update private.email_outbox e
       set status = 'sending', lease_until = p_now + make_interval(secs => p_lease_seconds), attempts = e.attempts + 1
      from due
     where e.id = due.id
    returning e.id, e.to_address, e.subject, e.body_text, e.body_html, e.attempts, e.next_attempt_at
  )
  select l.id, l.to_address, l.subject, l.body_text, l.body_html, l.attempts from leased l order by l.next_attempt_at;
end
$$;
comment on function public.claim_emails(int, int, timestamptz) is 'send-email: lease due queued emails (SKIP LOCKED, oldest due first) with what sending needs; each claim is one attempt.';
revoke execute on function public.claim_emails(int, int, timestamptz) from public, anon, authenticated;
grant execute on function public.claim_emails(int, int, timestamptz) to service_role;

create or replace function public.mark_email_sent(p_email_id uuid, p_provider_message_id text default null, p_now timestamptz default now())
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  update private.email_outbox e
     set status = 'sent', sent_at = coalesce(p_now, now()), lease_until = null, last_error = null,
         provider_message_id = left(p_provider_message_id, 300)
   where e.id = p_email_id and e.status = 'sending';
  return found;
end
$$;
comment on function public.mark_email_sent(uuid, text, timestamptz) is 'send-email: the provider accepted the email. False when it was no longer sending (its lease ran out and the sweep took it back).';
revoke execute on function public.mark_email_sent(uuid, text, timestamptz) from public, anon, authenticated;
grant execute on function public.mark_email_sent(uuid, text, timestamptz) to service_role;

-- The wait after the n-th failed attempt: 30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h; with the
-- default 10 attempts an email is given up about 10 hours after its first try (a lead is stale by then).
create or replace function private.email_retry_delay(p_attempts integer)
returns interval
language sql
immutable
set search_path = ''
as $$
  select (array['30 seconds', '2 minutes', '10 minutes', '30 minutes', '1 hour', '2 hours']::interval[])
         [least(greatest(coalesce(p_attempts, 1), 1), 6)]
$$;
comment on function private.email_retry_delay(integer) is 'Backoff after the n-th failed email attempt: 30 s, 2 min, 10 min, 30 min, 1 h, then 2 h.';
revoke execute on function private.email_retry_delay(integer) from public;

-- A dead letter is one row on the owner's attention list per address and day, never an email (the
-- mail is what fails), and never critical (critical notifications are emailed).
create or replace function private.email_dead_lettered(p_email private.email_outbox, p_now timestamptz)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.notify_owner(p_email.business_id, 'email.dead_letter',
    'email.dead_letter:' || p_email.to_address || ':' || to_char(p_now at time zone 'UTC', 'YYYY-MM-DD'),
    'Emails to ' || p_email.to_address || ' are not being delivered',
    format('An email to %s (%s) could not be sent after %s attempt(s): %s. Alerts still reach you by text and on this dashboard.',
           p_email.to_address, p_email.template, p_email.attempts, coalesce(p_email.last_error, 'unknown error')),
    'warning',
    jsonb_build_object('email_id', p_email.id, 'to', p_email.to_address, 'template', p_email.template,
                       'attempts', p_email.attempts, 'error', p_email.last_error));
end
$$;
comment on function private.email_dead_lettered(private.email_outbox, timestamptz) is 'Tells the owner (warning, once per address and day) that an email was given up.';
revoke execute on function private.email_dead_lettered(private.email_outbox, timestamptz) from public;

create or replace function public.mark_email_failed(p_email_id uuid, p_error text, p_retryable boolean, p_now timestamptz default now())
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  email private.email_outbox;
  give_up boolean;
begin
  select * into email from private.email_outbox e where e.id = p_email_id for update;
  if email.id is null then
    raise exception 'email % not found', p_email_id using errcode = 'P0002';
  end if;
  if email.status <> 'sending' then
    return email.status;  -- settled meanwhile (or taken back by the sweep): nothing to undo
  end if;
  give_up := not coalesce(p_retryable, false) or email.attempts >= email.max_attempts;
  update private.email_outbox e
     set status = case when give_up then 'failed' else 'queued' end,
         lease_until = null,
         last_error = left(coalesce(p_error, 'unknown error'), 1000),
         status_reason = case when not give_up then null
                              when coalesce(p_retryable, false) then 'dead_letter: gave up after ' || email.attempts || ' attempts'
                              else 'dead_letter: refused by the mail provider' end,
         next_attempt_at = case when give_up then e.next_attempt_at else coalesce(p_now, now()) + private.email_retry_delay(email.attempts) end
   where e.id = email.id
  returning * into email;
  if give_up then
    perform private.email_dead_lettered(email, coalesce(p_now, now()));
  end if;
  return email.status;
end
$$;
comment on function public.mark_email_failed(uuid, text, boolean, timestamptz) is 'send-email: a send failed. Returns queued (retried after private.email_retry_delay) or failed (permanent refusal or last attempt: a dead letter, and the owner told).';
revoke execute on function public.mark_email_failed(uuid, text, boolean, timestamptz) from public, anon, authenticated;
grant execute on function public.mark_email_failed(uuid, text, boolean, timestamptz) to service_role;

create or replace function private.email_sweep(p_now timestamptz default now(), p_batch_size int default 500)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  email private.email_outbox;
  leases_released integer := 0;
  dead_lettered integer := 0;
  purged integer := 0;
  due boolean;
  woken boolean := false;
begin
  -- A worker that vanished mid-send: the attempt counts; back to the queue, or a dead letter on the last one.
  for email in
    with expired as (
      select e.id from private.email_outbox e
       where e.status = 'sending' and e.lease_until < p_now
       order by e.lease_until limit p_batch_size
       for update skip locked
    )
    update private.email_outbox e
       set status = case when e.attempts >= e.max_attempts then 'failed' else 'queued' end,
           status_reason = case when e.attempts >= e.max_attempts then 'dead_letter: lease expired on the last attempt' else 'lease_expired' end,
           last_error = coalesce(e.last_error, 'the worker stopped before recording the outcome'),
           lease_until = null, next_attempt_at = p_now
      from expired where e.id = expired.id
    returning e.*
  loop
    leases_released := leases_released + 1;
    if email.status = 'failed' then
      dead_lettered := dead_lettered + 1;
      perform private.email_dead_lettered(email, p_now);
    end if;
  end loop;

  -- Mail holds leads' words: settled rows are kept 30 days for support, then forgotten (an email settles
  -- within about 10 hours, so its age is what counts).
  with old as (
    select e.id from private.email_outbox e
     where e.status in ('sent', 'failed') and e.created_at < p_now - interval '30 days'
     limit p_batch_size
  )
  delete from private.email_outbox e using old where e.id = old.id;
  get diagnostics purged = row_count;

  due := exists (select 1 from private.email_outbox e where e.status = 'queued' and e.next_attempt_at <= p_now);
  if due then
    woken := private.wake_function('send-email', true);
  end if;
  return jsonb_build_object('leases_released', leases_released, 'dead_lettered', dead_lettered, 'purged', purged,
                            'due', due, 'woken', woken);
end
$$;
comment on function private.email_sweep(timestamptz, int) is 'pg_cron, every minute: emails whose lease expired go back to the queue (or dead-letter on the last attempt), settled emails queued over 30 days ago are deleted, and send-email is woken when emails are due.';
revoke execute on function private.email_sweep(timestamptz, int) from public;

select cron.schedule('leadloop-email-sweep', '* * * * *', 'select private.email_sweep()');
