-- Late texts: a past lead's text nobody answers is relayed to the owner (3 per lead per hour), the owner's
-- "<code> ..." commands from the confirmed owner phone, and texts to a previous sending number.
begin;
\ir _helpers.psql
select plan(26);
create temp table bid as select pg_temp.new_business() as id;
create temp table biz as select b.* from public.businesses b where b.id = (select id from bid);
update auth.users set raw_user_meta_data = '{"full_name": "Olivia Owner"}'
 where id = (select user_id from public.business_members where business_id = (select id from biz) and role = 'owner');
create temp table c as select pg_temp.started((select id from biz), pg_temp.random_phone()) as id;
create temp table lead as select l.* from public.leads l join public.conversations cv on cv.lead_id = l.id where cv.id = (select id from c);

select matches((select short_code from lead), '^[1-9][0-9]{3}$', 'every lead gets a 4-digit short code');
select matches((select body from public.messages where lead_id = (select id from lead) and kind = 'owner_alert'),
               E'\nReply from this number: text ' || (select short_code from lead) || ' and your message, or ' || (select short_code from lead) || ' CALLED$',
               'the owner alert ends with how to answer by text, with the code');

-- a reply after the conversation closed
select private.close_conversation((select id from c), 'completed', 'slots_filled');
select is(pg_temp.inbound('SM36000000000000000000000000000001', (select phone from lead), (select twilio_number from biz), E'Hi again,\nare you\u200b free Friday?') ->> 'outcome',
          'late_reply', 'a text after the conversation closed is a late reply');
select is((select body from public.messages where lead_id = (select id from lead) and kind = 'owner_notice'),
          (select name from lead) || ' (lead, 1 min ago): Hi again, are you free Friday?' || E'\nReply: ' || (select short_code from lead) || ' and your message',
          'it is relayed to the owner: name, how long ago the lead came, the text cleaned to one line, the code');
select is((select to_phone || ' ' || status from public.messages where lead_id = (select id from lead) and kind = 'owner_notice'),
          (select owner_phone from biz) || ' queued', '...to the owner phone, at once');
select is((select unread_count from public.leads where id = (select id from lead)), 1, 'the thread is unread again');
select pg_temp.inbound('SM3600000000000000000000000000000' || n, (select phone from lead), (select twilio_number from biz), 'More ' || n)
  from generate_series(2, 5) n;
select is((select count(*)::int from public.messages where lead_id = (select id from lead) and kind = 'owner_notice'), 3,
          'at most 3 relays per lead per hour');
select is((select unread_count from public.leads where id = (select id from lead)), 5, '...every text is still stored and unread');
select is(pg_temp.inbound('SM36000000000000000000000000000002', (select phone from lead), (select twilio_number from biz), 'More 2') ->> 'outcome',
          'duplicate', 'a replayed webhook relays nothing again');

-- a lead who was never texted (no consent) writes in
create temp table quiet_lead as select pg_temp.submit(pg_temp.widget_of((select id from biz)), pg_temp.random_phone(), false) as id;
select is(pg_temp.inbound('SM36000000000000000000000000000010', (select phone from public.leads where id = (select id from quiet_lead)),
                          (select twilio_number from biz), 'Did you get my form?') ->> 'outcome',
          'late_reply', 'a past lead with no conversation at all is relayed too');

-- a taken-over conversation: the engine stays quiet, so the owner hears of it
create temp table taken as select pg_temp.started((select id from biz), pg_temp.random_phone()) as id;
update public.conversations set bot_paused_at = now() where id = (select id from taken);
select is(pg_temp.inbound('SM36000000000000000000000000000011', (select lead_phone from public.conversations where id = (select id from taken)),
                          (select twilio_number from biz), 'Ok see you then') ->> 'outcome', 'reply', 'a reply in a taken-over conversation is still a reply');
