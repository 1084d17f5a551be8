-- Webhook events: captured by the database in the transaction of the change, one delivery per subscribed and
-- enabled endpoint, payloads with exactly the documented keys (docs/webhooks.md), owners alone read them.
begin;
\ir _helpers.psql
select plan(35);
select pg_temp.two_businesses();

select is((select count(*)::int from public.webhook_events), 0, 'nothing is captured while a business has no endpoint');

select pg_temp.as_user((select owner_a from ids));
create temp table hooks as
select (select endpoint_id from public.create_webhook_endpoint(business_a, 'https://all.example.com/hook',
          array['lead.created', 'lead.updated', 'conversation.completed', 'summary.ready', 'lead.opted_out'])) as everything,
       (select endpoint_id from public.create_webhook_endpoint(business_a, 'https://optouts.example.com/hook', '{lead.opted_out}')) as opt_outs_only,
       (select endpoint_id from public.create_webhook_endpoint(business_a, 'https://off.example.com/hook',
          array['lead.created', 'lead.updated', 'conversation.completed', 'summary.ready', 'lead.opted_out'])) as turned_off
  from ids;
update public.webhook_endpoints set enabled = false where id = (select turned_off from hooks);
select pg_temp.as_postgres();
grant select on hooks to authenticated, anon;

-- A pg_temp function that reads another business's or endpoint's rows runs as the caller: these are postgres.
create function pg_temp.events_of(p_type text) returns setof public.webhook_events
language sql as $$ select * from public.webhook_events where type = p_type order by created_at, id $$;
create function pg_temp.payload_of(p_type text) returns jsonb
language sql as $$ select payload from public.webhook_events where type = p_type order by created_at desc, id limit 1 $$;

-- lead.created
create temp table lead as select pg_temp.submit((select widget_a from ids), '+15124720123', true, 'Water heater leaking in the garage') as id;
select is((select count(*)::int from pg_temp.events_of('lead.created')), 1, 'a new lead is captured as lead.created');
select is((select array_agg(endpoint_id) from public.webhook_deliveries where event_id = (select id from pg_temp.events_of('lead.created'))),
          array[(select everything from hooks)], '...with one delivery, to the enabled endpoint that subscribes to it');
select is((select status || '/' || attempts from public.webhook_deliveries where event_type = 'lead.created'), 'pending/0', 'the delivery waits for the sender');
select is((select array_agg(k order by k) from jsonb_object_keys(pg_temp.payload_of('lead.created')) k),
          array['data', 'timestamp', 'type', 'version'], 'the body is {type, timestamp, version, data}');
