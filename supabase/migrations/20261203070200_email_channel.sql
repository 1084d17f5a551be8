-- The email channel: what leadloop emails to a business's people, and who chose what.
--   * new leads and callback summaries: to each member (owner or staff) who turned them on for that
--     business in public.email_preferences (off by default; each member sets only their own row);
--   * a text to the owner (alert or summary) that was lost: dead-lettered by us (private.dead_letter) or
--     reported failed/undelivered by the carrier (here); either is one sms.dead_letter owner notification
--     (the dashboard's attention list), emailed to every owner, always, with the text and the lead's links;
--   * every critical owner notification: to every owner, always.
-- Mail goes to the member's confirmed account address, in the business's language, through
-- private.enqueue_email, exactly once per occurrence and recipient. Nothing here can fail the change
-- that triggered it: a lead, summary or notification is saved even when its email cannot be queued.

create table public.email_preferences (
  business_id uuid not null,
  user_id uuid not null default auth.uid(),
  lead_alerts boolean not null default false,
  summaries boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (business_id, user_id),
  foreign key (business_id, user_id) references public.business_members (business_id, user_id) on delete cascade
);
comment on table public.email_preferences is 'Per member and business: which optional emails they get (new leads, summaries). No row means both off. Each member reads and writes only their own rows; owners always get critical emails.';
comment on column public.email_preferences.lead_alerts is 'Email me every new lead (with one-tap call, text and dashboard links).';
comment on column public.email_preferences.summaries is 'Email me each lead''s callback summary.';
create index email_preferences_user_id_idx on public.email_preferences (user_id);

create trigger email_preferences_touch_updated_at before update on public.email_preferences
  for each row execute function private.touch_updated_at();

alter table public.email_preferences enable row level security;
revoke all on public.email_preferences from anon, authenticated;
grant select, delete on public.email_preferences to authenticated;
-- The key columns too: an upsert (PostgREST merge-duplicates) sets every column it sends.
grant insert (business_id, user_id, lead_alerts, summaries), update (business_id, user_id, lead_alerts, summaries)
  on public.email_preferences to authenticated;
grant all on public.email_preferences to service_role;

create policy "members can read their own email preferences" on public.email_preferences
  for select to authenticated
  using (user_id = (select auth.uid()));
create policy "members can add their own email preferences" on public.email_preferences
  for insert to authenticated
  with check (user_id = (select auth.uid()) and business_id in (select private.member_business_ids()));
create policy "members can change their own email preferences" on public.email_preferences
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and business_id in (select private.member_business_ids()));
create policy "members can remove their own email preferences" on public.email_preferences
  for delete to authenticated
  using (user_id = (select auth.uid()));

-- Who gets an email of one kind: 'lead_alerts' and 'summaries' by preference, 'owners' always. Only
-- members whose address is confirmed and whose account is not banned or deleted.
create or replace function private.email_recipients(p_business_id uuid, p_audience text)
returns table (user_id uuid, email text)
language sql
stable
security definer
set search_path = ''
as $$
  select m.user_id, u.email::text
    from public.business_members m
    join auth.users u on u.id = m.user_id
    left join public.email_preferences p on p.business_id = m.business_id and p.user_id = m.user_id
   where m.business_id = p_business_id
     and u.email is not null and u.email_confirmed_at is not null and u.deleted_at is null
     and (u.banned_until is null or u.banned_until < now())
     and case p_audience
           when 'owners' then m.role = 'owner'
           when 'lead_alerts' then coalesce(p.lead_alerts, false)
           when 'summaries' then coalesce(p.summaries, false)
           else false end
   order by m.created_at
$$;
comment on function private.email_recipients(uuid, text) is 'Members of a business to email for an audience (owners, lead_alerts, summaries), with their confirmed addresses.';
revoke execute on function private.email_recipients(uuid, text) from public;

-- What every email about a lead shows: who, how to reach them in one tap, the dashboard page.
create or replace function private.email_lead_vars(p_lead public.leads, p_locale text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'lead_name', p_lead.name,
    'lead_phone', p_lead.phone,
    'lead_email', coalesce(p_lead.email, private.email_fragment('value.missing', p_locale)),
    'message', coalesce(p_lead.message, private.email_fragment('value.missing', p_locale)),
    'source', coalesce(p_lead.source_url, private.email_fragment('value.missing', p_locale)),
    'call_link', 'tel:' || p_lead.phone,
    'text_link', 'sms:' || p_lead.phone,
    'lead_url', private.dashboard_url('/leads/' || p_lead.id))
