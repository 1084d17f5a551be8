-- What every outbound text passes through, whichever path composed it (issue 12): private.enqueue_outbound
-- calls private.guard_outbound on each row it writes. Owner texts wait while the owner phone is
-- unconfirmed; texts to a number leadloop never texts (private.texting_refusal) are canceled with that
-- reason (a STOP confirmation or HELP answer to a premium-rate number costs like any other text); and the
-- first text a lead gets from a business carries the opt-out wording, even when it is not the text-back
-- (a lead who writes before the deferred text-back goes out first hears the engine's question).

insert into private.sms_copy (key, locale, audience, asks, body, body_without_name) values
  ('opt_out_notice', 'en', 'lead', '{}', 'Reply STOP to opt out.', null),
  ('opt_out_notice', 'es', 'lead', '{}', 'Responda STOP para no recibir más mensajes (Reply STOP to opt out).', null);

-- Whether the lead has had (or will have) a text from the business carrying the opt-out wording: a
-- text-back or nudge to the phone (they always carry it), or any text in this conversation.
create or replace function private.lead_has_opt_out_wording(p_business_id uuid, p_phone text, p_conversation_id uuid, p_except uuid)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
  select exists (select 1 from public.messages m
                  where m.to_phone = p_phone and m.kind in ('text_back', 'nudge') and m.business_id = p_business_id
                    and m.status not in ('canceled', 'failed') and m.id <> p_except)
      or exists (select 1 from public.messages m
                  where m.conversation_id = p_conversation_id and m.direction = 'outbound'
                    and m.status not in ('canceled', 'failed') and m.id <> p_except)
  );
end
$$;
comment on function private.lead_has_opt_out_wording(uuid, text, uuid, uuid) is 'True when the lead already has a live text-back or nudge from the business, or another live text in the conversation (so the opt-out wording reached them or will).';
revoke execute on function private.lead_has_opt_out_wording(uuid, text, uuid, uuid) from public;

create or replace function private.guard_outbound(
  p_message_id uuid, p_business public.businesses, p_kind text, p_to text, p_body text, p_conversation_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  refusal text;
  locale text;
begin
  if private.is_owner_text(p_kind) then
    if p_business.owner_phone_verified_at is null then
      perform private.hold_owner_texts(p_business.id, p_message_id);
    end if;
    return;
  elsif p_kind = 'verification' then
    return;
  elsif p_kind in ('member_alert', 'member_summary', 'member_notice') then
    -- A member's alert phone that texted STOP gets nothing more (the claim checks again at send time).
    if private.is_opted_out(p_business.id, p_to) then
      update public.messages m set status = 'canceled', status_reason = 'opted_out' where m.id = p_message_id;
    end if;
    return;
  end if;
  -- The text-back is written only by intake, which has refused these numbers already (leads_before_insert).
  refusal := case when p_kind <> 'text_back' then private.texting_refusal(p_business, p_to) end;
  if refusal is not null then
    update public.messages m set status = 'canceled', status_reason = refusal where m.id = p_message_id;
  elsif p_kind <> 'opt_out_ack' and p_body !~ 'Reply STOP'
        and not private.lead_has_opt_out_wording(p_business.id, p_to, p_conversation_id, p_message_id) then
    locale := coalesce((select c.current_locale from public.conversations c where c.id = p_conversation_id), p_business.default_locale);
    update public.messages m
       set body = left(m.body || ' ' || private.render_sms('opt_out_notice', locale, '{}', '{}', p_business.id), 1600)
     where m.id = p_message_id;
  end if;
end
$$;
comment on function private.guard_outbound(uuid, public.businesses, text, text, text, uuid) is 'Called by enqueue_outbound on each new text: holds owner texts while the owner phone is unconfirmed, cancels member texts to an opted-out alert phone, cancels texts to numbers leadloop never texts (status_reason = the refusal), and appends the opt-out wording to a lead''s first text.';
revoke execute on function private.guard_outbound(uuid, public.businesses, text, text, text, uuid) from public;

comment on column public.messages.status_reason is 'Why a text is where it is: owner_phone_unverified (held until the owner confirms the phone), daily_sms_cap, a number never texted (premium_rate, non_geographic, fictional_number, invalid_phone, country_not_allowed), opted_out, alert_phone_removed (a member text whose phone left the team or changed), lead_replied, conversation_closed, lease_expired, dead_letter: ...';
