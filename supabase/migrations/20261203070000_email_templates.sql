-- Email wording: every email leadloop sends, in English and Spanish, as rows with named placeholders
-- (like private.sms_copy), and the one renderer that turns a template and its values into a subject,
-- a plain-text body and a simple HTML body. Values are never trusted: lead text is hostile. In HTML
-- every value is escaped, in text and subjects control characters are dropped, and a placeholder that
-- fills a link (href="{x}") must hold an http(s), tel:, sms: or mailto: URL.
-- The email outbox (the next migration) stores what this renders; nothing renders email elsewhere.

create table private.email_templates (
  key text not null check (key ~ '^[a-z_]+(\.[a-z_]+)*$'),
  locale text not null check (locale in ('en', 'es')),
  subject text check (length(subject) between 1 and 200),
  body_text text not null check (length(body_text) between 1 and 5000),
  body_html text check (length(body_html) between 1 and 10000),
  primary key (key, locale),
  constraint email_templates_whole_or_fragment check ((subject is null) = (body_html is null))
);
comment on table private.email_templates is 'Wording of every email (en/es). A whole template has a subject, a text body and an HTML body (markup around {placeholders}); a fragment (no subject, no HTML) is a phrase callers put into a placeholder. Rendered only by private.render_email.';
comment on column private.email_templates.body_html is 'HTML inside the layout (private.email_layout): markup written here is trusted, every {value} is escaped when filled.';
alter table private.email_templates enable row level security;
revoke all on private.email_templates from public, anon, authenticated;

