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
