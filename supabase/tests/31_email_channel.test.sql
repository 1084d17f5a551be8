-- The email channel: each member's own preferences (RLS), and what is emailed to whom: new leads and
-- summaries by preference, undelivered owner texts and critical notifications to every owner, once.
begin;
\ir _helpers.psql
select plan(44);

delete from vault.secrets where name = 'dashboard_url';
insert into vault.secrets (name, secret) values ('dashboard_url', 'https://app.leadloop.test');
select pg_temp.two_businesses();
-- a second owner of A whose address is not confirmed: never emailed
create temp table unconfirmed as select pg_temp.new_user() as id;
update auth.users set email_confirmed_at = null where id = (select id from unconfirmed);
insert into public.business_members (business_id, user_id, role) select business_a, (select id from unconfirmed), 'owner' from ids;
grant select on unconfirmed to authenticated, anon;

-- preferences: a member reads and writes their own rows only
select pg_temp.as_user((select owner_a from ids));
select lives_ok($$insert into public.email_preferences (business_id, lead_alerts, summaries) select business_a, true, true from ids$$,
                'email_preferences/insert: a member adds their own row (user_id defaults to them)');
select throws_ok($$insert into public.email_preferences (business_id, user_id, lead_alerts) select business_a, staff_a, true from ids$$,
                 '42501', null, 'email_preferences/insert: not for another member');
select throws_ok($$insert into public.email_preferences (business_id, user_id, lead_alerts) select business_b, owner_a, true from ids$$,
                 '42501', null, 'email_preferences/insert: not for a business they are not a member of');
select lives_ok($$insert into public.email_preferences (business_id, user_id, lead_alerts, summaries) select business_a, owner_a, true, true from ids
                  on conflict (business_id, user_id) do update set business_id = excluded.business_id, user_id = excluded.user_id,
                  lead_alerts = excluded.lead_alerts, summaries = excluded.summaries$$,
                'email_preferences/upsert: as PostgREST''s merge-duplicates writes it');
select pg_temp.as_user((select staff_a from ids));
select lives_ok($$insert into public.email_preferences (business_id, summaries) select business_a, false from ids$$,
                'email_preferences/insert: staff set their own too');
select is((select count(*)::int from public.email_preferences), 1, 'email_preferences/select: a member sees only their own rows');
update public.email_preferences set lead_alerts = false where user_id = (select owner_a from ids);
delete from public.email_preferences where user_id = (select owner_a from ids);
select pg_temp.as_postgres();
select is((select lead_alerts from public.email_preferences where user_id = (select owner_a from ids)), true,
          'email_preferences/update and delete: not another member''s row');
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$update public.email_preferences set user_id = (select owner_a from ids) where user_id = (select staff_a from ids)$$,
                 '42501', null, 'email_preferences/update: a row cannot be handed to someone else');
select throws_ok($$update public.email_preferences set created_at = now()$$, '42501', null, 'email_preferences/update: only the choice columns');
select lives_ok($$update public.email_preferences set summaries = true where business_id = (select business_a from ids)$$,
                'email_preferences/update: a member changes their own row');
select lives_ok($$delete from public.email_preferences$$, 'email_preferences/delete: a member removes their own row');
select pg_temp.as_user((select owner_b from ids));
select is((select count(*)::int from public.email_preferences), 0, 'email_preferences/select: another business''s owner sees nothing');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select * from public.email_preferences$$, '42501', null, 'email_preferences/select: anon reads nothing');
select throws_ok($$insert into public.email_preferences (business_id, user_id, lead_alerts) select business_a, owner_a, true from ids$$,
                 '42501', null, 'email_preferences/insert: anon writes nothing');
reset role;
delete from public.business_members where user_id = (select staff_a from ids);
select is((select count(*)::int from public.email_preferences where user_id = (select staff_a from ids)), 0,
          'leaving the business removes the member''s preferences');
insert into public.business_members (business_id, user_id, role) select business_a, staff_a, 'staff' from ids;

-- new leads: to members who turned them on, once per lead and member
create function pg_temp.mail(p_user uuid, p_template text) returns setof private.email_outbox language sql as $$
  select * from private.email_outbox where to_user_id = p_user and template = p_template order by created_at
