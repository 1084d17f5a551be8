-- Demo data for `npm start`: one business with an owner login, an active subscription and a widget
-- whose ids are fixed so the dashboard, the widget demo page and stack.json can name them.
-- Vault secrets are not seeded: the local orchestrator writes them per instance.

insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
                        confirmation_token, recovery_token, email_change_token_new, email_change)
values ('00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-000000000003', 'authenticated', 'authenticated',
        'owner@demo.leadloop.test', extensions.crypt('leadloop-demo', extensions.gen_salt('bf', 10)), now(),
        '{"provider": "email", "providers": ["email"]}', '{"full_name": "Demo Owner"}', now(), now(), '', '', '', '')
on conflict (id) do nothing;

insert into auth.identities (id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
values ('00000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000003',
        '{"sub": "00000000-0000-4000-8000-000000000003", "email": "owner@demo.leadloop.test", "email_verified": true}',
        'email', now(), now(), now())
on conflict do nothing;

-- The demo owner phone is confirmed already (owner texts otherwise wait for the code texted to it).
insert into public.businesses (id, name, owner_phone, timezone, twilio_number, owner_phone_verified_at)
values ('00000000-0000-4000-8000-000000000001', 'Demo Plumbing Co', '+15555550100', 'America/New_York', '+15555550199', now())
on conflict (id) do nothing;

insert into public.business_members (business_id, user_id, role)
values ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000003', 'owner')
on conflict do nothing;

-- On the Growth plan by hand (no Stripe subscription): the billing page offers checkout for a real one.
insert into public.subscriptions (business_id, plan_id, status, current_period_start, current_period_end, conversation_quota, quota_period_start)
select '00000000-0000-4000-8000-000000000001', p.id, 'active', date_trunc('month', now()),
       date_trunc('month', now()) + interval '1 year', p.conversations_per_period, date_trunc('month', now())
  from public.plans p where p.id = 'growth'
on conflict (business_id) do nothing;

-- The widget demo page is served beside the API, at its port + 2 (local/config.ts): allow that origin
-- for whatever LEADLOOP_PORT_BASE the instance runs on, as well as the default dev and test ports.
insert into public.widgets (id, business_id, name, allowed_origins, consent_text, consent_texts, max_leads_per_ip_per_hour)
select '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'Website form',
        array(select distinct o from unnest(array['http://127.0.0.1:54323', 'http://localhost:54323', 'http://127.0.0.1:54423',
                                                    'http://localhost:54423']
                                              || coalesce((select array['http://127.0.0.1:' || (port + 2), 'http://localhost:' || (port + 2)]
                                                             from (select substring(s.decrypted_secret from '^https?://[^/:]+:([0-9]+)')::int as port
                                                                     from vault.decrypted_secrets s where s.name = 'project_url') api
                                                            where port is not null), '{}')) as o order by o),
        'I agree to receive text messages from Demo Plumbing Co about my service request. Msg & data rates may apply. Reply STOP to opt out, HELP for help.',
        jsonb_build_object('es', 'Acepto recibir mensajes de texto de Demo Plumbing Co sobre mi solicitud de servicio. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para cancelar, HELP para ayuda.'),
        60
on conflict (id) do nothing;

-- ------------------------------------------------------------------------------------------------
-- Demo volume: 2,000 leads over the last 90 days for the inbox, its pages and the reports to show:
-- realistic names, requests, pipeline statuses, conversations with their summaries, and owner alerts
-- delivered in a few seconds (faster in recent weeks, a few carrier delays, rare failures).
--
-- How many comes from the setting leadloop.demo_leads, which the local stack passes per instance
-- (local/config.ts: the dev instance 2,000, the test and bench instances 0, so tests and benchmarks
-- see only their own rows). Unset, as under `supabase start`, it means 2,000. It runs once: rows are
-- marked by their user agent, and a later run with them present adds nothing.
--
-- The rows describe a finished past, so they are written with triggers off (replica mode): no alert is
-- sent, no conversation is counted against the quota, no wake is posted; what the triggers would have
-- derived (search text, unread counts, opt-outs) is written here from the same functions.
do $demo$
declare
  volume integer := coalesce(nullif(current_setting('leadloop.demo_leads', true), '')::integer, 2000);
  biz public.businesses;
  seed_agent constant text := 'leadloop demo seed';
begin
  select * into biz from public.businesses b where b.id = '00000000-0000-4000-8000-000000000001';
  if volume <= 0 or biz.id is null
     or exists (select 1 from public.leads l where l.business_id = biz.id and l.user_agent = seed_agent) then
    return;
  end if;
  perform setseed(0.2026);
  perform set_config('session_replication_role', 'replica', true);

  insert into public.widgets (id, business_id, name, allowed_origins, consent_text)
  values ('00000000-0000-4000-8000-000000000005', biz.id, 'Emergency landing page', '{https://demoplumbing.example}',
          'I agree to receive text messages from Demo Plumbing Co about my service request. Msg & data rates may apply. Reply STOP to opt out.')
  on conflict (id) do nothing;

  create temp table demo_jobs (job integer primary key, locale text, need text, message text, timing text, location text,
                               constraint_text text, reply_timing text, reply_location text, reply_constraint text) on commit drop;
  insert into demo_jobs values
    (1, 'en', 'Water heater leaking, no hot water', 'Our water heater is leaking from the bottom and we have no hot water', 'Tomorrow morning', '1420 Elm St, 78704', 'Dog in the backyard', 'Tomorrow morning if possible, before 11', '1420 Elm St, 78704', 'We have a dog, she''s friendly'),
    (2, 'en', 'Kitchen sink clogged', 'Kitchen sink is clogged and water won''t drain at all', 'Today after 3pm', '88 Maple Ave', null, 'Today after 3pm works', '88 Maple Ave, the blue house', null),
    (3, 'en', 'Toilet keeps running', 'Upstairs toilet keeps running all night', 'This weekend', '2210 Cedar Ln', 'Street parking only', 'Saturday would be best', '2210 Cedar Ln', 'Parking is on the street'),
    (4, 'en', 'Burst pipe in basement', 'Pipe burst in the basement, water everywhere, need someone ASAP', 'Right away', '515 Oak Street', null, 'As soon as you can please!!', '515 Oak Street, side door', null),
    (5, 'en', 'Bathroom remodel quote', 'Looking for a quote to replace the tub with a walk-in shower', 'Next month', '77 Birch Rd', 'Gate code 4411', 'Sometime next month, no rush', '77 Birch Rd', 'Gate code is 4411'),
    (6, 'en', 'Low water pressure', 'Water pressure in the whole house dropped this week', 'Thursday afternoon', '3301 Pine St', null, 'Thursday afternoon?', '3301 Pine St apt 2', null),
    (7, 'en', 'Garbage disposal replacement', 'Garbage disposal is humming but not spinning, probably needs replacing', 'Friday', '940 Willow Ct', null, 'Friday any time', '940 Willow Ct', null),
    (8, 'en', 'Sewer smell in bathroom', 'There is a sewer smell coming from the downstairs bathroom drain', 'Tomorrow', '12 Lakeview Dr', 'Call before arriving', 'Tomorrow works', '12 Lakeview Dr', 'Please call when you are on the way'),
    (9, 'en', 'Outdoor faucet leak', 'Outside spigot is dripping and the handle is stuck', 'Next week', '604 Ridge Rd', null, 'Next week is fine', '604 Ridge Rd', null),
    (10, 'en', 'Tankless water heater install', 'Want to switch to a tankless water heater, need an estimate', 'Within two weeks', '19 Harbor Way', 'Two cats inside', 'In the next couple of weeks', '19 Harbor Way', 'Two cats, we will keep them in a room'),
    (11, 'en', 'Shower drain slow', null, 'Monday morning', '250 Spruce Ave', null, 'Monday morning', '250 Spruce Ave', null),
    (12, 'en', 'Sump pump not working', 'Sump pump stopped working and rain is coming tonight', 'Tonight', '4400 Valley Rd', 'Basement entrance in back', 'Tonight if at all possible', '4400 Valley Rd', 'Use the basement door in the back'),
    (13, 'en', 'Leak under bathroom sink', 'Small leak under the bathroom sink, cabinet floor is wet', 'Wednesday', '81 Chestnut St', null, 'Wednesday after work, 5:30?', '81 Chestnut St', null),
    (14, 'en', 'Gas line for new stove', 'Need a gas line run to the kitchen for a new range', 'Before the 20th', '1700 Summit Blvd', null, 'Before the 20th, the stove arrives then', '1700 Summit Blvd', null),
    (15, 'es', 'Fuga en el calentador de agua', 'El calentador de agua tiene una fuga y no hay agua caliente', 'Mañana por la mañana', 'Calle Ocho 123', null, 'Mañana por la mañana por favor', 'Calle Ocho 123', null),
    (16, 'es', 'Inodoro tapado', 'El inodoro está tapado y se desborda', 'Hoy', 'Avenida Juárez 45', 'Perro en casa', 'Hoy si es posible', 'Avenida Juárez 45', 'Tenemos un perro'),
    (17, 'es', 'Tubería rota en la cocina', 'Se rompió una tubería debajo del fregadero de la cocina', 'Esta semana', 'Calle Luna 8', null, 'Esta semana, cualquier día', 'Calle Luna 8', null),
    (18, 'en', 'SEO services (spam)', 'We can get your website to the first page of Google. Reply for a free audit!', null, null, null, null, null, null);

  -- What the first text asks, and how, depends on the form message only: worked out once per job.
  alter table demo_jobs add column asks text[], add column question text;
  update demo_jobs set asks = private.text_back_asks(message);
  update demo_jobs set question = private.render_sms('text_back.question', locale, '{}', asks, biz.id);

  create temp table demo_leads on commit drop as
  with draws as (
    select g as i, gen_random_uuid() as id, gen_random_uuid() as conversation_id,
           random() as r_job, random() as r_outcome, random() as r_status, random() as r_alert, random() as r_extra,
           random() as u1, random() as u2, random() as r_gap, random() as r_consent,
           floor(90 * (1 - sqrt(random())))::int as days_ago,
           (7 + floor(13 * (random() + random()) / 2))::int as hour, floor(random() * 60)::int as minute, floor(random() * 60)::int as second,
           (array['Maria', 'James', 'Linda', 'Robert', 'Patricia', 'Michael', 'Jennifer', 'David', 'Elizabeth', 'William',
                  'Susan', 'Richard', 'Jessica', 'Joseph', 'Sarah', 'Thomas', 'Karen', 'Charles', 'Nancy', 'Daniel',
                  'Lisa', 'Matthew', 'Betty', 'Anthony', 'Sandra', 'Mark', 'Ashley', 'Steven', 'Emily', 'Andrew',
                  'Priya', 'Wei', 'Aisha', 'Kenji', 'Fatima', 'Olga', 'Tomás', 'Chloé', 'Noah', 'Grace'])[1 + floor(random() * 40)::int] as first_en,
           (array['José', 'Lucía', 'Carmen', 'Miguel', 'Sofía', 'Alejandro', 'Valentina', 'Javier', 'Isabel', 'Diego'])[1 + floor(random() * 10)::int] as first_es,
           (array['Lopez', 'Smith', 'Johnson', 'Garcia', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Rodriguez',
                  'Martinez', 'Hernandez', 'Wilson', 'Anderson', 'Taylor', 'Thomas', 'Moore', 'Jackson', 'Martin', 'Lee',
                  'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker',
                  'Nguyen', 'Patel', 'Kim', 'Chen', 'Okafor', 'Novak', 'Müller', 'O''Brien', 'Rossi', 'Silva'])[1 + floor(random() * 40)::int] as last_name,
           (array['512', '737', '210', '214', '713', '832', '469', '281'])[1 + floor(random() * 8)::int] as area,
           (array['https://demoplumbing.example/contact', 'https://demoplumbing.example/water-heaters',
                  'https://demoplumbing.example/drain-cleaning?utm_source=google', 'https://demoplumbing.example/',
                  'https://demoplumbing.example/emergency'])[1 + floor(random() * 5)::int] as source_url
      from generate_series(1, volume) as g
  ), placed as (
    select d.*,
           case when d.r_job < 0.02 then 18 when d.r_job < 0.12 then 15 + floor((d.r_job - 0.02) * 30)::int
                else 1 + floor((d.r_job - 0.12) / 0.88 * 14)::int end as job,
           ((((now() at time zone biz.timezone)::date - d.days_ago) + make_time(d.hour, d.minute, d.second)) at time zone biz.timezone) as at
      from draws d
  )
  select p.i, p.id, p.conversation_id, j.job, j.locale, j.asks, j.question, j.need, j.message, j.timing, j.location, j.constraint_text,
         j.reply_timing, j.reply_location, j.reply_constraint,
         case when j.locale = 'es' then p.first_es else p.first_en end || ' ' || p.last_name as name,
         case when j.locale = 'es' then p.first_es else p.first_en end as first_name,
         '+1' || p.area || lpad(((p.i * 7919) % 8000000 + 2000000)::text, 7, '0') as phone,
         case when p.r_extra < 0.6 and j.job <> 18
              then lower(translate(case when j.locale = 'es' then p.first_es else p.first_en end || '.' || p.last_name, 'éáíóúüñ''', 'eaiouun'))
                   || '@example.com' end as email,
         case when p.source_url like '%/emergency' then '00000000-0000-4000-8000-000000000005'::uuid
              else '00000000-0000-4000-8000-000000000002'::uuid end as widget_id,
         p.source_url,
         -- Today's draws land before now: a lead is at least 90 minutes old.
         case when p.at > now() - interval '90 minutes' then p.at - interval '1 day' else p.at end as created_at,
         p.r_consent >= 0.15 and j.job <> 18 as consent,
         -- What happened after the form, for a lead we could text.
         case when p.r_consent < 0.15 or j.job = 18 then 'no_consent'
              when p.r_outcome < 0.02 then 'landline'
              when p.r_outcome < 0.30 then 'no_reply'
              when p.r_outcome < 0.34 then 'opted_out'
              when p.r_outcome < 0.36 then 'failed'
              when p.r_outcome < 0.48 then 'call_requested'
              when p.r_outcome < 0.56 then 'idle_timeout'
              when p.r_outcome < 0.62 then 'max_questions'
              else 'slots_filled' end as outcome,
         -- Form to owner alert delivered: a few seconds, faster in recent weeks (log-normal spread), some carrier delays.
         round(((1.6 + 6.5 * p.days_ago / 90.0) * exp(0.45 * sqrt(-2 * ln(greatest(p.u1, 1e-9))) * cos(2 * pi() * p.u2))
                + case when p.r_alert > 0.97 then 20 + 100 * p.r_extra else 0 end)::numeric, 3) as alert_seconds,
         case when p.r_alert < 0.004 then 'dead_letter' when p.r_alert < 0.01 then 'undelivered' else 'delivered' end as alert_outcome,
         (2 + floor(p.r_gap * p.r_gap * 40))::int as reply_minutes,
         p.r_status, p.r_extra, p.days_ago
    from placed p join demo_jobs j on j.job = p.job;

  alter table demo_leads add column turns integer, add column text_at timestamptz, add column closed_at timestamptz,
                         add column last_inbound_at timestamptz, add column status text, add column unread integer;
  update demo_leads set turns = case outcome when 'call_requested' then 1 when 'idle_timeout' then 1 when 'max_questions' then 3
                                             when 'slots_filled' then case when message is null then 3 else 2 end
                                             when 'opted_out' then case when r_extra < 0.5 then 2 else 1 end else 0 end,
                        text_at = private.next_allowed_send_time(created_at, biz.timezone, biz.quiet_hours_start, biz.quiet_hours_end)
                                  + interval '1.4 seconds';
  -- Every conversation has ended by now: one that would still be running (a day-long idle timeout, replies
  -- still to come) becomes a quick call request instead.
  update demo_leads set outcome = 'call_requested', turns = 1, reply_minutes = 2
   where outcome not in ('no_consent', 'landline', 'failed')
     and text_at + make_interval(mins => reply_minutes * greatest(turns, 1))
         + case when outcome in ('no_reply', 'idle_timeout') then make_interval(mins => biz.nudge_delay_minutes + biz.idle_timeout_minutes)
                else interval '0' end > now() - interval '5 minutes';
  update demo_leads set last_inbound_at = case when turns > 0 then text_at + make_interval(mins => reply_minutes * turns) end;
  update demo_leads set closed_at = case outcome
      when 'no_reply' then text_at + make_interval(mins => biz.nudge_delay_minutes + biz.idle_timeout_minutes)
      when 'idle_timeout' then last_inbound_at + make_interval(mins => biz.idle_timeout_minutes)
      when 'failed' then text_at + interval '8 seconds'
      when 'landline' then null when 'no_consent' then null
      else last_inbound_at + interval '4 seconds' end;
  -- The owner's pipeline: recent leads are still being worked, older ones are decided.
  update demo_leads set status = case
      when job = 18 then 'spam'
      when outcome = 'opted_out' then case when r_status < 0.6 then 'lost' else 'contacted' end
      when days_ago < 1 then case when r_status < 0.7 then 'new' else 'contacted' end
      when days_ago < 7 then case when r_status < 0.3 then 'new' when r_status < 0.65 then 'contacted' when r_status < 0.9 then 'booked' else 'won' end
      else case when r_status < 0.35 then 'won' when r_status < 0.45 then 'booked' when r_status < 0.75 then 'lost' else 'contacted' end
    end;
  update demo_leads set unread = case when status = 'new' and turns > 0 and outcome <> 'opted_out' and last_inbound_at > now() - interval '4 days'
                                      then turns else 0 end;

  insert into public.leads (id, widget_id, business_id, name, phone, email, message, source_url, sms_consent, consent_text, consent_at,
                            ip, user_agent, locale, owner_alert_status, followup_status, not_texted_reason, phone_status, created_at,
                            status, notes, assigned_to, unread_count, last_inbound_at, search_text)
  select d.id, d.widget_id, biz.id, d.name, d.phone, d.email, d.message, d.source_url, d.consent,
         case when d.consent then w.consent_text end, case when d.consent then d.created_at end,
         ('198.51.100.' || (d.i % 250 + 1))::inet, seed_agent, d.locale,
         case d.alert_outcome when 'delivered' then 'delivered' else 'failed' end,
         case when d.outcome in ('no_consent', 'landline') then 'not_texted' else 'started' end,
         case d.outcome when 'no_consent' then 'no_consent' when 'landline' then 'landline' end,
         case when d.outcome = 'landline' then 'landline' when d.outcome = 'no_consent' then 'unverified' else 'mobile' end,
         d.created_at, d.status,
         case when d.status <> 'new' and d.r_extra < 0.15
              then (array['Called back, booked for Tuesday 9am.', 'Left a voicemail.', 'Quoted $450, waiting to hear back.',
                          'Went with another company.', 'Repeat customer: gave the 10% discount.', 'Needs a second visit for parts.'])[1 + (d.i % 6)] end,
         case when d.status <> 'new' and d.r_extra > 0.7 then '00000000-0000-4000-8000-000000000003'::uuid end,
         d.unread, d.last_inbound_at,
         private.lead_search_text(d.name, d.phone, d.email, d.message, null)
    from demo_leads d join public.widgets w on w.id = d.widget_id;

  -- Conversations, with what the lead told us (slots) and, once they ended, the summary the owner got.
  alter table demo_leads add column replies text[], add column slots jsonb, add column summary jsonb;
  update demo_leads set replies = case outcome
      when 'opted_out' then case when r_extra < 0.5 then array[reply_timing, 'STOP'] else array['STOP'] end
      when 'call_requested' then array[case locale when 'es' then '¿Me pueden llamar? Es más fácil.' else 'Can you just call me? Easier to explain.' end]
      else (case when message is null then array[need] else '{}'::text[] end
            || array[reply_timing, reply_location, coalesce(reply_constraint, case locale when 'es' then 'Eso es todo, gracias' else 'That''s all, thanks' end)])[1:turns]
    end
   where outcome not in ('no_consent', 'landline');
  update demo_leads set slots = jsonb_build_object(
      'need', case when message is not null or turns > 0 and outcome not in ('opted_out', 'call_requested') then need end,
      'timing', case when outcome in ('slots_filled', 'max_questions') or outcome = 'idle_timeout' and message is not null then timing end,
      'location', case when outcome in ('slots_filled', 'max_questions') then location end,
      'constraints', case when outcome = 'max_questions' and constraint_text is not null then jsonb_build_array(constraint_text) else '[]'::jsonb end)
   where replies is not null;
  update demo_leads set summary = slots || jsonb_build_object('timing_start', null,
      'missing', to_jsonb(array_remove(array[case when slots ->> 'need' is null then 'need' end,
                                             case when slots ->> 'timing' is null then 'timing' end,
                                             case when slots ->> 'location' is null then 'location' end], null)),
      'text', concat_ws(E'\n', case locale when 'es' then 'Resumen de cliente: ' else 'Lead summary: ' end || name,
                        case when slots ->> 'need' is not null then 'Need: ' || (slots ->> 'need') end,
                        case when slots ->> 'timing' is not null then 'When: ' || (slots ->> 'timing') end,
                        case when slots ->> 'location' is not null then 'Where: ' || (slots ->> 'location') end,
                        case when outcome = 'no_reply' then 'No reply to our texts.' end,
                        'Call tel:' || phone, 'Text sms:' || phone))
   where outcome in ('no_reply', 'slots_filled', 'max_questions', 'call_requested', 'idle_timeout');
  update public.leads l set search_text = private.lead_search_text(l.name, l.phone, l.email, l.message, d.summary)
    from demo_leads d where d.id = l.id and d.summary is not null;

  insert into public.conversations (id, business_id, lead_id, lead_phone, status, current_locale, slots, turn_count, question_count,
                                    nudge_count, version, completion_reason, summary_status, summary_due_at, summary, summary_completed_at,
                                    last_inbound_at, last_outbound_at, completed_at, created_at, updated_at)
  select d.conversation_id, biz.id, d.id, d.phone,
         case d.outcome when 'no_reply' then 'no_reply' when 'opted_out' then 'opted_out' when 'failed' then 'failed' else 'completed' end,
         d.locale, d.slots, case when d.outcome = 'opted_out' then d.turns - 1 else d.turns end, greatest(1, d.turns),
         case when d.outcome = 'no_reply' then 1 else 0 end, 3 + d.turns,
         case d.outcome when 'no_reply' then 'no_reply' when 'opted_out' then 'opted_out' when 'failed' then 'send_failed' else d.outcome end,
         case when d.summary is null then 'not_due' else 'done' end, case when d.summary is not null then d.closed_at end,
         d.summary, case when d.summary is not null then d.closed_at + interval '12 seconds' end,
         case when d.outcome <> 'opted_out' then d.last_inbound_at
              when d.turns > 1 then d.text_at + make_interval(mins => d.reply_minutes) end, coalesce(d.closed_at, d.text_at), d.closed_at, d.created_at, d.closed_at
    from demo_leads d where d.replies is not null;

  -- The texts: owner alert, text-back, nudge, the lead's replies and our questions, closing, STOP's answer, owner summary.
  create temp table demo_messages on commit drop as
  select d.id as lead_id, null::uuid as conversation_id, 'owner_alert' as kind, biz.owner_phone as to_phone, biz.twilio_number as from_phone,
         private.render_sms('owner_alert', 'en', jsonb_build_object('business', biz.name, 'name', d.name, 'phone', d.phone,
           'message', coalesce(d.message, '(no message)'), 'source', d.source_url, 'call_link', 'tel:' || d.phone, 'text_link', 'sms:' || d.phone)) as body,
         '{}'::text[] as asks,
         case d.alert_outcome when 'dead_letter' then 'failed' else d.alert_outcome end as status,
         case when d.alert_outcome = 'dead_letter' then 'dead_letter: gave up after 5 attempts' end as status_reason,
         case d.alert_outcome when 'dead_letter' then '30001' when 'undelivered' then '30003' end as error_code,
         case when d.alert_outcome = 'dead_letter' then 5 else 1 end as attempts,
         d.created_at + interval '40 milliseconds' as created_at,
         case when d.alert_outcome <> 'dead_letter' then d.created_at + least(d.alert_seconds * 0.3, 1.2) * interval '1 second' end as sent_at,
         case when d.alert_outcome = 'delivered' then d.created_at + d.alert_seconds * interval '1 second' end as delivered_at,
         'owner_alert:' || d.id as dedupe_key
    from demo_leads d
  union all
  select d.id, d.conversation_id, 'text_back', d.phone, biz.twilio_number,
         private.render_sms('text_back', d.locale, jsonb_build_object('first_name', d.first_name, 'business', biz.name,
           'question', d.question), '{}', biz.id),
         d.asks,
         case when d.outcome = 'failed' then 'undelivered' else 'delivered' end, null,
         case when d.outcome = 'failed' then '30006' end, 1,
         d.created_at + interval '50 milliseconds', d.text_at, case when d.outcome <> 'failed' then d.text_at + interval '4 seconds' end,
         'text_back:' || d.conversation_id
    from demo_leads d where d.replies is not null
  union all
  select d.id, d.conversation_id, 'nudge', d.phone, biz.twilio_number,
         private.render_sms('nudge', d.locale, jsonb_build_object('first_name', d.first_name, 'business', biz.name), '{need,timing,location}', biz.id),
         '{need,timing,location}', 'delivered', null, null, 1,
         d.text_at + make_interval(mins => biz.nudge_delay_minutes), d.text_at + make_interval(mins => biz.nudge_delay_minutes, secs => 1),
         d.text_at + make_interval(mins => biz.nudge_delay_minutes, secs => 5), 'nudge:' || d.conversation_id
    from demo_leads d where d.outcome = 'no_reply'
  union all
  select d.id, d.conversation_id, 'inbound', biz.twilio_number, d.phone, r.body, '{}', 'received', null, null, 0,
         d.text_at + make_interval(mins => d.reply_minutes * r.turn::int), null, null, null
    from demo_leads d cross join lateral unnest(d.replies) with ordinality as r(body, turn)
  union all
  select d.id, d.conversation_id, 'question', d.phone, biz.twilio_number,
         case r.turn when 1 then private.render_sms('question.acknowledged', d.locale, '{}', '{location}', biz.id)
                     else private.render_sms('text_back.question', d.locale, '{}', '{constraints}', biz.id) end,
         case r.turn when 1 then '{location}'::text[] else '{constraints}' end, 'delivered', null, null, 1,
         d.text_at + make_interval(mins => d.reply_minutes * r.turn::int, secs => 3), d.text_at + make_interval(mins => d.reply_minutes * r.turn::int, secs => 3.5),
         d.text_at + make_interval(mins => d.reply_minutes * r.turn::int, secs => 7), null
    from demo_leads d cross join lateral generate_series(1, d.turns - 1) as r(turn)
   where d.outcome in ('slots_filled', 'max_questions')
  union all
  select d.id, d.conversation_id, 'closing', d.phone, biz.twilio_number,
         private.render_sms('closing.' || d.outcome, d.locale, jsonb_build_object('first_name', d.first_name, 'business', biz.name), '{}', biz.id),
         '{}', 'delivered', null, null, 1, d.last_inbound_at + interval '3 seconds', d.last_inbound_at + interval '3.5 seconds',
         d.last_inbound_at + interval '7 seconds', null
    from demo_leads d where d.outcome in ('slots_filled', 'max_questions', 'call_requested')
  union all
  select d.id, null, 'opt_out_ack', d.phone, biz.twilio_number,
         private.render_sms('opt_out_ack', d.locale, jsonb_build_object('business', biz.name), '{}', biz.id),
         '{}', 'delivered', null, null, 1, d.last_inbound_at + interval '2 seconds', d.last_inbound_at + interval '2.5 seconds',
         d.last_inbound_at + interval '6 seconds', null
    from demo_leads d where d.outcome = 'opted_out'
  union all
  select d.id, d.conversation_id, 'owner_summary', biz.owner_phone, biz.twilio_number, d.summary ->> 'text', '{}', 'delivered', null, null, 1,
         d.closed_at + interval '12 seconds', d.closed_at + interval '13 seconds', d.closed_at + interval '17 seconds',
         'owner_summary:' || d.conversation_id
    from demo_leads d where d.summary is not null;

  insert into public.messages (business_id, lead_id, conversation_id, direction, kind, to_phone, from_phone, body, asks, status, status_reason,
                               twilio_sid, error_code, attempts, next_attempt_at, send_after, dedupe_key, sent_at, delivered_at, created_at, updated_at)
  select biz.id, m.lead_id, m.conversation_id, case when m.kind = 'inbound' then 'inbound' else 'outbound' end, m.kind, m.to_phone, m.from_phone,
         left(m.body, 1600), m.asks, m.status, m.status_reason,
         case when m.sent_at is not null or m.kind = 'inbound' then 'SM' || md5(random()::text) end,
         m.error_code, m.attempts, m.created_at, coalesce(m.sent_at, m.created_at), m.dedupe_key, m.sent_at, m.delivered_at, m.created_at,
         coalesce(m.delivered_at, m.sent_at, m.created_at)
    from demo_messages m where m.body is not null;

  insert into public.opt_outs (business_id, phone, source, matched_rule, inbound_message_id, created_at)
  select biz.id, d.phone, 'keyword', 'keyword:STOP', m.id, d.last_inbound_at
    from demo_leads d join public.messages m on m.lead_id = d.id and m.kind = 'inbound'
   where d.outcome = 'opted_out'
  on conflict do nothing;

  -- Dead-lettered owner alerts told the owner; the older ones were looked at.
  insert into public.owner_notifications (business_id, kind, severity, title, body, details, lead_id, message_id, dedupe_key, created_at,
                                          resolved_at, resolved_by)
  select biz.id, 'owner_alert.dead_letter', 'critical', 'An owner alert could not be delivered',
         format('The text about %s never reached %s after 5 attempts. Call them back from the lead page.', d.name, biz.owner_phone),
         jsonb_build_object('attempts', 5, 'error_code', '30001'), d.id, m.id, 'owner_alert.dead_letter:' || m.id, d.created_at + interval '20 minutes',
         case when d.days_ago > 14 then d.created_at + interval '3 hours' end,
         case when d.days_ago > 14 then '00000000-0000-4000-8000-000000000003'::uuid end
    from demo_leads d join public.messages m on m.lead_id = d.id and m.kind = 'owner_alert'
   where d.alert_outcome = 'dead_letter';

  -- Some people press Send twice: the second form is stored as a duplicate and alerts nobody.
  insert into public.leads (widget_id, business_id, name, phone, email, message, source_url, sms_consent, consent_text, consent_at, ip,
                            user_agent, locale, is_duplicate, duplicate_of, owner_alert_status, followup_status, not_texted_reason,
                            phone_status, created_at, status, search_text)
  select l.widget_id, l.business_id, l.name, l.phone, l.email, l.message, l.source_url, l.sms_consent, l.consent_text,
         l.consent_at + interval '70 seconds', l.ip, l.user_agent, l.locale, true, l.id, 'skipped_duplicate', 'not_texted', 'duplicate',
         l.phone_status, l.created_at + interval '70 seconds', l.status, l.search_text
    from public.leads l join demo_leads d on d.id = l.id
   where d.r_extra between 0.40 and 0.415;

  perform set_config('session_replication_role', 'origin', true);
  -- The first dashboard load after a seed should not wait for autovacuum's statistics.
  analyze public.leads, public.conversations, public.messages;
end
$demo$;