select is((select count(*)::int from public.messages m join public.conversations cv on cv.lead_id = m.lead_id
            where cv.id = (select id from taken) and m.kind = 'owner_notice'), 1, '...and relayed to the owner');

-- unknown numbers: stored for the business, tied to no lead, nobody texted
select is(pg_temp.inbound('SM36000000000000000000000000000012', '+13125550199', (select twilio_number from biz), 'Is the shop open on Saturday?') ->> 'outcome',
          'no_conversation', 'a stranger''s text is stored');
select is((select count(*)::int from public.messages where from_phone = '+13125550199' and lead_id is null and business_id = (select id from biz)), 1,
          '...in the business''s messages, tied to no lead (the Other texts)');

-- owner commands
select is(pg_temp.inbound('SM36000000000000000000000000000020', (select owner_phone from biz), (select twilio_number from biz),
                          (select short_code from lead) || ' called.') ->> 'outcome', 'owner_command_status', 'the owner texts "<code> called"');
select is((select status from public.leads where id = (select id from lead)), 'contacted', '...and the lead is contacted');
select is((select actor_name || ' ' || via from public.lead_events where lead_id = (select id from lead) and field = 'status'),
          'Olivia Owner sms', '...recorded as the owner, by text');
select matches((select body from public.messages where dedupe_key = 'command:SM36000000000000000000000000000020'), ' is now Contacted\.$',
               '...and the owner gets a confirmation');
select is(pg_temp.inbound('SM36000000000000000000000000000021', (select owner_phone from biz), (select twilio_number from biz),
                          (select short_code from lead) || ' On my way, 10 minutes') ->> 'outcome', 'owner_command_reply', 'the owner texts "<code> <message>"');
select is((select to_phone || ' ' || body || ' ' || sent_by_name from public.messages where lead_id = (select id from lead) and kind = 'owner_reply'),
          (select phone from lead) || ' On my way, 10 minutes Olivia Owner', '...and the lead is texted from the business number, as the owner');
create temp table unused as select min(n)::text as code from generate_series(1000, 9999) n
 where not exists (select 1 from public.leads l where l.business_id = (select id from biz) and l.short_code = n::text);
select is(pg_temp.inbound('SM36000000000000000000000000000022', (select owner_phone from biz), (select twilio_number from biz),
                          (select code from unused) || ' hello') ->> 'outcome', 'owner_command_unknown', 'an unknown code...');
select matches((select body from public.messages where dedupe_key = 'command:SM36000000000000000000000000000022'),
               '^No lead has the code [0-9]{4}\. Text the 4-digit code from a lead alert', '...gets a helpful answer');
select pg_temp.inbound('SM36000000000000000000000000000025', (select owner_phone from biz), (select twilio_number from biz), (select short_code from lead));
select matches((select body from public.messages where dedupe_key = 'command:SM36000000000000000000000000000025'),
               '^Add your text after the code: [0-9]{4} On my way', 'a code alone asks for the text');
select is(pg_temp.inbound('SM36000000000000000000000000000023', (select phone from public.leads where id = (select id from quiet_lead)), (select twilio_number from biz),
                          (select short_code from lead) || ' called') ->> 'outcome', 'late_reply', 'the same text from any other phone is no command');
update public.businesses set owner_phone_verified_at = null where id = (select id from biz);
select isnt(pg_temp.inbound('SM36000000000000000000000000000024', (select owner_phone from biz), (select twilio_number from biz),
                          (select short_code from lead) || ' won') ->> 'outcome', 'owner_command_status', '...nor from an unconfirmed owner phone');

-- a business's previous sending number still reaches it
insert into public.previous_sending_numbers (phone_number, business_id) values ('+15125550777', (select id from biz));
select is(pg_temp.inbound('SM36000000000000000000000000000030', (select phone from lead), '+15125550777', 'STOP') ->> 'outcome', 'opted_out',
          'a STOP to the previous number is applied to the business');

select * from finish();
rollback;