$$;
comment on function private.email_lead_vars(public.leads, text) is 'Template values about a lead: name, phone, email, message, page, tel:/sms: links and the dashboard URL of the lead.';
revoke execute on function private.email_lead_vars(public.leads, text) from public;

-- One email per recipient of an audience; failures are logged, never raised (see the header).
create or replace function private.email_audience(
  p_business_id uuid, p_audience text, p_template text, p_vars jsonb, p_dedupe_prefix text)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  recipient record;
  queued integer := 0;
begin
  for recipient in select * from private.email_recipients(p_business_id, p_audience) loop
    begin
      if private.enqueue_email(p_business_id, recipient.email, p_template, p_vars,
                               p_dedupe_prefix || ':' || recipient.user_id, recipient.user_id) is not null then
        queued := queued + 1;
      end if;
    exception when others then
      raise warning 'leadloop: % email to member % not queued: % (%)', p_template, recipient.user_id, sqlerrm, sqlstate;
    end;
  end loop;
  return queued;
end
$$;
comment on function private.email_audience(uuid, text, text, jsonb, text) is 'Queues template p_template to every recipient of p_audience (private.email_recipients), deduped per recipient by p_dedupe_prefix:<user>; returns how many were queued. A failure is a warning, never an error.';
revoke execute on function private.email_audience(uuid, text, text, jsonb, text) from public;

create or replace function private.leads_email_alert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  business_locale text;
begin
  -- Cheap exit first: most businesses have nobody with new-lead emails on.
  if not exists (select 1 from public.email_preferences p where p.business_id = new.business_id and p.lead_alerts) then
    return null;
  end if;
  select b.default_locale into business_locale from public.businesses b where b.id = new.business_id;
  perform private.email_audience(new.business_id, 'lead_alerts', 'lead_alert', private.email_lead_vars(new, business_locale),
                                 'lead_alert:' || new.id);
  return null;
exception when others then
  raise warning 'leadloop: new-lead emails for lead % not queued: % (%)', new.id, sqlerrm, sqlstate;
  return null;
end
$$;
comment on function private.leads_email_alert() is 'AFTER INSERT on leads: emails a new (non-duplicate) lead to the members who turned new-lead emails on.';
revoke execute on function private.leads_email_alert() from public;

create trigger leads_email_alert after insert on public.leads
  for each row when (not new.is_duplicate)
  execute function private.leads_email_alert();

create or replace function private.conversations_email_summary()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  lead public.leads;
  business_locale text;
  summary jsonb := coalesce(new.summary, '{}'::jsonb);
  missing_value text;
begin
  if not exists (select 1 from public.email_preferences p where p.business_id = new.business_id and p.summaries) then
    return null;
  end if;
  select * into lead from public.leads l where l.id = new.lead_id;
  select b.default_locale into business_locale from public.businesses b where b.id = new.business_id;
  missing_value := private.email_fragment('value.missing', business_locale);
  perform private.email_audience(new.business_id, 'summaries', 'lead_summary',
    private.email_lead_vars(lead, business_locale) || jsonb_build_object(
      -- How the conversation ended, when there are words for it (outcome.<completion reason>).
      'outcome', coalesce((select t.body_text from private.email_templates t
                            where t.key = 'outcome.' || new.completion_reason and t.locale = business_locale and t.subject is null), ''),
      'need', coalesce(nullif(summary ->> 'need', ''), missing_value),
      'timing', coalesce(nullif(summary ->> 'timing', ''), missing_value),
      'location', coalesce(nullif(summary ->> 'location', ''), missing_value),
      'constraints', coalesce((select nullif(string_agg(c, '; '), '') from jsonb_array_elements_text(
                                 case when jsonb_typeof(summary -> 'constraints') = 'array' then summary -> 'constraints' else '[]' end) c),
                              missing_value),
      'missing', coalesce((select string_agg(private.email_fragment('slot.' || s, business_locale), ', ') from jsonb_array_elements_text(
                             case when jsonb_typeof(summary -> 'missing') = 'array' then summary -> 'missing' else '[]' end) s
                            where s in ('need', 'timing', 'location')),
                          '—')),
    'lead_summary:' || new.id);
  return null;
exception when others then
  raise warning 'leadloop: summary emails for conversation % not queued: % (%)', new.id, sqlerrm, sqlstate;
  return null;
