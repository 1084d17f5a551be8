-- Opt-outs: the per-business do-not-text list. A STOP (or an FCC "reasonable means" wording), "wrong
-- number" or "not interested", a carrier error or the owner puts a number on it; from then on nothing
-- but the one confirmation of that opt-out (and HELP answers) goes to that number: intake does not
-- start a conversation, the claim cancels what is due (private.suppression_reason), and adding the
-- number ends its open conversations at once. START removes it and is remembered (private.opt_ins), so
-- a late carrier callback about a text sent before it opts nobody out again.

create table public.opt_outs (
  business_id uuid not null references public.businesses (id) on delete cascade,
  phone text not null check (private.is_e164(phone)),
  source text not null default 'owner' check (source in ('keyword', 'reply', 'carrier', 'owner')),
  matched_rule text not null default 'owner' check (length(matched_rule) between 1 and 100),
  inbound_message_id uuid references public.messages (id) on delete set null,
  confirmation_message_id uuid references public.messages (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (business_id, phone)
);
comment on table public.opt_outs is 'Per-business do-not-text list (STOP keywords and FCC reasonable wordings: keyword; "wrong number" / "not interested": reply; carrier errors 21610/30005/30006; owner entries). Checked when a follow-up starts and again at send time.';
-- Deleting a message (with its business) looks up the opt-out it caused.
create index opt_outs_inbound_message_id_idx on public.opt_outs (inbound_message_id) where inbound_message_id is not null;
create index opt_outs_confirmation_message_id_idx on public.opt_outs (confirmation_message_id) where confirmation_message_id is not null;
comment on column public.opt_outs.matched_rule is 'Which rule matched: keyword:STOP, phrase:stop texting me, phrase:wrong number, twilio:OptOutType=STOP, carrier:21610, owner, ...';
comment on column public.opt_outs.confirmation_message_id is 'The one text allowed to reach the number after it opted out: its confirmation (sent only within 5 minutes).';

-- The last time a number opted back in (START, YES, UNSTOP while opted out).
create table private.opt_ins (
  business_id uuid not null references public.businesses (id) on delete cascade,
  phone text not null check (private.is_e164(phone)),
  opted_in_at timestamptz not null,
  inbound_message_id uuid references public.messages (id) on delete set null,
  primary key (business_id, phone)
);
comment on table private.opt_ins is 'When a number last opted back in with a business: a carrier opt-out error about a text sent before then is stale and adds nothing.';
create index opt_ins_inbound_message_id_idx on private.opt_ins (inbound_message_id) where inbound_message_id is not null;
alter table private.opt_ins enable row level security;
revoke all on private.opt_ins from public, anon, authenticated;

alter table public.opt_outs enable row level security;
revoke all on public.opt_outs from anon, authenticated;
-- Members change the list only through add_do_not_text / remove_do_not_text (do_not_text.sql), which
-- require a reason and leave an audit row.
grant select on public.opt_outs to authenticated;
grant all on public.opt_outs to service_role;

create policy "members can read their business opt-outs" on public.opt_outs
  for select to authenticated
  using (business_id in (select private.member_business_ids()));

create or replace function private.is_opted_out(p_business_id uuid, p_phone text)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
  select exists (select 1 from public.opt_outs o where o.business_id = p_business_id and o.phone = p_phone)
  );
end
$$;
comment on function private.is_opted_out(uuid, text) is 'True when the business may no longer text the number.';
revoke execute on function private.is_opted_out(uuid, text) from public;

-- Whatever adds a number to a business's suppression list (STOP, a carrier error, the owner in the
-- dashboard) ends that number's open conversations and cancels texts still waiting for it, so no
-- conversation is left pending behind a text that will never be sent.
create or replace function private.opt_outs_close_conversations()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.messages m
     set status = 'canceled', status_reason = 'opted_out'
   where m.business_id = new.business_id and m.to_phone = new.phone and m.status in ('queued', 'deferred')
     and m.kind <> 'help' and not private.is_owner_text(m.kind);
  perform private.close_conversation(c.id, 'opted_out', 'opted_out')
     from public.conversations c
    where c.business_id = new.business_id and c.lead_phone = new.phone and c.is_open;
  return null;
end
$$;
comment on function private.opt_outs_close_conversations() is 'AFTER INSERT on opt_outs: cancel the number''s waiting texts (all but HELP answers; its confirmation is queued after) and end its open conversations.';
revoke execute on function private.opt_outs_close_conversations() from public;

create trigger opt_outs_close_conversations after insert on public.opt_outs
  for each row execute function private.opt_outs_close_conversations();

-- The send-time check (claim_outbound_messages), on the current opt-out state, for every kind sent to a
-- lead: why this text must not go out now, or null. An opt-out lets through only its own confirmation,
-- and only within 5 minutes of it (sms-compliance); an opt-out confirmation whose opt-out was undone
-- (START), or a START confirmation that a later STOP overtook, is stale. HELP is always answered.
create or replace function private.suppression_reason(p_message public.messages, p_at timestamptz default now())
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
    select case
      when p_message.kind = 'help' or private.is_owner_text(p_message.kind) then null
      when p_message.kind = 'opt_out_ack' then
        case when o.phone is null or o.confirmation_message_id is distinct from p_message.id then 'superseded'
             when p_at > o.created_at + interval '5 minutes' then 'confirmation_too_late' end
      when o.phone is not null then 'opted_out'
    end
    from (select 1) one
    left join public.opt_outs o on o.business_id = p_message.business_id and o.phone = p_message.to_phone);
end
$$;
comment on function private.suppression_reason(public.messages, timestamptz) is 'Why a text must not go out at p_at given the current opt-out state (opted_out, superseded, confirmation_too_late), or null. Owner texts and HELP answers are never held.';
revoke execute on function private.suppression_reason(public.messages, timestamptz) from public;