$$;
create temp table lead1 as
select pg_temp.submit(widget_a, '+15557770001', true, E'<img src=x onerror=alert(1)> Kitchen sink leaking\nplease hurry') as id from ids;
select is((select count(*)::int from pg_temp.mail((select owner_a from ids), 'lead_alert')), 1, 'a new lead is emailed to the member who turned new-lead emails on');
select is((select count(*)::int from private.email_outbox where template = 'lead_alert' and to_user_id <> (select owner_a from ids)), 0,
          '...and to nobody else (staff and the other owner left it off)');
select is((select to_address from pg_temp.mail((select owner_a from ids), 'lead_alert')),
          (select email::text from auth.users where id = (select owner_a from ids)), '...at their account address');
select ok((select body_html ~ '&lt;img src=x onerror=alert\(1\)&gt; Kitchen sink leaking<br>' and body_html !~ '<img'
            from pg_temp.mail((select owner_a from ids), 'lead_alert')), '...with the lead''s words escaped');
select ok((select body_html ~ ('href="https://app.leadloop.test/leads/' || (select id from lead1) || '"')
              and body_html ~ 'href="tel:\+15557770001"' and body_html ~ 'href="sms:\+15557770001"'
              and body_html ~ 'href="https://app.leadloop.test/settings/email"'
            from pg_temp.mail((select owner_a from ids), 'lead_alert')), '...with tel:, sms:, the lead''s page and the preferences link');
select pg_temp.submit(widget_a, '+15557770001') from ids;
select is((select count(*)::int from pg_temp.mail((select owner_a from ids), 'lead_alert')), 1, 'a duplicate submission is not emailed again');
update public.businesses set default_locale = 'es' where id = (select business_a from ids);
select pg_temp.submit(widget_a, '+15557770002') from ids;
select is((select subject from pg_temp.mail((select owner_a from ids), 'lead_alert') offset 1), 'Nuevo cliente: ' ||
            (select name from public.leads where phone = '+15557770002'), 'in the business''s language');
update public.businesses set default_locale = 'en' where id = (select business_a from ids);

-- summaries: to members who turned them on
create temp table conv as select pg_temp.started((select business_a from ids), '+15557770003') as id;
select private.close_conversation((select id from conv), 'completed', 'call_requested');
select public.complete_conversation_summary((select id from conv),
  '{"need": "Fix the <b>sink</b>", "timing": "tomorrow", "location": null, "constraints": ["dog"], "missing": ["location"]}', '{"Lead summary: x"}');
select is((select count(*)::int from pg_temp.mail((select owner_a from ids), 'lead_summary')), 1, 'a finished summary is emailed to the member who turned summaries on');
select ok((select body_text ~ E'Wants a call back.\nNeed: Fix the <b>sink</b>\nWhen: tomorrow\nWhere: \\(not given\\)\nNotes: dog\nStill missing: where\n'
            from pg_temp.mail((select owner_a from ids), 'lead_summary')), '...with what the lead needs, when, where, notes, what is missing and how it ended');
select ok((select body_html ~ 'Fix the &lt;b&gt;sink&lt;/b&gt;' from pg_temp.mail((select owner_a from ids), 'lead_summary')), '...escaped in HTML');
update public.conversations set summary_status = 'due' where id = (select id from conv);
update public.conversations set summary_status = 'done' where id = (select id from conv);
select is((select count(*)::int from pg_temp.mail((select owner_a from ids), 'lead_summary')), 1, '...once, however often the summary completes');

-- an owner text that was not delivered: a critical notification, emailed to every (confirmed) owner once
create temp table alert1 as select id from public.messages where lead_id = (select id from lead1) and kind = 'owner_alert';
update public.messages set status = 'sending', lease_until = now() + interval '2 minutes', attempts = 1 where id = (select id from alert1);
select public.mark_message_failed((select id from alert1), '21408', 'Permission to send an SMS has not been enabled', false);
select is((select string_agg(severity || '|' || kind || '|' || message_id::text, ',') from public.owner_notifications where message_id = (select id from alert1)),
          'critical|sms.dead_letter|' || (select id from alert1), 'an owner alert that was dead-lettered is one critical notification (private.dead_letter''s)');
select is((select count(*)::int from private.email_outbox where template = 'owner_sms_dead_letter'), 1, '...emailed to the owners: one confirmed owner, one email');
select is((select to_user_id from private.email_outbox where template = 'owner_sms_dead_letter'), (select owner_a from ids), '...to the owner, not staff');
select ok((select body_text ~ 'We could not deliver this text to \+1[0-9]+ \(21408 Permission to send an SMS has not been enabled\)'
              and body_text ~ 'Kitchen sink leaking' and body_text ~ ('Open in leadloop: https://app.leadloop.test/leads/' || (select id from lead1))
            from private.email_outbox where template = 'owner_sms_dead_letter'), '...carrying the text itself, why it failed and the lead''s links');
