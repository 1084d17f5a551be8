-- "Send a test lead" (issue 9 item 4): an owner checks the whole loop from the dashboard. The lead goes
-- through the same intake as the widget's (leads_before_insert with the caller's role, so the Origin
-- check, the client address limits, the consent text snapshot, the billing gate and the texts all
-- apply): the request is made as if from the widget's first allowed site, which only an owner of the
-- widget may claim. The lead's phone is the owner phone, so the owner receives both the alert and the
-- text-back a lead would get, and consents to it by asking. It is flagged, so lists can tell it apart.

alter table public.leads add column is_test boolean not null default false;
comment on column public.leads.is_test is 'A test lead an owner sent from the dashboard (send_test_lead) to the owner phone, not a real customer.';

create or replace function public.send_test_lead(p_widget_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  widget public.widgets;
  business public.businesses;
  headers jsonb := private.request_headers();
  lead_id uuid;
begin
  select * into widget from public.widgets w where w.id = p_widget_id;
  -- The same refusal for a widget that does not exist and one of another business.
  perform private.require_owner(widget.business_id);
  if not widget.active then
    raise exception 'this form is off: turn it on to send a test lead' using errcode = '22023';
  end if;
  select * into business from public.businesses b where b.id = widget.business_id;
  -- For this statement only: the request comes from the widget's first allowed site (the client's own
  -- address and user agent are kept, so the address limits count the owner like anyone else).
  perform set_config('request.headers', (headers || jsonb_build_object('origin', widget.allowed_origins[1]))::text, true);
  insert into public.leads (widget_id, name, phone, message, source_url, sms_consent, locale, is_test)
  values (widget.id, 'Test Lead', business.owner_phone,
          'This is a test lead sent from the leadloop dashboard.', widget.allowed_origins[1] || '/', true, business.default_locale, true)
  returning id into lead_id;
  perform set_config('request.headers', headers::text, true);
  return lead_id;
end
$$;
comment on function public.send_test_lead(uuid) is 'Owners: submits a test lead (is_test) on their widget through the widget''s own intake rules, from its first allowed site, to the owner phone with consent: the owner gets the alert and the text-back. Counts as a conversation.';
revoke execute on function public.send_test_lead(uuid) from public, anon;
grant execute on function public.send_test_lead(uuid) to authenticated;
