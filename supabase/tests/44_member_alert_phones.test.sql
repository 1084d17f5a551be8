-- Issue 9 item 5, alert phones of team members: set by the member (or an owner), confirmed with a texted
-- code (the owner phone's machinery), then copied every new-lead alert (and the summaries, when chosen)
-- after the owner's own text has left; STOP, removal and the daily cap stop them; lead commands work from
-- a confirmed member phone. Every RPC refuses anon, another business's members and staff for someone else.
begin;
\ir _helpers.psql
select plan(62);

-- texts are counted at commit; in a test, at the end of each statement
set constraints public.messages_count_daily_sms_on_insert, public.messages_count_daily_sms_on_release immediate;

select pg_temp.two_businesses();
alter table ids add column staff_b uuid, add column gone uuid;
update ids set staff_b = pg_temp.new_user(), gone = pg_temp.new_user();
insert into public.business_members (business_id, user_id, role)
  select business_a, staff_b, 'staff' from ids union all select business_a, gone, 'staff' from ids;
create temp table phones as select pg_temp.random_phone() as staff, pg_temp.random_phone() as staff_b, pg_temp.random_phone() as gone,
  (select owner_phone from public.businesses where id = (select business_a from ids)) as owner,
  (select twilio_number from public.businesses where id = (select business_a from ids)) as number;
grant select on phones to anon, authenticated;

create function pg_temp.code(p_phone text) returns text language sql as $$
  select substring(m.body from '^[0-9]{6}') from public.messages m
   where m.to_phone = p_phone and m.kind = 'verification' order by m.created_at desc limit 1 $$;
-- What sms-dispatch does with a claimed text that Twilio accepted.
create function pg_temp.send(p_message uuid) returns void language plpgsql as $$
begin
  update public.messages set status = 'sending', lease_until = now() + interval '1 minute', attempts = 1 where id = p_message;
  perform public.mark_message_sent(p_message, 'SM' || replace(gen_random_uuid()::text, '-', ''));
end
$$;
create function pg_temp.owner_alert(p_lead uuid) returns uuid language sql as $$
  select id from public.messages where lead_id = p_lead and kind = 'owner_alert' $$;
create function pg_temp.copies(p_lead uuid) returns text language sql as $$
  select coalesce(string_agg(p.who || ':' || m.status || coalesce('/' || m.status_reason, ''), ' ' order by p.who), '')
    from public.messages m
    join (select staff as phone, 'staff' as who from phones union all select staff_b, 'staff_b' from phones
          union all select gone, 'gone' from phones union all select owner, 'owner' from phones) p on p.phone = m.to_phone
   where m.lead_id = p_lead and m.kind = 'member_alert' $$;

-- ---------- set_member_alert_phone ----------
select pg_temp.as_user((select staff_a from ids));
select is(public.set_member_alert_phone((select business_a from ids), (select staff_a from ids), (select staff from phones)) - 'user_id' - 'code',
          jsonb_build_object('alert_phone', (select staff from phones), 'state', 'unverified', 'alert_new_leads', true, 'alert_summaries', false),
          'set_member_alert_phone: staff set their own phone, unconfirmed');
select is((select count(*)::int from public.messages where to_phone = (select staff from phones) and kind = 'verification'), 0,
          '...the code text is secret from members (RLS)');
select pg_temp.as_postgres();
select matches((select body from public.messages where to_phone = (select staff from phones) and kind = 'verification'),
               '^[0-9]{6} is your leadloop code to confirm this phone', 'the phone is texted a code');
select ok((select code_hash !~ pg_temp.code((select staff from phones)) from private.phone_verifications
            where business_id = (select business_a from ids) and user_id = (select staff_a from ids)), '...only its salted hash is stored, in the one code table');
select pg_temp.as_user((select staff_a from ids));
select is(public.set_member_alert_phone((select business_a from ids), (select staff_a from ids), (select staff from phones)) #>> '{code,reason}',
          'throttled', 'asking again at once is throttled');
select throws_ok($$select public.set_member_alert_phone((select business_a from ids), (select owner_a from ids), '+14155550123')$$, '42501',
                 'only an owner can change another member''s alert phone', 'set_member_alert_phone: not staff for someone else');
select throws_ok($$select public.set_member_alert_phone((select business_a from ids), (select staff_a from ids), '415 555')$$, '22023',
                 'phone: give a mobile number with its country code, like +14155550123', 'set_member_alert_phone: a number that is no number');
select throws_ok($$select public.set_member_alert_phone((select business_a from ids), (select staff_a from ids), '+19005550123')$$, '22023',
                 'phone: leadloop cannot text +19005550123 (premium rate)', '...nor a premium-rate one (the pumping guard)');
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.set_member_alert_phone((select business_a from ids), (select staff_a from ids), '+14155550123')$$, '42501',
                 'only a member of this business can do this', 'set_member_alert_phone: not another business''s owner');
