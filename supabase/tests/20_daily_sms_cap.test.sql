-- Issue 12, the daily SMS cap: a business's texts (owner alerts, summaries, texts to leads) per local day
-- stop at its cap, each refusal recorded on the text, the owner told once per day; the cap can be lowered
-- by the owner, never raised above the platform's maximum.
begin;
\ir _helpers.psql
select plan(16);

-- texts are counted at commit; in a test, at the end of each statement
set constraints public.messages_count_daily_sms_on_insert, public.messages_count_daily_sms_on_release immediate;

create temp table ids as select pg_temp.new_user() as owner, pg_temp.new_user() as staff;
alter table ids add column business uuid;
update ids set business = (select business_id from pg_temp.fixture_business(p_owner => owner, p_daily_sms_cap => 3));
insert into public.business_members (business_id, user_id, role) select business, staff, 'staff' from ids;
update public.businesses set duplicate_window_minutes = 0 where id = (select business from ids);
grant select on ids to authenticated;

create temp table l1 as select pg_temp.submit(pg_temp.widget_of((select business from ids)), pg_temp.random_phone()) as lead;
select is((select count(*)::int from public.messages where lead_id = (select lead from l1) and status = 'queued'), 2, 'the first lead: alert and text-back, 2 of 3');
create temp table l2 as select pg_temp.submit(pg_temp.widget_of((select business from ids)), pg_temp.random_phone()) as lead;
select is((select status from public.messages where lead_id = (select lead from l2) and kind = 'owner_alert'), 'queued', 'the third text of the day goes out');
select is((select status || ' ' || status_reason from public.messages where lead_id = (select lead from l2) and kind = 'text_back'), 'canceled daily_sms_cap',
          'the fourth is canceled with the reason');
select is((select status || '/' || completion_reason from public.conversations where lead_id = (select lead from l2)), 'failed/send_failed',
          'its conversation ends instead of waiting forever');
create temp table l3 as select pg_temp.submit(pg_temp.widget_of((select business from ids)), pg_temp.random_phone()) as lead;
select is((select owner_alert_status from public.leads where id = (select lead from l3)), 'skipped_daily_cap', 'an owner alert over the cap says so on the lead');
select is((select count(*)::int from public.messages where business_id = (select business from ids) and status_reason = 'daily_sms_cap'), 3,
          'every text over the cap is refused');
select is((select count(*)::int from public.owner_notifications where business_id = (select business from ids) and kind = 'sms.daily_cap_reached'), 1,
          'the owner is told once...');
select matches((select body from public.owner_notifications where business_id = (select business from ids) and kind = 'sms.daily_cap_reached'),
               'limit of 3 texts', '...with the limit');
select is((select dedupe_key from public.owner_notifications where business_id = (select business from ids) and kind = 'sms.daily_cap_reached'),
          'daily_sms_cap:' || (now() at time zone 'America/New_York')::date, '...once for this local day');
select is((select texts from private.daily_sms_counts where business_id = (select business from ids)), 3, 'the day''s count stops at the cap');

-- the STOP confirmation is never refused
create temp table ack as
select private.enqueue_outbound((select b from public.businesses b where b.id = (select business from ids)), 'opt_out_ack',
                                pg_temp.random_phone(), 'You are unsubscribed.') as id;
select is((select status from public.messages where id = (select id from ack)), 'queued', 'an opt-out confirmation goes out over the cap');

-- the next local day starts at zero
update private.daily_sms_counts set day = day - 1 where business_id = (select business from ids);
create temp table l4 as select pg_temp.submit(pg_temp.widget_of((select business from ids)), pg_temp.random_phone()) as lead;
select is((select count(*)::int from public.messages where lead_id = (select lead from l4) and status = 'queued'), 2, 'a new day, new texts');

-- who sets the cap, and how high
select pg_temp.as_user((select owner from ids));
select lives_ok($$update public.businesses set daily_sms_cap = 50 where id = (select business from ids)$$, 'the owner lowers the cap');
select throws_ok($$update public.businesses set daily_sms_cap = 10001 where id = (select business from ids)$$, '23514', null,
                 'never above the platform maximum');
select pg_temp.as_user((select staff from ids));
update public.businesses set daily_sms_cap = 5000 where id = (select business from ids);
select pg_temp.as_postgres();
select is((select daily_sms_cap from public.businesses where id = (select business from ids)), 50, 'staff cannot change it');
create temp table fresh as select pg_temp.new_business() as id;
update public.businesses set daily_sms_cap = default where id = (select id from fresh);
select is((select daily_sms_cap from public.businesses where id = (select id from fresh)), 200, 'a business starts at 200 texts a day');

select * from finish();
rollback;
