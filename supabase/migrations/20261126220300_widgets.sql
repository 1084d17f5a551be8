-- Widgets: the embeddable lead forms of a business, and the one read anon has (get_widget_config).

create table public.widgets (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null references public.businesses (id) on delete cascade,
  name text not null default 'Website form' check (length(btrim(name)) between 1 and 120),
  allowed_origins text[] not null
    check (cardinality(allowed_origins) between 1 and 20 and private.all_valid_origins(allowed_origins)),
  consent_text text not null check (length(consent_text) between 40 and 1000 and consent_text ilike '%STOP%'),
  consent_texts jsonb not null default '{}'::jsonb
    check (jsonb_typeof(consent_texts) = 'object' and (consent_texts - array['en', 'es']) = '{}'::jsonb),
  fields jsonb not null default '{"name": {"required": true}, "phone": {"required": true}, "email": {"required": false}, "message": {"required": false}}'::jsonb
    check (jsonb_typeof(fields) = 'object'),
  default_country text not null default 'US' check (default_country ~ '^[A-Z]{2}$'),
  active boolean not null default true,
  max_leads_per_ip_per_hour integer not null default 5 check (max_leads_per_ip_per_hour between 1 and 1000),
  max_leads_per_hour integer not null default 120 check (max_leads_per_hour between 1 and 100000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.widgets is 'An embeddable lead form: its public id, the origins allowed to post it, the consent text shown, the fields, and its rate limits.';
comment on column public.widgets.consent_text is 'Shown next to the unchecked SMS consent box when consent_texts has no text in the form''s language; snapshotted on each lead. Checked when saved (private.consent_text_problems).';
comment on column public.widgets.consent_texts is 'The consent text per form language ({"en": ..., "es": ...}); each is checked when saved in its language (private.consent_text_problems).';
create index widgets_business_id_idx on public.widgets (business_id);

create trigger widgets_touch_updated_at before update on public.widgets
  for each row execute function private.touch_updated_at();

alter table public.widgets enable row level security;
revoke all on public.widgets from anon, authenticated;
grant select, insert, delete on public.widgets to authenticated;
grant update (name, allowed_origins, consent_text, consent_texts, fields, default_country, active,
  max_leads_per_ip_per_hour, max_leads_per_hour) on public.widgets to authenticated;
grant all on public.widgets to service_role;

create policy "members can read their widgets" on public.widgets
  for select to authenticated
  using (business_id in (select private.member_business_ids()));
create policy "owners can create widgets for their business" on public.widgets
  for insert to authenticated
  with check (business_id in (select private.owned_business_ids()));
create policy "owners can change their widgets" on public.widgets
  for update to authenticated
  using (business_id in (select private.owned_business_ids()))
  with check (business_id in (select private.owned_business_ids()));
create policy "owners can delete their widgets" on public.widgets
  for delete to authenticated
  using (business_id in (select private.owned_business_ids()));

-- The consent text a form in p_locale shows, and so the one a lead who ticked the box there agreed to.
create or replace function private.widget_consent_text(p_widget public.widgets, p_locale text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return (
    select coalesce(nullif(btrim(p_widget.consent_texts ->> p_locale), ''), p_widget.consent_text));
end
$$;
comment on function private.widget_consent_text(public.widgets, text) is 'The widget''s consent text for a form in p_locale (its consent_texts entry, else consent_text).';
revoke execute on function private.widget_consent_text(public.widgets, text) from public;

-- What a consent text lacks (sms-compliance: it names the business, says what the texts are about or
-- how often they come, "Msg & data rates may apply", and how to stop and get help), in words an owner
-- can act on; empty when it is fine. p_locale 'en' or 'es' checks that language (Spanish texts may use
-- the English phrases too); null accepts either language.
create or replace function private.consent_text_problems(p_text text, p_locale text, p_business_name text)
returns text[]
language sql
immutable
set search_path = ''
as $$
  with t as (select lower(coalesce(p_text, '')) as v),
  checks as (
    select
      -- (null: the caller may not read the business; RLS refuses the row anyway, and the name is not leaked)
      p_business_name is null or strpos(t.v, lower(btrim(p_business_name))) > 0 as names_business,
      -- purpose or frequency
      (coalesce(p_locale, 'en') = 'en' and t.v ~ ('\m(about|regarding|for|on) (my|your|the|this|a) ([[:alpha:]-]+ ){0,3}(request|inquiry|enquiry|quote|estimate|appointment|booking|service|job|project|order)s?\M'
                                            || '|(message|msg) frequency|frequency varies|\m[0-9]+ (msgs?|messages|texts) ?(per|/|a) ?(day|week|month|mo)\M'))
        or (coalesce(p_locale, 'es') = 'es' and t.v ~ ('\msobre (mi|su|la|el|esta|este|una|un) ([[:alpha:]áéíóúñ-]+ ){0,3}(solicitud|consulta|cotizaci[oó]n|presupuesto|cita|servicio|trabajo|pedido|proyecto)(es|s)?\M'
                                            || '|frecuencia (de (los )?mensajes )?(var[ií]a|variable)|\m[0-9]+ mensajes (al|por|a la) (d[ií]a|semana|mes)\M'))
        as says_purpose,
      t.v ~ '(msg|message)s? ?(&|and) ?data rates may apply'
        or (coalesce(p_locale, 'es') = 'es' and t.v ~ '(tarifas|cargos) (de|por) (mensajes|mensajer[ií]a) y (de )?datos' and t.v ~ '\maplica')
        as says_rates,
      t.v ~ '\mstop\M' and (t.v ~ '\mhelp\M' or (coalesce(p_locale, 'es') = 'es' and t.v ~ '\mayuda\M')) as says_stop_help
    from t
  )
  select array_remove(array[
    case when not names_business then format('name the business ("%s")', btrim(p_business_name)) end,
    case when not says_purpose then case p_locale when 'es' then 'say what the texts are about or how often they come (e.g. "sobre mi solicitud de servicio" or "la frecuencia de mensajes varía")'
                                                  else 'say what the texts are about or how often they come (e.g. "about my service request" or "Message frequency varies")' end end,
    case when not says_rates then case p_locale when 'es' then 'say "Pueden aplicarse tarifas de mensajes y datos" (or "Msg & data rates may apply")'
                                                else 'say "Msg & data rates may apply"' end end,
    case when not says_stop_help then case p_locale when 'es' then 'say how to stop and get help (e.g. "Responda STOP para cancelar, HELP para ayuda")'
                                                    else 'say how to stop and get help (e.g. "Reply STOP to opt out, HELP for help")' end end], null)
    from checks
$$;
comment on function private.consent_text_problems(text, text, text) is 'What a consent text in p_locale (en, es; null: either) lacks: the business name, purpose or frequency, "Msg & data rates may apply", STOP and HELP. Empty when it has all.';
revoke execute on function private.consent_text_problems(text, text, text) from public;
-- The check runs as the owner who saves the widget (so it cannot read other businesses): a pure function.
grant execute on function private.consent_text_problems(text, text, text) to authenticated, service_role;

-- Checked when saved, with every problem of every language named at once. Runs as the caller, so it
-- reads only a business the caller may see.
create or replace function private.widgets_check_consent_texts()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  business_name text;
  problems text[] := '{}'::text[];
  locale text;
  found text[];
begin
  select b.name into business_name from public.businesses b where b.id = new.business_id;
  found := private.consent_text_problems(new.consent_text, null, business_name);
  if cardinality(found) > 0 then
    problems := problems || ('consent_text must ' || array_to_string(found, ', '));
  end if;
  for locale in select jsonb_object_keys(new.consent_texts) loop
    if jsonb_typeof(new.consent_texts -> locale) <> 'string' or length(btrim(new.consent_texts ->> locale)) not between 40 and 1000 then
      problems := problems || format('consent_texts.%s must be a text of 40 to 1000 characters', locale);
      continue;
    end if;
    found := private.consent_text_problems(new.consent_texts ->> locale, locale, business_name);
    if cardinality(found) > 0 then
      problems := problems || format('consent_texts.%s must %s', locale, array_to_string(found, ', '));
    end if;
  end loop;
  if cardinality(problems) > 0 then
    raise exception using errcode = '23514', message = 'The SMS consent text is incomplete: ' || array_to_string(problems, '; ') || '.',
      detail = 'field: consent_text', hint = 'Carriers and the FCC require these in the text next to the consent box.';
  end if;
  return new;
end
$$;
comment on function private.widgets_check_consent_texts() is 'BEFORE INSERT/UPDATE on widgets: every consent text (and each language''s) must pass private.consent_text_problems; refuses with all problems named.';
revoke execute on function private.widgets_check_consent_texts() from public;

create trigger widgets_check_consent_texts before insert or update of consent_text, consent_texts on public.widgets
  for each row execute function private.widgets_check_consent_texts();

-- The one thing anon may read: what the embed needs to render the form.
create or replace function public.get_widget_config(p_widget_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'widget_id', w.id,
    'business_name', b.name,
    'consent_text', w.consent_text,
    'consent_texts', jsonb_build_object('en', private.widget_consent_text(w, 'en'), 'es', private.widget_consent_text(w, 'es')),
    'fields', w.fields,
    'default_country', w.default_country)
  from public.widgets w
  join public.businesses b on b.id = w.business_id
  where w.id = p_widget_id and w.active
$$;
comment on function public.get_widget_config(uuid) is 'Public configuration of an active widget for the embed (null when unknown or inactive): consent_texts has the text a form in each language shows. The only read anon has.';
revoke execute on function public.get_widget_config(uuid) from public;
grant execute on function public.get_widget_config(uuid) to anon, authenticated, service_role;