select throws_ok($$select public.set_member_alert_phone((select business_b from ids), (select staff_a from ids), '+14155550123')$$, 'P0002',
                 'that person is not on this business''s team', '...who cannot reach someone outside their team either');
set local role anon;
select throws_ok($$select public.set_member_alert_phone((select business_a from ids), (select staff_a from ids), '+14155550123')$$, '42501',
                 null, 'set_member_alert_phone: not anon');
reset role;
select pg_temp.as_user((select owner_a from ids));
select is(public.set_member_alert_phone((select business_a from ids), (select staff_b from ids), ' (' || substr((select staff_b from phones), 1, 5) || ') '
            || substr((select staff_b from phones), 6)) ->> 'alert_phone', (select staff_b from phones),
          'set_member_alert_phone: an owner sets a staff member''s phone (spaces and brackets ignored)');
select is(public.set_member_alert_phone((select business_a from ids), (select owner_a from ids), (select owner from phones)) ->> 'state', 'unverified',
          '...and their own, the same number as the owner phone');
select pg_temp.as_user((select gone from ids));
select is(public.set_member_alert_phone((select business_a from ids), (select gone from ids), (select gone from phones)) ->> 'state', 'unverified',
          'another staff member sets theirs');

-- ---------- confirm_member_alert_phone ----------
select pg_temp.as_user((select staff_a from ids));
select is(public.confirm_member_alert_phone((select business_a from ids), (select staff_a from ids), '000000'), false, 'confirm: a wrong code is refused');
select pg_temp.as_postgres();
select is((select attempts from private.phone_verifications where business_id = (select business_a from ids) and user_id = (select staff_a from ids)), 1,
          '...and counted');
create temp table codes as select pg_temp.code(staff) as staff, pg_temp.code(staff_b) as staff_b, pg_temp.code(gone) as gone, pg_temp.code(owner) as owner
  from phones;
grant select on codes to authenticated, anon;
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$select public.confirm_member_alert_phone((select business_a from ids), (select staff_b from ids), (select staff_b from codes))$$, '42501',
                 'only an owner can change another member''s alert phone', 'confirm: not staff for someone else');
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.confirm_member_alert_phone((select business_a from ids), (select staff_a from ids), (select staff from codes))$$, '42501',
                 'only a member of this business can do this', 'confirm: not another business''s owner');
set local role anon;
select throws_ok($$select public.confirm_member_alert_phone((select business_a from ids), (select staff_a from ids), (select staff from codes))$$, '42501',
                 null, 'confirm: not anon');
reset role;
select pg_temp.as_user((select staff_a from ids));
select is(public.confirm_member_alert_phone((select business_a from ids), (select staff_a from ids), (select staff from codes)), true,
          'confirm: the member confirms their own phone with its code');
select pg_temp.as_user((select owner_a from ids));
select is(public.confirm_member_alert_phone((select business_a from ids), (select staff_b from ids), ' ' || (select staff_b from codes) || ' '), true,
          'confirm: an owner confirms a staff member''s phone with the code read to them');
select is(public.confirm_member_alert_phone((select business_a from ids), (select owner_a from ids), (select owner from codes)), true, '...and their own');
select is(public.confirm_member_alert_phone((select business_a from ids), (select gone from ids), (select gone from codes)), true, '...and another''s');
select throws_ok($$select public.confirm_member_alert_phone((select business_a from ids), (select extra from ids), '123456')$$, 'P0002',
                 'that person is not on this business''s team', 'confirm: not someone outside the team');

-- ---------- set_member_alert_choices ----------
select pg_temp.as_user((select staff_b from ids));
select is(public.set_member_alert_choices((select business_a from ids), (select staff_b from ids), p_summaries => true) - 'user_id' - 'code',
          jsonb_build_object('alert_phone', (select staff_b from phones), 'state', 'verified', 'alert_new_leads', true, 'alert_summaries', true),
          'choices: staff choose summaries for their own phone (new-lead alerts stay on)');
select throws_ok($$select public.set_member_alert_choices((select business_a from ids), (select staff_a from ids), false, false)$$, '42501',
                 'only an owner can change another member''s alert phone', 'choices: not staff for someone else');
select throws_ok($$select public.set_member_alert_choices((select business_a from ids), (select staff_b from ids))$$, '22023',
                 'choose p_new_leads, p_summaries or both', 'choices: nothing chosen is an error');
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.set_member_alert_choices((select business_a from ids), (select staff_b from ids), false, false)$$, '42501',
                 'only a member of this business can do this', 'choices: not another business''s owner');
