-- The owner's summary before the callback, not after the idle timeout. It is due:
--   * at once when the conversation ends (questions answered, or any other close: close_conversation);
--   * summary_delay_minutes (default 15) after the lead's last reply, so a lead who answered part of
--     the questions and went quiet is summarized while the owner can still call (each reply moves it);
--   * for a lead who never replied, when the nudge goes out (lifecycle_sweep): the summarizer then
--     labels it "No reply yet — from the form".
-- One summary per conversation: the first of these wins (claim_due_summaries, dedupe owner_summary:<id>).
-- The owner alert is written at intake and never waits for any of this.

alter table public.businesses
  add column summary_delay_minutes integer not null default 15 check (summary_delay_minutes between 1 and 1440);
comment on column public.businesses.summary_delay_minutes is 'Minutes after a lead''s last reply when the owner summary goes out if the conversation has not ended by then (1 to 1440, default 15).';
grant update (summary_delay_minutes) on public.businesses to authenticated;

create or replace function private.conversations_schedule_summary()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- is_open is a generated column, not computed yet in a BEFORE trigger.
  if new.status in ('pending', 'awaiting_reply', 'active') and new.summary_status in ('not_due', 'due') then
    new.summary_status := 'due';
    new.summary_due_at := new.last_inbound_at
      + make_interval(mins => (select b.summary_delay_minutes from public.businesses b where b.id = new.business_id));
  end if;
  return new;
end
$$;
comment on function private.conversations_schedule_summary() is 'BEFORE UPDATE OF last_inbound_at on conversations: a lead''s reply makes the summary due summary_delay_minutes later (unless it is being written or was sent).';
revoke execute on function private.conversations_schedule_summary() from public;

create trigger conversations_schedule_summary before update of last_inbound_at on public.conversations
  for each row when (new.last_inbound_at is distinct from old.last_inbound_at and new.last_inbound_at is not null)
  execute function private.conversations_schedule_summary();