select matches(pg_temp.payload_of('lead.created') ->> 'timestamp', '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$', 'timestamps are ISO 8601 UTC with milliseconds');
select is(pg_temp.payload_of('lead.created') -> 'version', '1'::jsonb, 'payload version 1');
select is((select array_agg(k order by k) from jsonb_object_keys(pg_temp.payload_of('lead.created') #> '{data,lead}') k),
          array['consent_at', 'created_at', 'details', 'duplicate_of', 'email', 'follow_up', 'id', 'is_duplicate', 'locale', 'message',
                'name', 'phone', 'phone_status', 'sms_consent', 'source_url', 'widget_id'],
          'lead.created: the lead has exactly the documented keys');
select is(pg_temp.payload_of('lead.created') #>> '{data,lead,phone}', '+15124720123', '...its phone');
select is(pg_temp.payload_of('lead.created') #> '{data,lead,follow_up}', '{"status": "started", "not_texted_reason": null}'::jsonb, '...its follow-up');
select is(pg_temp.payload_of('lead.created') #> '{data,lead,details}', '{"need": null, "timing": null, "location": null, "constraints": []}'::jsonb,
          '...and details not collected yet');
select is(pg_temp.payload_of('lead.created') #>> '{data,business_id}', (select business_a::text from ids), 'data names the business');
select ok(pg_temp.payload_of('lead.created')::text !~ '203\.0\.113\.7|pgtap', 'no internal column (the IP, the user agent) leaves');

select pg_temp.submit((select widget_b from ids), '+15124720124');
select is((select count(*)::int from public.webhook_events where business_id = (select business_b from ids)), 0,
          'a business without endpoints captures nothing');

-- lead.updated: one event per lead per transaction, with every key that changed
update public.leads set owner_alert_status = 'sent' where id = (select id from lead);
select is((select count(*)::int from pg_temp.events_of('lead.updated')), 0, 'a change outside the payload (the owner alert''s status) is no event');
update public.leads set phone_status = 'mobile' where id = (select id from lead);
update public.leads set followup_status = 'not_texted', not_texted_reason = 'internal_error' where id = (select id from lead);
select is((select count(*)::int from pg_temp.events_of('lead.updated')), 1, 'two changes in one transaction: one lead.updated');
select is(pg_temp.payload_of('lead.updated') #> '{data,changed}', '["follow_up", "phone_status"]'::jsonb, '...naming both changed keys');
select is(pg_temp.payload_of('lead.updated') #>> '{data,lead,follow_up,not_texted_reason}', 'internal_error', '...with the lead as it ends');

create temp table conv as select pg_temp.started((select business_a from ids), '+15124720125') as id;
update public.conversations set slots = slots || '{"need": "Fix a leaking water heater", "location": "78701"}' where id = (select id from conv);
select is((select payload #> '{data,changed}' from public.webhook_events
            where type = 'lead.updated' and payload #>> '{data,lead,id}' = (select lead_id::text from public.conversations where id = (select id from conv))),
          '["details"]'::jsonb, 'details collected by the conversation are a lead.updated');
select is((select payload #> '{data,lead,details}' from public.webhook_events
            where type = 'lead.updated' and payload #>> '{data,lead,id}' = (select lead_id::text from public.conversations where id = (select id from conv))),
          '{"need": "Fix a leaking water heater", "timing": null, "location": "78701", "constraints": []}'::jsonb, '...carrying them');

-- conversation.completed and summary.ready
select private.close_conversation((select id from conv), 'completed', 'slots_filled');
select is((select count(*)::int from pg_temp.events_of('conversation.completed')), 1, 'a conversation that ends is conversation.completed');
select is((select array_agg(k order by k) from jsonb_object_keys(pg_temp.payload_of('conversation.completed') #> '{data,conversation}') k),
          array['completed_at', 'completion_reason', 'details', 'id', 'lead_id', 'locale', 'question_count', 'started_at', 'status', 'turn_count'],
          'conversation.completed: the conversation has exactly the documented keys');
select is(pg_temp.payload_of('conversation.completed') #>> '{data,conversation,status}' || '/' ||
          (pg_temp.payload_of('conversation.completed') #>> '{data,conversation,completion_reason}'), 'completed/slots_filled', '...and says how it ended');
select public.complete_conversation_summary((select id from conv),
  '{"need": "Fix a leaking water heater", "timing": null, "timing_start": null, "location": "78701", "constraints": [], "missing": ["timing"],
    "text": "Lead: fix a water heater", "source": "builtin", "fallback_reason": "no_llm"}', array['Lead: fix a water heater']);
select is((select count(*)::int from pg_temp.events_of('summary.ready')), 1, 'a finished summary is summary.ready');
select is(pg_temp.payload_of('summary.ready') #> '{data,summary}',
          '{"need": "Fix a leaking water heater", "timing": null, "timing_start": null, "location": "78701", "constraints": [], "missing": ["timing"], "text": "Lead: fix a water heater"}'::jsonb,
          'summary.ready: the summary''s documented keys, not how it was made');
select is((select array_agg(k order by k) from jsonb_object_keys(pg_temp.payload_of('summary.ready') -> 'data') k),
          array['business_id', 'completed_at', 'conversation_id', 'lead_id', 'summary'], '...with the ids it belongs to');

-- lead.opted_out
insert into public.opt_outs (business_id, phone, source, matched_rule) select business_a, '+15124720123', 'keyword', 'keyword:STOP' from ids;
select is((pg_temp.payload_of('lead.opted_out') -> 'data') - 'opted_out_at'::text,
          jsonb_build_object('business_id', (select business_a from ids), 'phone', '+15124720123', 'source', 'keyword', 'lead_id', (select id from lead)),
          'an opt-out is lead.opted_out with the number, its source and the latest lead');
select is((select count(*)::int from public.webhook_deliveries where event_type = 'lead.opted_out'), 2,
          '...delivered to both enabled endpoints that subscribe to it');

-- Capturing never costs the change
alter table public.webhook_events add constraint webhook_events_refuse_all check (false) not valid;
select lives_ok($$select pg_temp.submit((select widget_a from ids), '+15124720126')$$, 'when capturing fails, the lead is still saved');
alter table public.webhook_events drop constraint webhook_events_refuse_all;

-- Who reads events and deliveries
select pg_temp.as_user((select owner_a from ids));
select ok((select count(*) from public.webhook_events) >= 5 and (select count(*) from public.webhook_deliveries) >= 5,
          'webhook_events/select and webhook_deliveries/select: the owner reads the log');
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.webhook_events) + (select count(*)::int from public.webhook_deliveries), 0,
          'webhook_events/select and webhook_deliveries/select: staff read nothing');
select throws_ok($$update public.webhook_deliveries set status = 'succeeded'$$, '42501', null, 'webhook_deliveries/update: denied to users');
select pg_temp.as_user((select owner_b from ids));
select is((select count(*)::int from public.webhook_events) + (select count(*)::int from public.webhook_deliveries), 0,
          '...nor another business''s owner');
select pg_temp.as_postgres();
set local role anon;
select throws_ok('select id from public.webhook_deliveries', '42501', null, 'webhook_deliveries/select: anon is refused');
select throws_ok('select id from public.webhook_events', '42501', null, 'webhook_events/select: anon is refused');
reset role;

select * from finish();
rollback;
