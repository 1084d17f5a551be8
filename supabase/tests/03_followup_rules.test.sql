-- The text-back rules: each refusal reason is recorded on the lead; quota exhaustion; quiet hours
-- deferral, DST-correct.
begin;
\ir _helpers.psql
select plan(42);

create function pg_temp.reason_for(p_business uuid, p_phone text, p_consent boolean default true) returns text
language plpgsql as $$
declare
  lead_id uuid := pg_temp.submit(pg_temp.widget_of(p_business), p_phone, p_consent);
begin
  return (select coalesce(not_texted_reason, followup_status) from public.leads where id = lead_id);
end
$$;

create function pg_temp.texts_for(p_phone text) returns int
language sql as $$ select count(*)::int from public.messages where to_phone = p_phone and kind = 'text_back' $$;

create temp table b as select pg_temp.new_business() as id;
-- repeat submissions of one phone below are about the rules, not the duplicate window
update public.businesses set duplicate_window_minutes = 0 where id = (select id from b);

select is(pg_temp.reason_for((select id from b), '+15554440001', false), 'no_consent', 'no consent: not texted');
select is(pg_temp.texts_for('+15554440001'), 0, 'no consent: no text-back exists');
select is((select count(*)::int from public.messages m join public.leads l on l.id = m.lead_id where l.phone = '+15554440001' and m.kind = 'owner_alert'), 1,
          'no consent: the owner is still alerted');

update public.businesses set followup_enabled = false where id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440002'), 'followup_disabled', 'follow-up disabled: not texted');
update public.businesses set followup_enabled = true where id = (select id from b);

update public.subscriptions set status = 'canceled' where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440003'), 'no_active_subscription', 'canceled subscription: not texted');
update public.subscriptions set status = 'active', current_period_start = now() - interval '60 days', current_period_end = now() - interval '30 days'
 where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440004'), 'no_active_subscription', 'expired period: not texted');
update public.subscriptions set current_period_start = now() - interval '1 day', current_period_end = now() + interval '29 days' where business_id = (select id from b);
delete from public.subscriptions where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440005'), 'no_active_subscription', 'no subscription at all: not texted');
insert into public.subscriptions (business_id, status, current_period_start, current_period_end, conversation_quota)
values ((select id from b), 'trialing', now() - interval '1 day', now() + interval '13 days', 2);

-- quota exhaustion: two conversations allowed this period, the third lead is refused
select is(pg_temp.reason_for((select id from b), '+15554440006'), 'started', 'quota 2: first conversation starts');
select is(pg_temp.reason_for((select id from b), '+15554440007'), 'started', 'quota 2: second conversation starts');
select is(pg_temp.reason_for((select id from b), '+15554440008'), 'quota_exhausted', 'quota 2: the third lead is refused for quota');
select is((select count(*)::int from public.conversations where business_id = (select id from b)), 2, 'quota 2: exactly two conversations exist');
select is((select conversations_used from public.subscriptions where business_id = (select id from b)), 2, 'quota 2: the usage counter says two');
select is((select owner_alert_status from public.leads where phone = '+15554440008'), 'queued', 'quota exhausted: the owner is still alerted');
update public.subscriptions set current_period_start = now() - interval '12 hours', conversation_quota = 2 where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440009'), 'started', 'a new period resets the quota');
update public.subscriptions set conversation_quota = 0 where business_id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440010'), 'quota_exhausted', 'quota 0: nothing is texted');
update public.subscriptions set conversation_quota = 100 where business_id = (select id from b);

insert into public.opt_outs (business_id, phone, source, matched_rule) values ((select id from b), '+15554440011', 'keyword', 'keyword:STOP');
select is(pg_temp.reason_for((select id from b), '+15554440011'), 'opted_out', 'an opted-out number is not texted');
select is(pg_temp.texts_for('+15554440011'), 0, 'opted out: no text-back exists');

update public.leads set phone_status = 'landline' where phone = '+15554440001';
select is(pg_temp.reason_for((select id from b), '+15554440001'), 'landline', 'a known landline is not texted (call, don''t text)');
update public.leads set phone_status = 'invalid' where phone = '+15554440002';
select is(pg_temp.reason_for((select id from b), '+15554440002'), 'invalid_phone', 'a known invalid number is not texted');
select is((select phone_status from public.leads where phone = '+15554440002' order by created_at desc, phone_status limit 1), 'invalid',
          'the new lead inherits what is known about the number');

select is(pg_temp.reason_for((select id from b), '+447700900123'), 'country_not_allowed', 'a number outside the allowed countries is not texted');

-- at most 3 unsolicited texts to one phone per 24 hours, across businesses
create temp table others as select pg_temp.new_business() as id from generate_series(1, 3);
select is((select count(*)::int from others where pg_temp.reason_for(id, '+15554440020') = 'started'), 3, 'three businesses may each text a new lead once');
select is(pg_temp.reason_for((select id from b), '+15554440020'), 'frequency_cap', 'the fourth unsolicited text within 24 hours is refused');

