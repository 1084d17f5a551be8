-- Owner summaries: the sweep hands due ones to summarize, a claim leases them with everything the summarizer needs,
-- and completing one queues the owner's text exactly once.
begin;
\ir _helpers.psql
select plan(17);

create temp table b as select pg_temp.new_business() as id;
create temp table biz as select * from public.businesses where id = (select id from b);
create temp table c as select pg_temp.started((select id from b), '+15558880001') as id;
select pg_temp.inbound('SM20000000000000000000000000000001', '+15558880001', (select twilio_number from biz), 'Tomorrow 9am at 12 Oak St');
select public.apply_conversation_turn((select id from c), (select version from public.conversations where id = (select id from c)),
  '{"need": "leaking pipe", "timing": "tomorrow 9am", "location": "12 Oak St", "constraints": []}', '{}', false, true, 'slots_filled');

-- summary: claimed with everything the summarizer needs, completed exactly once
delete from net.http_request_queue where url like 'http://functions.test/%';
select is((private.lifecycle_sweep(now()) ->> 'summarize_woken')::boolean, true, 'the sweep hands due summaries to the summarize function');
select is((select count(*)::int from net.http_request_queue where url = 'http://functions.test/functions/v1/summarize'), 1, '...through one net.http_post');
create temp table claimed as select * from public.claim_due_summaries(10, 120) as s where (s ->> 'conversation_id')::uuid = (select id from c);
select is((select count(*)::int from claimed), 1, 'claim_due_summaries returns the due conversation');
select is((select s #>> '{slots,location}' from claimed s), '12 Oak St', 'with its slots');
select is((select s #>> '{business,owner_phone}' from claimed s), (select owner_phone from biz), 'the business');
select ok((select jsonb_array_length(s -> 'messages') = 3 from claimed s), 'and the transcript: text-back, reply, closing');
select is((select s #> '{messages,0,asks}' from claimed s), '["timing", "location"]'::jsonb, 'each text saying what it asked');
select is((select count(*)::int from public.claim_due_summaries(10, 120) as s where (s ->> 'conversation_id')::uuid = (select id from c)), 0,
          'a claimed summary is not claimed twice while leased');
select is(public.complete_conversation_summary((select id from c), '{"need": "leaking pipe"}', '{"Lead summary: Dana", "Need: pipe fixed tomorrow 9am at 12 Oak St."}'),
          '{"queued": true}'::jsonb, 'completing the summary queues the owner summary');
select is(public.complete_conversation_summary((select id from c), '{"need": "leaking pipe"}', '{"Lead summary: Dana", "Need: pipe fixed tomorrow 9am at 12 Oak St."}'),
          '{"queued": false}'::jsonb, 'a retried completion queues nothing');
select is((select count(*)::int from public.messages where conversation_id = (select id from c) and kind = 'owner_summary'), 1, 'exactly one owner summary exists');
select is((select to_phone from public.messages where conversation_id = (select id from c) and kind = 'owner_summary'), (select owner_phone from biz), 'it goes to the owner');
select is((select summary_status from public.conversations where id = (select id from c)), 'done', 'the summary is done');
select throws_ok($$select public.complete_conversation_summary((select id from c), '{}', '{"", " "}')$$, '22023', null, 'an empty owner text is refused');

select is(private.summary_is_claimable((select c from public.conversations c where id = (select id from c))), false, 'a done summary is not claimable');

set local role authenticated;
select throws_ok($$select * from public.claim_due_summaries(10, 120)$$, '42501', null, 'users cannot claim summaries');
select throws_ok($$select public.complete_conversation_summary(gen_random_uuid(), '{}', '{x}')$$, '42501', null, 'nor complete them');
reset role;

select * from finish();
rollback;
