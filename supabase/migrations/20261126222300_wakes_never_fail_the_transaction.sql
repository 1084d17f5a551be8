-- A wake is an optimisation on top of the minute sweep; it must never cost the data that caused it.
-- The wake decision runs at commit, so an error there (net.http_post refusing a malformed vault URL,
-- a lock timeout on the wake row) would abort the lead's whole transaction. Both places now log a
-- warning and carry on; the sweep posts the wake a minute later at the latest.
create or replace function private.post_to_edge_function(p_function_name text, p_body jsonb default '{}'::jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  project_url text;
  service_role_key text;
begin
  select s.decrypted_secret into project_url from vault.decrypted_secrets s where s.name = 'project_url' limit 1;
  select s.decrypted_secret into service_role_key from vault.decrypted_secrets s where s.name = 'service_role_key' limit 1;
  if project_url is null or service_role_key is null then
    raise warning 'leadloop: vault secrets project_url/service_role_key are not set; % not woken', p_function_name;
    return null;
  end if;
  return net.http_post(
    url := rtrim(project_url, '/') || '/functions/v1/' || p_function_name,
    body := p_body,
    headers := jsonb_build_object('Authorization', 'Bearer ' || service_role_key, 'Content-Type', 'application/json'));
exception when others then
  raise warning 'leadloop: could not post to %: % (%)', p_function_name, sqlerrm, sqlstate;
  return null;
end
$$;
comment on function private.post_to_edge_function(text, jsonb) is 'net.http_post to <project_url>/functions/v1/<name> with the service key from vault.decrypted_secrets; null (and a warning) when it cannot, never an error.';

create or replace function private.messages_wake_dispatch_at_commit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- One decision per transaction, however many messages it queued.
  if current_setting('leadloop.dispatch_wake_decided', true) = 'yes' then
    return null;
  end if;
  -- Only rows still sendable right now matter (the row may have changed since it was queued).
  if exists (select 1 from public.messages m
              where m.id = new.id and m.status = 'queued' and m.send_after <= now() and m.next_attempt_at <= now()) then
    perform set_config('leadloop.dispatch_wake_decided', 'yes', true);
    begin
      perform private.wake_dispatch(false);
    exception when others then
      raise warning 'leadloop: sms-dispatch wake skipped: % (%); the sweep will wake it', sqlerrm, sqlstate;
    end;
  end if;
  return null;
end
$$;

revoke execute on function private.post_to_edge_function(text, jsonb), private.messages_wake_dispatch_at_commit() from public, anon, authenticated;