end
$$;
comment on function private.conversations_email_summary() is 'AFTER UPDATE of summary_status on conversations: emails a summary that just became done to the members who turned summary emails on.';
revoke execute on function private.conversations_email_summary() from public;

create trigger conversations_email_summary after update of summary_status on public.conversations
  for each row when (new.summary_status = 'done' and old.summary_status is distinct from 'done')
  execute function private.conversations_email_summary();

-- A text to the owner that the carrier or Twilio reported failed or undelivered after it left us is on the
-- attention list at once, critical, so the owners also get it by email. A text we gave up on is told by
-- private.dead_letter (delivery_retries.sql); both use kind sms.dead_letter and the dedupe key
-- dead_letter:<message id>, so a text is told about once whichever way it was lost.
create or replace function private.messages_owner_text_not_delivered()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  lead_name text;
begin
  select l.name into lead_name from public.leads l where l.id = new.lead_id;
  perform private.notify_owner(new.business_id, 'sms.dead_letter', 'dead_letter:' || new.id,
    case new.kind when 'owner_alert' then format('The alert about a new lead (%s) was not delivered to you', coalesce(lead_name, 'unknown'))
                  else format('The summary of %s''s conversation was not delivered to you', coalesce(lead_name, 'a lead')) end,
    format('The text to %s could not be delivered (%s). Call the lead back from the lead page.',
           new.to_phone, coalesce(nullif(concat_ws(' ', new.error_code, new.error_message), ''), new.status)),
    'critical',
    jsonb_build_object('kind', new.kind, 'to', new.to_phone, 'status', new.status, 'error_code', new.error_code,
                       'attempts', new.attempts),
    new.lead_id, new.id);
  return null;
exception when others then
  raise warning 'leadloop: undelivered owner text % not reported: % (%)', new.id, sqlerrm, sqlstate;
  return null;
end
$$;
comment on function private.messages_owner_text_not_delivered() is 'AFTER UPDATE of status on messages: an owner alert or summary text reported failed or undelivered (not a dead letter of ours: private.dead_letter tells those) is a critical sms.dead_letter notification, once per message.';
revoke execute on function private.messages_owner_text_not_delivered() from public;

create trigger messages_owner_text_not_delivered after update of status on public.messages
  for each row
  when (new.kind in ('owner_alert', 'owner_summary') and new.status in ('failed', 'undelivered')
        and old.status not in ('failed', 'undelivered') and coalesce(new.status_reason, '') not like 'dead_letter:%')
  execute function private.messages_owner_text_not_delivered();

create or replace function private.owner_notifications_email()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  business_locale text;
  text_message public.messages;
  lead public.leads;
begin
  select b.default_locale into business_locale from public.businesses b where b.id = new.business_id;
  select * into text_message from public.messages m where m.id = new.message_id;
  select * into lead from public.leads l where l.id = new.lead_id;
  if new.kind = 'sms.dead_letter' and text_message.kind in ('owner_alert', 'owner_summary') and lead.id is not null then
    -- The text itself, by email: everything the owner needed to call the lead back.
    perform private.email_audience(new.business_id, 'owners', 'owner_sms_dead_letter',
      private.email_lead_vars(lead, business_locale) || jsonb_build_object(
        'to_phone', text_message.to_phone,
        'error', coalesce(nullif(concat_ws(' ', text_message.error_code, text_message.error_message), ''),
                          regexp_replace(text_message.status_reason, '^dead_letter: ', ''), text_message.status),
        'sms_body', text_message.body),
      'owner_notification:' || new.id);
  elsif new.severity = 'critical' then
    perform private.email_audience(new.business_id, 'owners', 'owner_notification',
      jsonb_build_object('title', new.title, 'body', new.body,
                         'link_url', private.dashboard_url(case when lead.id is null then '/' else '/leads/' || lead.id end)),
      'owner_notification:' || new.id);
  end if;
  return null;
exception when others then
  raise warning 'leadloop: emails for owner notification % not queued: % (%)', new.id, sqlerrm, sqlstate;
  return null;
end
$$;
comment on function private.owner_notifications_email() is 'AFTER INSERT on owner_notifications: a critical notification, and every text to the owner that was lost (sms.dead_letter of an owner alert or summary, whatever its severity), is emailed to every owner once; a lost text as the text itself, with the lead''s links.';
revoke execute on function private.owner_notifications_email() from public;

create trigger owner_notifications_email after insert on public.owner_notifications
  for each row when (new.severity = 'critical' or new.kind = 'sms.dead_letter')
  execute function private.owner_notifications_email();
