-- Opt-outs: the per-business do-not-text list. A STOP (or an FCC "reasonable means" wording), a
-- carrier error or the owner puts a number on it; from then on nothing but the one opt-out
-- confirmation goes to that number: intake does not start a conversation, the claim cancels what is
-- due, and adding the number ends its open conversations at once.

create table public.opt_outs (
  business_id uuid not null references public.businesses (id) on delete cascade,
  phone text not null check (private.is_e164(phone)),
  source text not null default 'owner' check (source in ('keyword', 'carrier', 'owner')),
  matched_rule text not null default 'owner' check (length(matched_rule) between 1 and 100),
  inbound_message_id uuid references public.messages (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (business_id, phone)
);
comment on table public.opt_outs is 'Per-business suppression list (STOP keywords, FCC reasonable wordings, carrier errors 21610/30005/30006, owner entries). Checked when a follow-up starts and again at send time.';
-- Deleting a message (with its business) looks up the opt-out it caused.
create index opt_outs_inbound_message_id_idx on public.opt_outs (inbound_message_id) where inbound_message_id is not null;
comment on column public.opt_outs.matched_rule is 'Which rule matched: keyword:STOP, phrase:stop texting me, twilio:OptOutType, carrier:21610, owner, ...';

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
     and m.kind <> 'opt_out_ack';
  perform private.close_conversation(c.id, 'opted_out', 'opted_out')
     from public.conversations c
    where c.business_id = new.business_id and c.lead_phone = new.phone and c.is_open;
  return null;
end
$$;
comment on function private.opt_outs_close_conversations() is 'AFTER INSERT on opt_outs: cancel the number''s queued texts (except the opt-out confirmation) and end its open conversations.';
revoke execute on function private.opt_outs_close_conversations() from public;

create trigger opt_outs_close_conversations after insert on public.opt_outs
  for each row execute function private.opt_outs_close_conversations();
