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
  perform private.close_conversations_for_opt_out(new.business_id, new.phone);
  return null;
end
$$;
comment on function private.opt_outs_close_conversations() is 'AFTER INSERT on opt_outs: close open conversations with the number and cancel its queued texts (except the opt-out confirmation).';
revoke execute on function private.opt_outs_close_conversations() from public, anon, authenticated;

create trigger opt_outs_close_conversations after insert on public.opt_outs
  for each row execute function private.opt_outs_close_conversations();