update public.businesses set twilio_number = null where id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440021'), 'no_sending_number', 'a business without a sending number cannot text');
select is((select owner_alert_status from public.leads where phone = '+15554440021'), 'failed', '...nor alert its owner, and says so');
update public.businesses set twilio_number = pg_temp.random_phone('+1557') where id = (select id from b);

-- a second submission while the first conversation is still open starts nothing new
create temp table open_again as select id from pg_temp.new_business() as id;
update public.businesses set duplicate_window_minutes = 0 where id = (select id from open_again);
select is(pg_temp.reason_for((select id from open_again), '+15554440040'), 'started', 'the first submission starts a conversation');
select is(pg_temp.reason_for((select id from open_again), '+15554440040'), 'conversation_open', 'the same phone again while it is open: not texted a second time');
select is((select count(*)::int from public.messages m join public.leads l on l.id = m.lead_id where l.phone = '+15554440040' and m.kind = 'owner_alert'), 2,
          '...but the owner hears about the new submission');
update public.conversations set status = 'completed', completion_reason = 'slots_filled', next_action_at = null where lead_phone = '+15554440040';
select is(pg_temp.reason_for((select id from open_again), '+15554440040'), 'started', 'once that conversation has ended, a new submission starts a new one');

-- quiet hours at intake: choose a window that excludes the current local time
create temp table q as
select (now() at time zone 'America/New_York')::time < '12:00' as morning;
update public.businesses
   set quiet_hours_start = case when (select morning from q) then '12:00'::time else '00:00'::time end,
       quiet_hours_end = case when (select morning from q) then '23:59'::time else '11:59'::time end
 where id = (select id from b);
select is(pg_temp.reason_for((select id from b), '+15554440030'), 'deferred', 'outside quiet hours the follow-up is deferred');
select is((select status from public.messages where to_phone = '+15554440030' and kind = 'text_back'), 'deferred', 'the text-back waits as deferred');
select is((select send_after from public.messages where to_phone = '+15554440030' and kind = 'text_back'),
          private.next_allowed_send_time(now(), 'America/New_York', (select quiet_hours_start from public.businesses where id = (select id from b)),
                                         (select quiet_hours_end from public.businesses where id = (select id from b))),
          'it is due at the next allowed minute');
select ok((select send_after > now() from public.messages where to_phone = '+15554440030' and kind = 'text_back'), 'which is in the future');
select is((select status from public.messages m join public.leads l on l.id = m.lead_id where l.phone = '+15554440030' and m.kind = 'owner_alert'), 'queued',
          'the owner alert is not held by the lead''s quiet hours');

-- DST: the window start on the day the clocks change maps to the right instant
select is(private.next_allowed_send_time('2026-03-08 02:30:00+00', 'America/New_York', '08:00', '20:00'), '2026-03-08 12:00:00+00'::timestamptz,
          'spring forward: 21:30 EST Saturday defers to 08:00 EDT Sunday (12:00 UTC)');
select is(private.next_allowed_send_time('2026-11-01 01:30:00+00', 'America/New_York', '08:00', '20:00'), '2026-11-01 13:00:00+00'::timestamptz,
          'fall back: 21:30 EDT Saturday defers to 08:00 EST Sunday (13:00 UTC)');
select is(private.next_allowed_send_time('2026-03-08 10:00:00+00', 'America/New_York', '08:00', '20:00'), '2026-03-08 12:00:00+00'::timestamptz,
          'spring forward: 06:00 EDT (just after the jump) defers to 08:00 EDT the same day');
select is(private.next_allowed_send_time('2026-03-08 13:00:00+00', 'America/New_York', '08:00', '20:00'), '2026-03-08 13:00:00+00'::timestamptz,
          'inside the window nothing is deferred');
select is(private.next_allowed_send_time('2026-11-01 00:30:00+00', 'America/New_York', '08:00', '20:00'), '2026-11-01 13:00:00+00'::timestamptz,
          'fall back: exactly 20:30 EDT is after the window');
select is(private.next_allowed_send_time('2026-06-01 23:59:00+00', 'America/New_York', '08:00', '20:00'), '2026-06-01 23:59:00+00'::timestamptz,
          '19:59 local is still inside the window');
select is(private.next_allowed_send_time('2026-06-02 00:00:00+00', 'America/New_York', '08:00', '20:00'), '2026-06-02 12:00:00+00'::timestamptz,
          '20:00 local is outside the window (end is exclusive)');
select throws_ok($$update public.businesses set quiet_hours_start = '21:00', quiet_hours_end = '08:00' where id = (select id from b)$$, '23514', null,
                 'a window that ends before it starts is rejected');

select * from finish();
rollback;