insert into private.email_templates (key, locale, subject, body_text, body_html) values
  -- A new lead, to each member who turned new-lead emails on.
  ('lead_alert', 'en', 'New lead: {lead_name}',
   E'New lead for {business}\n\n{lead_name}\nPhone: {lead_phone}\nEmail: {lead_email}\nPage: {source}\nMessage: {message}\n\nCall: {call_link}\nText: {text_link}\nOpen in leadloop: {lead_url}\n\n--\nYou get these emails because new-lead emails are on for you at {business}. Turn them off: {preferences_url}',
   '<h1>New lead for {business}</h1><dl><dt>Name</dt><dd>{lead_name}</dd><dt>Phone</dt><dd><a href="{call_link}">{lead_phone}</a></dd><dt>Email</dt><dd>{lead_email}</dd><dt>Page</dt><dd>{source}</dd><dt>Message</dt><dd class="quote">{message}</dd></dl><p><a class="btn" href="{call_link}">Call</a><a class="btn" href="{text_link}">Text</a><a class="btn" href="{lead_url}">Open in leadloop</a></p><p class="muted">You get these emails because new-lead emails are on for you at {business}. <a href="{preferences_url}">Email settings</a></p>'),
  ('lead_alert', 'es', 'Nuevo cliente: {lead_name}',
   E'Nuevo cliente para {business}\n\n{lead_name}\nTeléfono: {lead_phone}\nCorreo: {lead_email}\nPágina: {source}\nMensaje: {message}\n\nLlamar: {call_link}\nMensaje de texto: {text_link}\nAbrir en leadloop: {lead_url}\n\n--\nRecibe estos correos porque activó los avisos de nuevos clientes en {business}. Desactivarlos: {preferences_url}',
   '<h1>Nuevo cliente para {business}</h1><dl><dt>Nombre</dt><dd>{lead_name}</dd><dt>Teléfono</dt><dd><a href="{call_link}">{lead_phone}</a></dd><dt>Correo</dt><dd>{lead_email}</dd><dt>Página</dt><dd>{source}</dd><dt>Mensaje</dt><dd class="quote">{message}</dd></dl><p><a class="btn" href="{call_link}">Llamar</a><a class="btn" href="{text_link}">Enviar mensaje</a><a class="btn" href="{lead_url}">Abrir en leadloop</a></p><p class="muted">Recibe estos correos porque activó los avisos de nuevos clientes en {business}. <a href="{preferences_url}">Preferencias de correo</a></p>'),
  -- The callback summary, to each member who turned summary emails on.
  ('lead_summary', 'en', 'Lead summary: {lead_name}',
   E'Lead summary for {business}\n\n{lead_name} ({lead_phone})\n{outcome}\nNeed: {need}\nWhen: {timing}\nWhere: {location}\nNotes: {constraints}\nStill missing: {missing}\nFrom the form: {message}\n\nCall: {call_link}\nText: {text_link}\nOpen in leadloop: {lead_url}\n\n--\nYou get these emails because summary emails are on for you at {business}. Turn them off: {preferences_url}',
   '<h1>Lead summary for {business}</h1><p><strong>{lead_name}</strong> (<a href="{call_link}">{lead_phone}</a>)<br>{outcome}</p><dl><dt>Need</dt><dd>{need}</dd><dt>When</dt><dd>{timing}</dd><dt>Where</dt><dd>{location}</dd><dt>Notes</dt><dd>{constraints}</dd><dt>Still missing</dt><dd>{missing}</dd><dt>From the form</dt><dd class="quote">{message}</dd></dl><p><a class="btn" href="{call_link}">Call</a><a class="btn" href="{text_link}">Text</a><a class="btn" href="{lead_url}">Open in leadloop</a></p><p class="muted">You get these emails because summary emails are on for you at {business}. <a href="{preferences_url}">Email settings</a></p>'),
  ('lead_summary', 'es', 'Resumen del cliente: {lead_name}',
   E'Resumen del cliente para {business}\n\n{lead_name} ({lead_phone})\n{outcome}\nNecesita: {need}\nCuándo: {timing}\nDónde: {location}\nNotas: {constraints}\nFalta: {missing}\nDel formulario: {message}\n\nLlamar: {call_link}\nMensaje de texto: {text_link}\nAbrir en leadloop: {lead_url}\n\n--\nRecibe estos correos porque activó los resúmenes por correo en {business}. Desactivarlos: {preferences_url}',
   '<h1>Resumen del cliente para {business}</h1><p><strong>{lead_name}</strong> (<a href="{call_link}">{lead_phone}</a>)<br>{outcome}</p><dl><dt>Necesita</dt><dd>{need}</dd><dt>Cuándo</dt><dd>{timing}</dd><dt>Dónde</dt><dd>{location}</dd><dt>Notas</dt><dd>{constraints}</dd><dt>Falta</dt><dd>{missing}</dd><dt>Del formulario</dt><dd class="quote">{message}</dd></dl><p><a class="btn" href="{call_link}">Llamar</a><a class="btn" href="{text_link}">Enviar mensaje</a><a class="btn" href="{lead_url}">Abrir en leadloop</a></p><p class="muted">Recibe estos correos porque activó los resúmenes por correo en {business}. <a href="{preferences_url}">Preferencias de correo</a></p>'),
  -- A text to the owner (alert or summary) that could not be delivered: to every owner, always.
  ('owner_sms_dead_letter', 'en', 'Text not delivered: {lead_name}',
   E'We could not deliver this text to {to_phone} ({error}), so here it is by email:\n\n{sms_body}\n\nCall: {call_link}\nText: {text_link}\nOpen in leadloop: {lead_url}\n\n--\nOwners of {business} always get this email when a text to them cannot be delivered. Email settings: {preferences_url}',
   '<h1>A text to you was not delivered</h1><p>We could not deliver this text to {to_phone} ({error}), so here it is by email:</p><p class="quote">{sms_body}</p><p><a class="btn" href="{call_link}">Call {lead_name}</a><a class="btn" href="{text_link}">Text</a><a class="btn" href="{lead_url}">Open in leadloop</a></p><p class="muted">Owners of {business} always get this email when a text to them cannot be delivered. <a href="{preferences_url}">Email settings</a></p>'),
  ('owner_sms_dead_letter', 'es', 'Mensaje no entregado: {lead_name}',
   E'No pudimos entregar este mensaje a {to_phone} ({error}), así que se lo enviamos por correo:\n\n{sms_body}\n\nLlamar: {call_link}\nMensaje de texto: {text_link}\nAbrir en leadloop: {lead_url}\n\n--\nLos dueños de {business} siempre reciben este correo cuando un mensaje para ellos no se entrega. Preferencias de correo: {preferences_url}',
   '<h1>Un mensaje para usted no se entregó</h1><p>No pudimos entregar este mensaje a {to_phone} ({error}), así que se lo enviamos por correo:</p><p class="quote">{sms_body}</p><p><a class="btn" href="{call_link}">Llamar a {lead_name}</a><a class="btn" href="{text_link}">Enviar mensaje</a><a class="btn" href="{lead_url}">Abrir en leadloop</a></p><p class="muted">Los dueños de {business} siempre reciben este correo cuando un mensaje para ellos no se entrega. <a href="{preferences_url}">Preferencias de correo</a></p>'),
  -- A critical owner notification (the dashboard's attention list): to every owner, always.
  ('owner_notification', 'en', '{business}: {title}',
   E'{title}\n\n{body}\n\nOpen leadloop: {link_url}\n\n--\nOwners of {business} get an email for every problem that needs them. Email settings: {preferences_url}',
   '<h1>{title}</h1><p>{body}</p><p><a class="btn" href="{link_url}">Open leadloop</a></p><p class="muted">Owners of {business} get an email for every problem that needs them. <a href="{preferences_url}">Email settings</a></p>'),
  ('owner_notification', 'es', '{business}: {title}',
   E'{title}\n\n{body}\n\nAbrir leadloop: {link_url}\n\n--\nLos dueños de {business} reciben un correo por cada problema que requiere su atención. Preferencias de correo: {preferences_url}',
   '<h1>{title}</h1><p>{body}</p><p><a class="btn" href="{link_url}">Abrir leadloop</a></p><p class="muted">Los dueños de {business} reciben un correo por cada problema que requiere su atención. <a href="{preferences_url}">Preferencias de correo</a></p>'),
  -- A team invitation (issue 9 item 6): {inviter} (a name or address), {role_name} (fragment role.<role>),
  -- {accept_url} (the dashboard's accept page with the token), {expires} (private.email_datetime).
  ('team_invitation', 'en', '{inviter} invited you to {business} on leadloop',
   E'{inviter} invited you to join {business} on leadloop as {role_name}.\n\nAccept the invitation: {accept_url}\n\nThe link works once and expires {expires}. If you did not expect this email, ignore it.',
   '<h1>Join {business} on leadloop</h1><p>{inviter} invited you to join {business} on leadloop as {role_name}.</p><p><a class="btn" href="{accept_url}">Accept the invitation</a></p><p class="muted">The link works once and expires {expires}. If you did not expect this email, ignore it.</p>'),
  ('team_invitation', 'es', '{inviter} le invitó a {business} en leadloop',
   E'{inviter} le invitó a unirse a {business} en leadloop como {role_name}.\n\nAceptar la invitación: {accept_url}\n\nEl enlace sirve una sola vez y vence el {expires}. Si no esperaba este correo, ignórelo.',
   '<h1>Únase a {business} en leadloop</h1><p>{inviter} le invitó a unirse a {business} en leadloop como {role_name}.</p><p><a class="btn" href="{accept_url}">Aceptar la invitación</a></p><p class="muted">El enlace sirve una sola vez y vence el {expires}. Si no esperaba este correo, ignórelo.</p>');

-- Fragments: phrases callers render into placeholders (private.email_fragment).
insert into private.email_templates (key, locale, body_text) values
  ('value.missing', 'en', '(not given)'),
  ('value.missing', 'es', '(sin dato)'),
  ('slot.need', 'en', 'what they need'),
  ('slot.need', 'es', 'qué necesita'),
  ('slot.timing', 'en', 'when'),
  ('slot.timing', 'es', 'cuándo'),
  ('slot.location', 'en', 'where'),
  ('slot.location', 'es', 'dónde'),
  ('outcome.slots_filled', 'en', 'Answered every question.'),
  ('outcome.slots_filled', 'es', 'Respondió todas las preguntas.'),
  ('outcome.max_questions', 'en', 'Answered the questions we could ask.'),
  ('outcome.max_questions', 'es', 'Respondió las preguntas que pudimos hacer.'),
  ('outcome.call_requested', 'en', 'Wants a call back.'),
  ('outcome.call_requested', 'es', 'Pide que lo llamen.'),
  ('outcome.not_interested', 'en', 'Said they are not interested.'),
  ('outcome.not_interested', 'es', 'Dice que ya no le interesa.'),
  ('outcome.wrong_number', 'en', 'Says it is the wrong number.'),
  ('outcome.wrong_number', 'es', 'Dice que es un número equivocado.'),
  ('outcome.idle_timeout', 'en', 'Stopped replying.'),
  ('outcome.idle_timeout', 'es', 'Dejó de responder.'),
  ('outcome.no_reply', 'en', 'Never replied to our texts: this is what the form says.'),
  ('outcome.no_reply', 'es', 'No respondió a nuestros mensajes: esto es lo que dice el formulario.'),
  ('role.owner', 'en', 'an owner'),
  ('role.owner', 'es', 'dueño'),
  ('role.staff', 'en', 'a team member'),
  ('role.staff', 'es', 'miembro del equipo');

create or replace function private.is_email(p_address text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_address is not null and length(p_address) <= 254
     and p_address ~ '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$'
     and length(split_part(p_address, '@', 1)) <= 64
$$;
comment on function private.is_email(text) is 'True for a plain addr-spec (dot-atom local part, hostname domain), at most 254 characters: nothing a header could be broken with.';
revoke execute on function private.is_email(text) from public;

create or replace function private.html_escape(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  select replace(replace(replace(replace(replace(p_text, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;
comment on function private.html_escape(text) is 'Escapes & < > " and '' so a value is text in HTML content and in quoted attributes.';
revoke execute on function private.html_escape(text) from public;

-- Control characters (but tab and newline) and Unicode direction overrides are dropped from every
-- value: they could break a header, or make hostile text read backwards in a mail client.
create or replace function private.email_clean(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  select regexp_replace(replace(coalesce(p_text, ''), E'\r\n', E'\n'),
                        E'[\\x01-\\x08\\x0B-\\x1F\\x7F\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069]', '', 'g')
$$;
comment on function private.email_clean(text) is 'A value as email text: CRLF as LF, other control characters and bidi overrides removed.';
revoke execute on function private.email_clean(text) from public;

-- Which {placeholders} of a template p_vars does not supply, or null when none is missing.
create or replace function private.email_placeholders_missing(p_template text, p_vars jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  select string_agg(distinct m[1], ', ' order by m[1])
    from regexp_matches(p_template, '\{([a-z_]+)\}', 'g') as m
   where not coalesce(p_vars, '{}') ? m[1]
$$;
comment on function private.email_placeholders_missing(text, jsonb) is 'The placeholders of p_template that p_vars lacks, comma-separated, or null.';
revoke execute on function private.email_placeholders_missing(text, jsonb) from public;

-- Fills {placeholders} in one pass, so a value that itself contains "{phone}" is never expanded.
-- p_format: text (cleaned), subject (cleaned, one line) or html (cleaned, escaped, newlines as <br>).
create or replace function private.fill_email_placeholders(p_template text, p_vars jsonb, p_format text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  missing text := private.email_placeholders_missing(p_template, p_vars);
begin
  if missing is not null then
    raise exception 'email template needs %', missing using errcode = '22023';
  end if;
  return (
    select coalesce(string_agg(
             case when r.m[1] !~ '^\{[a-z_]+\}$' then r.m[1]
                  when p_format = 'html' then replace(private.html_escape(private.email_clean(p_vars ->> btrim(r.m[1], '{}'))), E'\n', E'<br>\n')
                  when p_format = 'subject' then regexp_replace(private.email_clean(p_vars ->> btrim(r.m[1], '{}')), '\s+', ' ', 'g')
                  else private.email_clean(p_vars ->> btrim(r.m[1], '{}')) end,
             '' order by r.n), '')
      from regexp_matches(p_template, '\{[a-z_]+\}|[^{]+|\{', 'g') with ordinality as r(m, n));
end
$$;
comment on function private.fill_email_placeholders(text, jsonb, text) is 'Fills {placeholders} from p_vars in one pass as text, subject (one line) or html (escaped). A missing placeholder is an error (22023).';
revoke execute on function private.fill_email_placeholders(text, jsonb, text) from public;

-- The document around every HTML body: markup only, no wording.
create or replace function private.email_layout(p_locale text, p_subject text, p_content text)
returns text
language sql
immutable
set search_path = ''
as $$
  select '<!doctype html><html lang="' || private.html_escape(p_locale) || '"><head><meta charset="utf-8">'
      || '<meta name="viewport" content="width=device-width,initial-scale=1"><title>' || private.html_escape(p_subject) || '</title>'
      || '<style>body{margin:0;padding:24px 12px;background:#f3f4f6;color:#1f2328;font:16px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}'
      || '.card{max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px}h1{font-size:20px;margin:0 0 16px}'
      || 'dt{font-weight:600}dd{margin:0 0 8px}.quote{background:#f3f4f6;border-left:4px solid #c5c9d0;padding:8px 12px}'
      || '.btn{display:inline-block;margin:0 8px 8px 0;padding:12px 18px;border-radius:6px;background:#0b57d0;color:#fff!important;text-decoration:none;font-weight:600}'
      || '.muted{color:#57606a;font-size:13px}</style></head><body><div class="card">' || p_content || '</div></body></html>'
$$;
comment on function private.email_layout(text, text, text) is 'The HTML document (language, title, styles, card) around a rendered body; p_content is already escaped HTML.';
revoke execute on function private.email_layout(text, text, text) from public;

create or replace function private.email_fragment(p_key text, p_locale text, p_vars jsonb default '{}')
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  template private.email_templates;
begin
  select * into template from private.email_templates t where t.key = p_key and t.locale = p_locale and t.subject is null;
  if template.key is null then
    raise exception 'no email fragment "%" in locale %', p_key, p_locale using errcode = '22023';
  end if;
  return private.fill_email_placeholders(template.body_text, p_vars, 'text');
end
$$;
comment on function private.email_fragment(text, text, jsonb) is 'A fragment of private.email_templates in p_locale as plain text (its placeholders filled), to put into a template''s placeholder.';
revoke execute on function private.email_fragment(text, text, jsonb) from public;

create or replace function private.render_email(
  p_template text, p_locale text, p_vars jsonb,
  out subject text, out body_text text, out body_html text)
language plpgsql
stable
set search_path = ''
as $$
declare
  template private.email_templates;
  missing text;
  unsafe text;
begin
  select * into template from private.email_templates t where t.key = p_template and t.locale = p_locale and t.subject is not null;
  if template.key is null then
    raise exception 'no email template "%" in locale %', p_template, p_locale using errcode = '22023';
  end if;
  missing := private.email_placeholders_missing(template.subject || template.body_text || template.body_html, p_vars);
  if missing is not null then
    raise exception 'email template "%" needs %', p_template, missing using errcode = '22023';
  end if;
  subject := left(btrim(private.fill_email_placeholders(template.subject, p_vars, 'subject')), 250);
  body_text := private.fill_email_placeholders(template.body_text, p_vars, 'text');
  body_html := private.email_layout(p_locale, subject, private.fill_email_placeholders(template.body_html, p_vars, 'html'));
  -- A link may only take a value that is a URL of a harmless scheme (never javascript: or data:).
  select string_agg(distinct m[1], ', ') into unsafe
    from regexp_matches(template.body_html, 'href="\{([a-z_]+)\}"', 'g') as m
   where not coalesce(p_vars ->> m[1], '') ~ '^(https?://[^[:space:]"<>]+|tel:\+[0-9]{8,15}|sms:\+[0-9]{8,15}|mailto:[^[:space:]"<>]+)$';
  if unsafe is not null then
    raise exception 'email template "%": % must be an http(s), tel:, sms: or mailto: URL', p_template, unsafe using errcode = '22023';
  end if;
end
$$;
comment on function private.render_email(text, text, jsonb) is 'The one email renderer: template p_template in p_locale filled from p_vars as a one-line subject, a text body and an HTML document (values escaped; link values must be http(s)/tel:/sms:/mailto: URLs). Unknown template, missing value or unsafe link: 22023.';
revoke execute on function private.render_email(text, text, jsonb) from public;

create or replace function private.email_datetime(p_at timestamptz, p_timezone text)
returns text
language sql
stable
set search_path = ''
as $$
  select to_char(p_at at time zone p_timezone, 'YYYY-MM-DD HH24:MI') || ' (' || p_timezone || ')'
$$;
comment on function private.email_datetime(timestamptz, text) is 'A moment as email text in a zone, the same in every language: 2026-12-10 15:00 (America/New_York).';
revoke execute on function private.email_datetime(timestamptz, text) from public;

-- The dashboard's public URL, for the links in emails. Like project_url it lives in the vault
-- (select vault.create_secret('https://app.example.com', 'dashboard_url')); the functions' DASHBOARD_URL
-- setting must name the same address.
create or replace function private.dashboard_url(p_path text default '/')
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  base text;
begin
  select s.decrypted_secret into base from vault.decrypted_secrets s where s.name = 'dashboard_url' limit 1;
  if base is null or base !~ '^https?://[^[:space:]"<>]+$' then
    raise exception 'the vault secret dashboard_url (the dashboard''s public URL) is not set' using errcode = '55000';
  end if;
  return rtrim(base, '/') || coalesce(p_path, '/');
end
$$;
comment on function private.dashboard_url(text) is 'The dashboard''s public URL (vault secret dashboard_url) followed by p_path; 55000 when it is not configured.';
revoke execute on function private.dashboard_url(text) from public;