set local role anon;
select throws_ok($$select public.set_member_alert_choices((select business_a from ids), (select staff_b from ids), false, false)$$, '42501',
                 null, 'choices: not anon');
reset role;
select pg_temp.as_user((select owner_a from ids));
select is(public.set_member_alert_choices((select business_a from ids), (select gone from ids), p_new_leads => true, p_summaries => false) ->> 'alert_summaries',
          'false', 'choices: an owner sets a member''s');
select is((select string_agg(alert_phone_state || ' ' || alert_summaries, ', ' order by user_id = (select staff_a from ids) desc)
             from public.team_members((select business_a from ids)) where user_id in ((select staff_a from ids), (select staff_b from ids))),
          'verified false, verified true', 'team_members shows each alert phone''s state and choices');

-- ---------- fan-out ----------
create temp table l1 as select pg_temp.submit((select widget_a from ids), pg_temp.random_phone()) as lead;
select is(pg_temp.copies((select lead from l1)), '', 'a new lead''s transaction writes only the owner''s alert: no copies yet');
select pg_temp.send(pg_temp.owner_alert((select lead from l1)));
select is(pg_temp.copies((select lead from l1)), 'gone:queued staff:queued staff_b:queued',
          'once the owner''s alert has gone, each confirmed member phone gets its own copy; the one that is the owner phone none');
select is((select count(distinct dedupe_key)::int from public.messages where lead_id = (select lead from l1) and kind = 'member_alert'), 3, '...each with its own dedupe key');
select is((select count(*)::int from public.messages m where m.lead_id = (select lead from l1) and m.kind = 'member_alert'
              and m.body = (select body from public.messages where id = pg_temp.owner_alert((select lead from l1)))
              and m.from_phone = (select number from phones)), 3, '...the same text, from the business number');
select is(private.fan_out_to_members((select m from public.messages m where id = pg_temp.owner_alert((select lead from l1)))), 0,
          'a replayed status writes no second copy');
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.messages where lead_id = (select lead from l1) and kind = 'member_alert'), 3, 'members see the copies on the lead');
select pg_temp.as_postgres();

-- an unconfirmed phone gets nothing, not even a held text
select pg_temp.as_user((select staff_a from ids));
select is(public.set_member_alert_phone((select business_a from ids), (select staff_a from ids), pg_temp.random_phone()) ->> 'state', 'unverified',
          'a member changes their phone: unconfirmed again');
select pg_temp.as_postgres();
select is((select status || '/' || status_reason from public.messages where lead_id = (select lead from l1) and kind = 'member_alert'
              and to_phone = (select staff from phones)), 'canceled/alert_phone_removed', '...what waited for the old phone stops');
create temp table l2 as select pg_temp.submit((select widget_a from ids), pg_temp.random_phone()) as lead;
select pg_temp.send(pg_temp.owner_alert((select lead from l2)));
select is(pg_temp.copies((select lead from l2)), 'gone:queued staff_b:queued', '...and gets no copy while unconfirmed');
select is((select count(*)::int from public.messages where lead_id = (select lead from l2) and kind = 'member_alert'), 2, '...nor a held one');

-- summaries only to the phones that chose them
create temp table summary as select private.enqueue_outbound(b, 'owner_summary', b.owner_phone, 'Summary of the lead',
  p_lead_id => (select lead from l2), p_dedupe_key => 'owner_summary:test') as id from public.businesses b where b.id = (select business_a from ids);
select pg_temp.send((select id from summary));
select is((select string_agg(to_phone, ',') from public.messages where lead_id = (select lead from l2) and kind = 'member_summary'),
          (select staff_b from phones), 'a summary goes to the phones that chose summaries');

-- commands from a confirmed member phone
select is(pg_temp.inbound('SM43000000000000000000000000000001', (select staff_b from phones), (select number from phones),
                          (select short_code from public.leads where id = (select lead from l2)) || ' called') ->> 'outcome',
          'owner_command_status', 'a member texts "<code> called" from their confirmed phone');
select is((select status from public.leads where id = (select lead from l2)), 'contacted', '...and the lead is updated');
select is((select actor_id from public.lead_events where lead_id = (select lead from l2) and field = 'status'), (select staff_b from ids),
          '...in the member''s name');
select is((select kind || ' ' || to_phone from public.messages where dedupe_key = 'command:SM43000000000000000000000000000001'),
          'member_notice ' || (select staff_b from phones), '...and the answer goes back to that phone');

-- STOP from a member phone
select is(pg_temp.inbound('SM43000000000000000000000000000002', (select gone from phones), (select number from phones), 'STOP') ->> 'outcome',
          'opted_out', 'a member phone texts STOP');
