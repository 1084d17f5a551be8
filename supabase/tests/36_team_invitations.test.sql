-- Issue 9 item 6: owners invite by email (a one-time link, only its hash stored), the invited address joins
-- in the invited role; a wrong account, an expired, revoked or used link is refused in words; owners list and
-- revoke invitations and see the team; staff, other businesses and anon do none of it.
begin;
\ir _helpers.psql
select plan(27);
select pg_temp.two_businesses();
update ids set extra = pg_temp.new_user('new.hire@example.com');
create temp table other_user as select pg_temp.new_user('someone.else@example.com') as id;
grant select on other_user to authenticated;
create temp table staff_email as select email from auth.users where id = (select staff_a from ids);
grant select on staff_email to authenticated;

select pg_temp.as_user((select owner_a from ids));
create temp table inv as select public.invite_member((select business_a from ids), '  New.Hire@Example.com ', 'staff') as id;
select pg_temp.as_postgres();
grant select on inv to authenticated;
select is((select email || ' ' || role from public.invitations where id = (select id from inv)), 'new.hire@example.com staff',
          'invite_member: an owner invites an address (kept in lower case) as staff');
create temp table mail as select * from private.email_outbox where template = 'team_invitation' and to_address = 'new.hire@example.com';
select is((select count(*)::int from mail), 1, 'the invitation is emailed, once');
create temp table link as select substring(body_text from '/join\?token=([0-9a-f]{64})') as token from mail;
grant select on link to authenticated;
select ok((select token is not null from link), 'the email carries the accept link with its token');
select is((select token_hash from public.invitations where id = (select id from inv)), private.invitation_token_hash((select token from link)),
          'only the token''s hash is stored');
select ok((select body_text ~ 'invited you to join .* as a team member' and body_text ~ 'expires 20' from mail), '...and says who, what role and until when');

-- refusals for invite_member
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$select public.invite_member((select business_a from ids), 'x@example.com', 'staff')$$, '42501',
                 'only an owner of this business can do this', 'invite_member: not staff');
select pg_temp.as_user((select owner_b from ids));
select throws_ok($$select public.invite_member((select business_a from ids), 'x@example.com', 'owner')$$, '42501',
                 'only an owner of this business can do this', 'invite_member: not another business''s owner');
select is((select count(*)::int from public.invitations where business_id = (select business_a from ids)), 0,
          'invitations/select: another business''s owner sees none');
select pg_temp.as_user((select owner_a from ids));
select throws_ok($$select public.invite_member((select business_a from ids), 'not an address', 'staff')$$, '22023',
                 'enter an email address, like name@example.com', 'invite_member: a bad address');
select throws_ok($$select public.invite_member((select business_a from ids), 'x@example.com', 'admin')$$, '22023',
                 'the role must be owner or staff', 'invite_member: an unknown role');
select throws_ok(format($$select public.invite_member(%L, %L, 'staff')$$, (select business_a from ids),
                        (select email from staff_email)), '23505', null, 'invite_member: not someone already on the team');
select is((select count(*)::int from public.invitations), 1, 'invitations/select: the owner sees the pending invitation');
select pg_temp.as_user((select staff_a from ids));
select is((select count(*)::int from public.invitations), 0, 'invitations/select: staff do not');
set local role anon;
select throws_ok($$select public.invite_member((select business_a from ids), 'x@example.com', 'staff')$$, '42501', null, 'invite_member: not anon');
select throws_ok($$select public.accept_invitation((select token from link))$$, '42501', null, 'accept_invitation: not anon');
reset role;

-- accepting
select pg_temp.as_user((select id from other_user));
select throws_ok($$select public.accept_invitation((select token from link))$$, '42501',
                 'this invitation is for new.hire@example.com: sign in with that address (confirmed) to accept it', 'accept_invitation: not another account');
select throws_ok($$select public.accept_invitation('0000')$$, 'P0002', 'this invitation link is not valid: check that you opened the whole link',
                 'accept_invitation: an unknown token');
select pg_temp.as_user((select extra from ids));
select is(public.accept_invitation((select token from link)), (select business_a from ids), 'accept_invitation: the invited address joins');
select pg_temp.as_postgres();
select is((select role from public.business_members where user_id = (select extra from ids) and business_id = (select business_a from ids)), 'staff',
          '...in the invited role');
select pg_temp.as_user((select extra from ids));
select throws_ok($$select public.accept_invitation((select token from link))$$, 'P0001', 'this invitation was already used', 'accept_invitation: once');
select is((select count(*)::int from public.team_members((select business_a from ids))), 3, 'team_members: the new member sees the team');
select throws_ok($$select * from public.team_members((select business_b from ids))$$, '42501', 'only a member of this business can do this',
                 'team_members: not another team');

-- expired, revoked, replaced
select pg_temp.as_user((select owner_a from ids));
create temp table inv2 as select public.invite_member((select business_a from ids), 'late@example.com', 'owner') as first,
                                 public.invite_member((select business_a from ids), 'late@example.com', 'owner') as second;
select pg_temp.as_postgres();
select ok((select revoked_at is not null from public.invitations where id = (select first from inv2)), 'inviting again replaces the pending link');
select pg_temp.as_user((select staff_a from ids));
select throws_ok($$select public.revoke_invitation((select second from inv2))$$, '42501', 'only an owner of this business can do this', 'revoke_invitation: not staff');
select pg_temp.as_user((select owner_a from ids));
select is(public.revoke_invitation((select second from inv2)), true, 'revoke_invitation: an owner withdraws it');
select pg_temp.as_postgres();
create temp table revoked_link as select substring(body_text from '/join\?token=([0-9a-f]{64})') as token from private.email_outbox
  where dedupe_key = 'invitation:' || (select second from inv2);
grant select on revoked_link to authenticated;
update public.invitations set expires_at = now() - interval '1 minute', token_hash = private.invitation_token_hash('expired-token')
 where id = (select id from inv);
update public.invitations set accepted_at = null, accepted_by = null where id = (select id from inv);
select pg_temp.as_user((select extra from ids));
select throws_ok($$select public.accept_invitation('expired-token')$$, 'P0001', 'this invitation has expired: ask the owner for a new one',
                 'accept_invitation: not after 7 days');
select throws_ok($$select public.accept_invitation((select token from revoked_link))$$, 'P0001',
                 'this invitation was withdrawn or replaced by a newer one: use the latest email, or ask for a new invitation', 'accept_invitation: not a revoked link');

select * from finish();
rollback;
