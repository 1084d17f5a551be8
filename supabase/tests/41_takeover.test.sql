-- Takeover: send_owner_reply (members only) through the outbox and its gates, the bot paused until resume_bot,
-- the composer's owner_reply_window.
begin;
\ir _helpers.psql
select plan(30);
select pg_temp.two_businesses();
update auth.users set raw_user_meta_data = '{"full_name": "Sam Staff"}' where id = (select staff_a from ids);
create temp table conv as select c.id, c.lead_id, c.lead_phone from public.conversations c where c.lead_id = (select lead_a from ids);
grant select on conv to authenticated, anon;
select is((select count(*)::int from public.messages where conversation_id = (select id from conv) and kind = 'text_back' and status = 'queued'), 1,
          'the lead''s text-back is waiting');

-- a member replies
select pg_temp.as_user((select staff_a from ids));
create temp table reply as select public.send_owner_reply((select lead_a from ids), '  Hi, this is Sam. I can come by at 3pm today.  ') as id;
select pg_temp.as_postgres();
select is((select kind || ' ' || status || ' ' || from_phone || ' ' || sent_by_name from public.messages where id = (select id from reply)),
          'owner_reply queued ' || (select twilio_number from public.businesses where id = (select business_a from ids)) || ' Sam Staff',
          'send_owner_reply: a member''s reply is queued from the business number, with its author');
select is((select sent_by from public.messages where id = (select id from reply)), (select staff_a from ids), '...sent_by is the member');
select is((select lead_id || ' ' || conversation_id from public.messages where id = (select id from reply)),
          (select lead_id || ' ' || id from conv), '...in the lead''s thread');
select matches((select body from public.messages where id = (select id from reply)), '^Hi, this is Sam\. I can come by at 3pm today\. Reply STOP to opt out\.$',
               'the lead''s first text (the text-back was canceled) carries the opt-out wording, the body is trimmed');
select is((select status || ' ' || status_reason from public.messages where conversation_id = (select id from conv) and kind = 'text_back'),
          'canceled owner_took_over', 'the bot''s waiting text is canceled');
select isnt((select bot_paused_at from public.conversations where id = (select id from conv)), null, 'the bot is paused');
select is((select bot_paused_by from public.conversations where id = (select id from conv)), (select staff_a from ids), '...by the member');

-- the lead answers: slots are kept, no question or closing goes out
select public.apply_conversation_turn((select id from conv), (select version from public.conversations where id = (select id from conv)),
  '{"need": "leaking sink", "timing": null, "location": null, "constraints": []}', '{timing}', true, false);
select is((select count(*)::int from public.messages where conversation_id = (select id from conv) and kind in ('question', 'closing')), 0,
          'a paused conversation gets no bot question');
select is((select slots ->> 'need' from public.conversations where id = (select id from conv)), 'leaking sink', '...but the slots are kept');
select public.apply_conversation_turn((select id from conv), (select version from public.conversations where id = (select id from conv)),
  '{"need": "leaking sink", "timing": "today", "location": "Elm St", "constraints": []}', '{}', false, true, 'slots_filled');
select is((select status from public.conversations where id = (select id from conv)), 'active', '...nor a bot closing: the conversation stays open');

-- no nudge while paused
update public.conversations set status = 'awaiting_reply', next_action_at = now() - interval '1 minute' where id = (select id from conv);
select private.lifecycle_sweep(now());
select is((select count(*)::int from public.messages where conversation_id = (select id from conv) and kind = 'nudge'), 0, 'a paused conversation is not nudged');
select is(pg_temp.state((select id from conv)), 'no_reply/no_reply', '...it ends when its time is up');

