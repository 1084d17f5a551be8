-- Conversations: who reads them (nobody writes them but the state machine), is_open, and the one way a
-- conversation ends (private.close_conversation).
begin;
\ir _helpers.psql
select plan(15);
select pg_temp.two_businesses();

select pg_temp.as_user((select owner_a from ids));
select ok((select count(*) from public.conversations) >= 1 and (select bool_and(business_id = (select business_a from ids)) from public.conversations),
          'conversations/select: members read their business''s conversations only');
select is((select count(*)::int from public.conversations where business_id = (select business_b from ids)), 0,
          'conversations/select: another business''s conversations are invisible');
select throws_ok($$update public.conversations set status = 'completed'$$, '42501', null, 'conversations/update: denied to users');
select throws_ok($$delete from public.conversations$$, '42501', null, 'conversations/delete: denied to users');
select pg_temp.as_postgres();
set local role anon;
select throws_ok('select * from public.conversations', '42501', null, 'conversations/select: anon reads nothing');
reset role;

-- is_open follows the status
create temp table c as select id from public.conversations where lead_id = (select lead_a from ids);
select is((select is_open from public.conversations where id = (select id from c)), true, 'a pending conversation is open');
select throws_ok($$update public.conversations set is_open = false$$, '428C9', null, 'is_open is generated, never written');

-- closing: a stale version changes nothing, the right one ends it with its reason and the summary due
select is(private.close_conversation((select id from c), 'completed', 'idle_timeout', now(), -1), false, 'a stale version closes nothing');
select is(pg_temp.state((select id from c)), 'pending', '...the conversation is untouched');
update public.messages set status = 'sent' where conversation_id = (select id from c) and kind = 'text_back';
insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, status)
select c.business_id, c.lead_id, c.id, 'outbound', 'nudge', c.lead_phone, '+15550009999', 'nudge', 'deferred'
  from public.conversations c where c.id = (select id from c);
select is(private.close_conversation((select id from c), 'no_reply', 'no_reply'), true, 'closing an open conversation succeeds');
select is((select pg_temp.state(id) || ' ' || is_open || ' ' || summary_status || ' ' || (next_action_at is null) from public.conversations where id = (select id from c)),
          'no_reply/no_reply false due true', 'it is closed with its reason, nothing scheduled, its summary due');
select is((select status || ' ' || status_reason from public.messages where conversation_id = (select id from c) and kind = 'nudge'), 'canceled conversation_closed',
          'its waiting nudge is canceled');
select is(private.close_conversation((select id from c), 'completed', 'slots_filled'), false, 'a closed conversation is not closed again');
create temp table c2 as select id from public.conversations where lead_id = (select lead_b from ids);
select private.close_conversation((select id from c2), 'failed', 'send_failed');
select is((select summary_status from public.conversations where id = (select id from c2)), 'not_due', 'a failed conversation has no summary due');
select throws_ok($$select private.close_conversation((select id from c2), 'active', null)$$, '22023', null, 'only closed states end a conversation');

select * from finish();
rollback;