select is((select status || '/' || status_reason from public.messages where lead_id = (select lead from l2) and kind = 'member_alert'
              and to_phone = (select gone from phones)), 'canceled/opted_out', '...its waiting copy stops');
create temp table l3 as select pg_temp.submit((select widget_a from ids), pg_temp.random_phone()) as lead;
select pg_temp.send(pg_temp.owner_alert((select lead from l3)));
select is(pg_temp.copies((select lead from l3)), 'gone:canceled/opted_out staff_b:queued', '...and it gets nothing more');

-- a removed member
delete from public.business_members where business_id = (select business_a from ids) and user_id = (select staff_b from ids);
select is(pg_temp.copies((select lead from l3)), 'gone:canceled/opted_out staff_b:canceled/alert_phone_removed', 'a removed member''s waiting copy stops at once');
create temp table l4 as select pg_temp.submit((select widget_a from ids), pg_temp.random_phone()) as lead;
select pg_temp.send(pg_temp.owner_alert((select lead from l4)));
select is(pg_temp.copies((select lead from l4)), 'gone:canceled/opted_out', '...gets no copy of the next alert');
select isnt(pg_temp.inbound('SM43000000000000000000000000000003', (select staff_b from phones), (select number from phones),
                            (select short_code from public.leads where id = (select lead from l4)) || ' won') ->> 'outcome',
            'owner_command_status', '...and their phone''s commands stop working');
select is((select status from public.leads where id = (select lead from l4)), 'new', '...the lead is unchanged');
select is((select count(*)::int from private.phone_verifications where user_id = (select staff_b from ids)), 0, '...and their code row is gone');

-- the daily cap counts the copies
update public.businesses set daily_sms_cap = (select texts + 1 from private.daily_sms_counts where business_id = (select business_a from ids)
                                               order by day desc limit 1)
 where id = (select business_a from ids);
update public.business_members set alert_phone = (select staff from phones), alert_phone_verified_at = now()
 where business_id = (select business_a from ids) and user_id = (select staff_a from ids);
create temp table l5 as select pg_temp.submit((select widget_a from ids), pg_temp.random_phone(), false) as lead;
select pg_temp.send(pg_temp.owner_alert((select lead from l5)));
select is(pg_temp.copies((select lead from l5)), 'gone:canceled/opted_out staff:canceled/daily_sms_cap',
          'the daily cap counts member copies: the one past it is refused');

-- an owner phone still unconfirmed holds the owner's alert, not the confirmed member phones' copies
create temp table b_phone as select pg_temp.random_phone() as phone;
update public.businesses set owner_phone_verified_at = null where id = (select business_b from ids);
update public.business_members set alert_phone = (select phone from b_phone), alert_phone_verified_at = now()
 where business_id = (select business_b from ids) and user_id = (select owner_b from ids);
create temp table l6 as select pg_temp.submit((select widget_b from ids), pg_temp.random_phone()) as lead;
select is((select string_agg(kind || ':' || status || coalesce('/' || status_reason, ''), ' ' order by kind) from public.messages
            where lead_id = (select lead from l6) and kind in ('owner_alert', 'member_alert')),
          'member_alert:queued owner_alert:deferred/owner_phone_unverified',
          'while the owner phone waits for its code, a confirmed member phone gets the alert at once');
update public.businesses set owner_phone_verified_at = now() where id = (select business_b from ids);
select private.release_owner_texts(b) from public.businesses b where b.id = (select business_b from ids);
select pg_temp.send(pg_temp.owner_alert((select lead from l6)));
select is((select count(*)::int from public.messages where lead_id = (select lead from l6) and kind = 'member_alert'), 1,
          '...and no second copy when the owner''s goes out later');

-- clear_member_alert_phone
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.clear_member_alert_phone((select business_a from ids), (select staff_a from ids))$$, '42501',
                 'only a member of this business can do this', 'clear: not another business''s owner');
select pg_temp.as_user((select gone from ids));
select throws_ok($$select public.clear_member_alert_phone((select business_a from ids), (select staff_a from ids))$$, '42501',
                 'only an owner can change another member''s alert phone', 'clear: not staff for someone else');
set local role anon;
select throws_ok($$select public.clear_member_alert_phone((select business_a from ids), (select staff_a from ids))$$, '42501', null, 'clear: not anon');
reset role;
select pg_temp.as_user((select gone from ids));
select is(public.clear_member_alert_phone((select business_a from ids), (select gone from ids)) ->> 'state', 'none', 'clear: staff remove their own phone');
select pg_temp.as_user((select owner_a from ids));
select is(public.clear_member_alert_phone((select business_a from ids), (select staff_a from ids)) ->> 'state', 'none', 'clear: an owner removes a member''s');

select * from finish();
rollback;
