-- Settings an owner edits on the settings page (issue 9 item 5). The columns themselves, their checks and
-- the owners-only UPDATE policy and column grants live with their features (businesses_and_members,
-- rate_limits, sms_pumping, owner_phone_verification); this adds what the page needs to offer valid
-- choices and to refuse the rest in words.

-- The +1 countries and territories the pumping guard knows (private.nanp_area_codes), for the "allowed
-- countries" choice: the page offers exactly what private.texting_refusal understands.
create or replace function public.texting_regions()
returns setof text
language sql
stable
security definer
set search_path = ''
as $$
  select 'US' union select distinct c.region from private.nanp_area_codes c where c.region is not null order by 1
$$;
comment on function public.texting_regions() is 'ISO codes of the +1 (NANP) countries and territories a business may allow leads to be texted in (businesses.allowed_nanp_regions).';
revoke execute on function public.texting_regions() from public, anon;
grant execute on function public.texting_regions() to authenticated, service_role;

-- The column's check is only the shape; an unknown code would silently allow nothing, so say so.
create or replace function private.businesses_check_nanp_regions()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  unknown text := (select string_agg(r, ', ') from unnest(new.allowed_nanp_regions) r
                    where r <> 'US' and not exists (select 1 from private.nanp_area_codes c where c.region = r));
begin
  if unknown is not null then
    raise exception using errcode = '23514', message = format('%s: not a +1 country or territory leadloop texts', unknown),
      detail = 'field: allowed_nanp_regions';
  end if;
  return new;
end
$$;
comment on function private.businesses_check_nanp_regions() is 'BEFORE INSERT/UPDATE on businesses: refuses allowed_nanp_regions codes the pumping guard does not know, naming them.';
revoke execute on function private.businesses_check_nanp_regions() from public;

create trigger businesses_check_nanp_regions before insert or update of allowed_nanp_regions on public.businesses
  for each row execute function private.businesses_check_nanp_regions();
