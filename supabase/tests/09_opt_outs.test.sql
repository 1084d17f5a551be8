-- Opt-outs (the do-not-text list): every policy, role and command, one allowed and one denied case; an entry
-- ends the number's conversations. Members change the list only through add_do_not_text / remove_do_not_text,
-- each change audited in do_not_text_events (who, when, why); a lead's own opt-out is not theirs to lift.
begin;
\ir _helpers.psql
select plan(30);
select pg_temp.two_businesses();

select pg_temp.as_user((select owner_a from ids));
select is((select count(*)::int from public.opt_outs), 1, 'opt_outs/select: members read their own suppression list only');
select throws_ok($$insert into public.opt_outs (business_id, phone) select business_a, '+15550002222' from ids$$, '42501', null,
                 'opt_outs/insert: not directly, even for an owner (no reason, no audit)');
select throws_ok($$delete from public.opt_outs$$, '42501', null, 'opt_outs/delete: nobody lifts an opt-out by hand');
select is(public.add_do_not_text((select business_a from ids), '+15550002222', 'Asked us on the phone not to text'), true,
          'add_do_not_text: an owner adds a number with a reason');
select is(public.add_do_not_text((select business_a from ids), '+15550002222', 'Again'), false, '...a second time it says it was already there');
select throws_ok($$select public.add_do_not_text((select business_b from ids), '+15550002222', 'Not my business')$$, '42501',
                 'only a member of this business can do this', 'add_do_not_text: not to another business''s list');
select throws_ok($$select public.add_do_not_text((select business_a from ids), '4155550123', 'Bad number')$$, '22023',
                 'enter the number with its country code, like +14155550123', 'add_do_not_text: a number must be E.164');
select throws_ok($$select public.add_do_not_text((select business_a from ids), '+15550002223', ' ')$$, '22023',
                 'say why (at least 3 characters)', 'add_do_not_text: a reason is required');

select pg_temp.as_user((select staff_a from ids));
select is(public.add_do_not_text((select business_a from ids), '+15550003333', 'Customer called to complain'), true,
          'add_do_not_text: staff may add (stopping texts is always safe)');
select throws_ok($$select public.remove_do_not_text((select business_a from ids), '+15550003333', 'Changed my mind')$$, '42501',
                 'only an owner of this business can do this', 'remove_do_not_text: staff cannot remove');
select pg_temp.as_postgres();
select is((select source from public.opt_outs where phone = '+15550002222'), 'owner', 'dashboard entries are recorded as source owner');
select is((select reason || ' / ' || actor_email from public.do_not_text_events
            where phone = '+15550003333' and action = 'added'),
          'Customer called to complain / ' || (select email from auth.users where id = (select staff_a from ids)),
          'the audit says why and who (with their email)');
select is((select count(*)::int from public.do_not_text_events where phone = '+15550002222'), 1, 'an add that changed nothing leaves no audit row');

-- removal: only what a member added, with a reason
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$select public.remove_do_not_text((select business_a from ids), '+15550001111', 'They want texts again')$$, 'P0001',
                 'this number opted out itself or its carrier refused texts: only the lead can undo that, by texting START to your number',
                 'remove_do_not_text: a STOP is the lead''s to undo, not the owner''s');
select throws_ok($$select public.remove_do_not_text((select business_a from ids), '+15550003333', '')$$, '22023',
                 'say why (at least 3 characters)', 'remove_do_not_text: a reason is required');
select throws_ok($$select public.remove_do_not_text((select business_a from ids), '+15550009999', 'Not there')$$, 'P0002',
                 'that number is not on the do-not-text list', 'remove_do_not_text: an unknown number is refused clearly');
select lives_ok($$select public.remove_do_not_text((select business_a from ids), '+15550003333', 'Added by mistake, it is a supplier')$$,
                'remove_do_not_text: an owner removes a member''s entry with a reason');
select pg_temp.as_postgres();
select ok(not private.is_opted_out((select business_a from ids), '+15550003333'), '...and the number may be texted again');
select is((select action || ': ' || reason || ' by ' || actor_email from public.do_not_text_events where phone = '+15550003333' order by id desc limit 1),
          'removed: Added by mistake, it is a supplier by ' || (select email from auth.users where id = (select owner_a from ids)),
          'the removal is audited with its reason and who');
select is((select source || ' ' || reason || ' ' || coalesce(actor_id::text, 'nobody') from public.do_not_text_events
            where business_id = (select business_a from ids) and phone = '+15550001111'),
          'keyword keyword:STOP nobody', 'a STOP is audited too: the rule that matched, no member');
select is(current_setting('leadloop.do_not_text_reason', true), '', 'the reason does not leak into later changes in the transaction');

-- an entry ends the number's conversation
create temp table owner_stop as select pg_temp.submit((select widget_a from ids), '+15552004444') as lead;
select pg_temp.as_user((select owner_a from ids));
select public.add_do_not_text((select business_a from ids), '+15552004444', 'Wrong person');
select pg_temp.as_postgres();
select is((select status from public.conversations where lead_id = (select lead from owner_stop)), 'opted_out', 'an owner''s do-not-text entry ends the open conversation');
select is((select status || ' ' || status_reason from public.messages where lead_id = (select lead from owner_stop) and kind = 'text_back'), 'canceled opted_out',
          '...and cancels the text-back still waiting');

-- the audit is read-only and per business
select pg_temp.as_user((select owner_b from ids));
select is((select count(*)::int from public.do_not_text_events where business_id = (select business_a from ids)), 0,
          'do_not_text_events/select: not another business''s audit');
select pg_temp.as_user((select staff_a from ids));
select ok((select count(*)::int from public.do_not_text_events) >= 4, 'do_not_text_events/select: members (staff too) read their audit');
select throws_ok($$delete from public.do_not_text_events$$, '42501', null, 'do_not_text_events/delete: nobody rewrites the audit');
select throws_ok($$update public.do_not_text_events set reason = 'x'$$, '42501', null, 'do_not_text_events/update: nobody rewrites the audit');

set local role anon;
select throws_ok('select * from public.opt_outs', '42501', null, 'opt_outs/select: anon reads nothing');
select throws_ok($$select public.add_do_not_text((select business_a from ids), '+15550005555', 'anon')$$, '42501', null, 'add_do_not_text: anon cannot');
reset role;
select ok(private.is_opted_out((select business_a from ids), '+15550001111') and not private.is_opted_out((select business_a from ids), '+15550009876'),
          'is_opted_out answers per business and number');

select * from finish();
rollback;