-- resume_bot
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.resume_bot((select lead_a from ids))$$, '42501', null, 'resume_bot: another business''s owner is refused');
select pg_temp.as_user((select owner_a from ids));
select is(public.resume_bot((select lead_a from ids)), true, 'resume_bot: a member hands the conversation back');
select is((select bot_paused_at from public.conversations where id = (select id from conv)), null, '...the bot is no longer paused');
select is(public.resume_bot((select lead_a from ids)), false, '...resuming again changes nothing');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select public.resume_bot((select lead_a from ids))$$, '42501', null, 'resume_bot: anon may not call it');
reset role;

-- refusals
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.send_owner_reply((select lead_a from ids), 'hello')$$, '42501', null, 'send_owner_reply: another business''s lead is refused');
select throws_ok($$select public.send_owner_reply(gen_random_uuid(), 'hello')$$, '42501', null, '...an unknown lead the same way');
select pg_temp.as_user((select extra from ids));
select throws_ok($$select public.send_owner_reply((select lead_a from ids), 'hello')$$, '42501', null, '...a user of no business too');
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$select public.send_owner_reply((select lead_a from ids), '   ')$$, '22023', null, 'send_owner_reply: an empty reply is refused');
select throws_ok($$select public.send_owner_reply((select lead_a from ids), repeat('x', 1601))$$, '22023', null, '...and one over 1600 characters');
select pg_temp.as_postgres();
create temp table no_consent as select pg_temp.submit((select widget_a from ids), pg_temp.random_phone(), false) as id;
grant select on no_consent to authenticated;
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$select public.send_owner_reply((select id from no_consent), 'hello')$$, '55000', 'this lead cannot be texted: no_consent',
                 'send_owner_reply: a lead who gave no consent and never texted cannot be texted');
select pg_temp.as_postgres();
select pg_temp.inbound('SM34000000000000000000000000000001', (select phone from public.leads where id = (select id from no_consent)),
                       (select twilio_number from public.businesses where id = (select business_a from ids)), 'Can you call me?');
select pg_temp.as_user((select owner_a from ids));
select lives_ok($$select public.send_owner_reply((select id from no_consent), 'Sure, at 3?')$$, '...but once they texted the business, they can be answered');
select pg_temp.as_postgres();
insert into public.opt_outs (business_id, phone, source, matched_rule) select business_a, (select lead_phone from conv), 'keyword', 'keyword:STOP' from ids;
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$select public.send_owner_reply((select lead_a from ids), 'hello')$$, '55000', 'this lead cannot be texted: opted_out',
                 'send_owner_reply: a lead who opted out cannot be texted');
select is(public.owner_reply_window((select lead_a from ids)) ->> 'refusal', 'opted_out', 'owner_reply_window says why');
select pg_temp.as_postgres();
set local role anon;
select throws_ok($$select public.send_owner_reply((select lead_a from ids), 'hello')$$, '42501', null, 'send_owner_reply: anon may not call it');
reset role;

-- quiet hours: the reply waits for the sending window, and the composer says when
delete from public.opt_outs where phone = (select lead_phone from conv);
-- The lead's own zone decides: one where it is the middle of the night now.
update public.leads set timezones = array[(select z from unnest(array['Pacific/Kiritimati', 'Australia/Brisbane', 'Asia/Kolkata', 'Europe/Berlin',
                                                                       'UTC', 'America/Sao_Paulo', 'America/Chicago', 'Pacific/Honolulu']) z
                                            where extract(hour from now() at time zone z) between 1 and 5 limit 1)]
 where id = (select lead_a from ids);
select pg_temp.as_user((select owner_a from ids));
select is((select (w ->> 'can_send') || ' ' || (w ->> 'deferred') from public.owner_reply_window((select lead_a from ids)) w), 'true true',
          'owner_reply_window: outside the sending window the reply can be written and will wait');
create temp table late_reply as select public.send_owner_reply((select lead_a from ids), 'Tomorrow morning?') as id;
select pg_temp.as_postgres();
select is((select status || ' ' || (send_after > now()) from public.messages where id = (select id from late_reply)), 'deferred true',
          'send_owner_reply: in quiet hours the reply is deferred to the sending window');

select * from finish();
rollback;