select ok((select body_html ~ '&lt;img src=x' and body_html !~ '<img' from private.email_outbox where template = 'owner_sms_dead_letter'),
          '...escaped');
select public.record_message_status('SM' || replace((select id from alert1)::text, '-', ''), 'undelivered', '30003');
update public.messages set status = 'undelivered' where id = (select id from alert1);
select is((select count(*)::int from private.email_outbox where template = 'owner_sms_dead_letter'), 1, 'told once per text');
create temp table summary1 as select id from public.messages where conversation_id = (select id from conv) and kind = 'owner_summary';
update public.messages set status = 'sent', twilio_sid = 'SM' || md5('summary1') where id = (select id from summary1);
select public.record_message_status('SM' || md5('summary1'), 'undelivered', '30003');
select is((select severity || '|' || kind || '|' || dedupe_key from public.owner_notifications where message_id = (select id from summary1)),
          'critical|sms.dead_letter|dead_letter:' || (select id from summary1), 'an owner summary the carrier did not deliver too');
select is((select count(*)::int from private.email_outbox where template = 'owner_sms_dead_letter'), 2, '...by email as well');
update public.messages set status = 'failed' where lead_id = (select id from lead1) and kind = 'text_back';
select is((select count(*)::int from public.owner_notifications where kind = 'sms.dead_letter' and business_id = (select business_a from ids)), 2,
          'texts to leads are not owner texts');
-- an owner summary we gave up on is a warning on the attention list (private.dead_letter), but still emailed
create temp table summary2 as select id from public.messages where conversation_id = (select id from conv) and kind = 'owner_summary';
update public.messages set status = 'queued', twilio_sid = null, error_code = null, error_message = null where id = (select id from summary2);
delete from public.owner_notifications where message_id = (select id from summary2);
delete from private.email_outbox where template = 'owner_sms_dead_letter' and body_text ~ 'Lead summary';
select private.dead_letter(m, 'gave up after 8 attempts') from public.messages m where m.id = (select id from summary2);
select is((select severity || '|' || kind from public.owner_notifications where message_id = (select id from summary2)), 'warning|sms.dead_letter',
          'a dead-lettered owner summary is told once, by private.dead_letter');
select ok((select body_text ~ '\(gave up after 8 attempts\)' from private.email_outbox where template = 'owner_sms_dead_letter' and body_text ~ 'Lead summary'),
          '...and emailed to the owners with why it was given up');

-- critical notifications reach every owner; others stay on the dashboard
select private.notify_owner(business_a, 'billing.past_due', 'test:critical', 'Payment overdue: <update your card>', 'Texts stop in 3 days.', 'critical') from ids;
select is((select count(*)::int from private.email_outbox where template = 'owner_notification'), 1, 'a critical notification is emailed to the owners');
select ok((select subject ~ ': Payment overdue: <update your card>$' and body_html ~ 'Payment overdue: &lt;update your card&gt;'
              and body_text ~ 'Open leadloop: https://app.leadloop.test/' from private.email_outbox where template = 'owner_notification'),
          '...titled, escaped and linked to the dashboard');
select private.notify_owner(business_a, 'billing.plan_changed', 'test:warning', 'Plan changed', '', 'warning') from ids;
select private.notify_owner(business_a, 'billing.active', 'test:info', 'Active', '', 'info') from ids;
select is((select count(*)::int from private.email_outbox where template = 'owner_notification'), 1, 'warnings and information are not emailed');
select is((select count(*)::int from private.email_outbox where business_id = (select business_b from ids)), 0, 'another business''s people get nothing');

-- nothing here can fail what triggered it
delete from vault.secrets where name = 'dashboard_url';
select lives_ok($$select pg_temp.submit(widget_a, '+15557770009') from ids$$, 'without a dashboard URL a lead is still saved');
select is((select count(*)::int from public.leads where phone = '+15557770009'), 1, '...and nothing else is lost');
select lives_ok($$select private.notify_owner(business_a, 'x.y', 'test:novault', 'Critical', '', 'critical') from ids$$, '...and so is a notification');
insert into vault.secrets (name, secret) values ('dashboard_url', 'https://app.leadloop.test');

select * from finish();
rollback;
