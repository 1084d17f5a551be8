-- The owner summary before the callback: at once when the questions are answered, summary_delay_minutes after
-- the lead's last reply, right after the nudge window for a lead who never replied; never twice; the owner alert
-- never waits for it.
begin;
\ir _helpers.psql
select plan(14);
create temp table biz as select pg_temp.new_business() as id;
create temp table t as select
  pg_temp.started((select id from biz), pg_temp.random_phone()) as replied,
  pg_temp.started((select id from biz), pg_temp.random_phone()) as answered,
  pg_temp.started((select id from biz), pg_temp.random_phone()) as silent;
create function pg_temp.claimable(p_conversation uuid, p_at timestamptz) returns boolean
language sql as $$ select private.summary_is_claimable(c, p_at) from public.conversations c where c.id = p_conversation $$;

select is((select count(*)::int from public.conversations where id in (select replied from t union select answered from t union select silent from t)
            and summary_status = 'not_due'), 3, 'no summary is due before the lead says anything');
select is((select count(*)::int from public.messages m join public.leads l on l.id = m.lead_id
            where l.business_id = (select id from biz) and m.kind = 'owner_alert' and m.status = 'queued' and m.send_after <= l.created_at), 3,
          'every owner alert was queued to go at once, whatever the summary timing');

-- a reply: due 15 minutes (the default) after it, moved by the next reply
select pg_temp.inbound('SM35000000000000000000000000000001', c.lead_phone, b.twilio_number, 'Leaking sink')
  from public.conversations c, public.businesses b where c.id = (select replied from t) and b.id = (select id from biz);
select is((select summary_status || ' ' || (summary_due_at - last_inbound_at) from public.conversations where id = (select replied from t)),
          'due 00:15:00', 'a reply makes the summary due 15 minutes after it');
select ok(not pg_temp.claimable((select replied from t), now() + interval '14 minutes'), '...not claimable 14 minutes later');
select ok(pg_temp.claimable((select replied from t), now() + interval '16 minutes'), '...claimable 16 minutes later');
update public.businesses set summary_delay_minutes = 5 where id = (select id from biz);
update public.conversations set last_inbound_at = now() + interval '10 minutes' where id = (select replied from t);
select is((select summary_due_at - now() from public.conversations where id = (select replied from t)), interval '15 minutes',
          'the owner''s own delay (5 minutes) counts from the latest reply');
select throws_ok($$update public.businesses set summary_delay_minutes = 0 where id = (select id from biz)$$, '23514', null,
                 'the delay is 1 to 1440 minutes');

-- all questions answered: due at once, earlier than the delay
update public.conversations set last_inbound_at = now() where id = (select answered from t);
select public.apply_conversation_turn((select answered from t), (select version from public.conversations where id = (select answered from t)),
  '{"need": "sink", "timing": "today", "location": "Elm St", "constraints": []}', '{}', false, true, 'slots_filled');
select is((select summary_status || ' ' || (summary_due_at <= now()) from public.conversations where id = (select answered from t)), 'due true',
          'a conversation whose questions are answered has its summary due at once');

-- never replied: due when the nudge window is over
select private.lifecycle_sweep(now() + interval '59 minutes');
select is((select summary_status from public.conversations where id = (select silent from t)), 'not_due', 'no summary before the nudge window is over');
select private.lifecycle_sweep(now() + interval '61 minutes');
select is((select summary_status || ' ' || summary_due_at from public.conversations where id = (select silent from t)),
          'due ' || (now() + interval '61 minutes'), 'a lead who never replied: the summary is due when the nudge goes out');
select is((select status from public.conversations where id = (select silent from t)), 'awaiting_reply', '...while the conversation stays open for a reply');

-- one summary per conversation: a sent summary is not made due again when the conversation ends
select public.complete_conversation_summary((select silent from t), '{"need": null}', array['No reply yet - from the form: sink']);
select is((select count(*)::int from public.messages where conversation_id = (select silent from t) and kind = 'owner_summary'), 1, 'the summary is queued');
select ok(private.close_conversation((select silent from t), 'no_reply', 'no_reply'), 'the conversation ends later');
select is((select summary_status from public.conversations where id = (select silent from t)), 'done', '...and its summary stays done (no second one)');

select * from finish();
rollback;
