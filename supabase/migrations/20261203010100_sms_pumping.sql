-- SMS pumping (issue 12): a form anyone can post makes the business pay for texts, so leadloop texts
-- only numbers a local business plausibly serves. +1 is shared by the US, Canada and 23 other countries
-- and territories; by default only US and Canadian numbers are texted. Premium-rate (900, exchange 976),
-- toll-free, personal/non-geographic (5XX, 600...), impossible (N11, 0/1 leading digits) and fictional
-- (555-01XX) numbers are never texted. Each refusal is recorded on the lead as its not_texted_reason.

-- Source: NANPA's area code assignments as carried by libphonenumber's metadata (PhoneNumberMetadata.xml,
-- libphonenumber-js 1.13.16: the leading digits of every NANP region other than the US, and the toll-free,
-- premium-rate and personal-number patterns of the US region). Every area code not listed here is a US
-- geographic one (or unassigned, which Twilio reports as invalid, 21211).
create table private.nanp_area_codes (
  area_code text primary key check (area_code ~ '^[2-9][0-9]{2}$'),
  kind text not null check (kind in ('geographic', 'toll_free', 'premium_rate', 'non_geographic')),
  region text check (region ~ '^[A-Z]{2}$'),
  constraint nanp_area_codes_geographic_has_region check ((kind = 'geographic') = (region is not null))
);
comment on table private.nanp_area_codes is 'NANP (+1) area codes that are not US geographic: other countries'' and territories'' codes (ISO region), toll-free, premium-rate and non-geographic ones. Data from NANPA via libphonenumber metadata 1.13.16.';
alter table private.nanp_area_codes enable row level security;
revoke all on private.nanp_area_codes from public, anon, authenticated;

insert into private.nanp_area_codes (area_code, kind, region)
select code, 'geographic', region
  from (values
    ('CA', '{204,226,236,249,250,257,263,273,289,306,343,354,365,367,368,382,403,416,418,428,431,437,438,450,468,474,506,514,519,548,579,581,584,587,604,613,639,647,672,683,705,709,742,753,778,780,782,807,819,825,867,873,879,902,905,942}'::text[]),
    ('AG', '{268}'), ('AI', '{264}'), ('AS', '{684}'), ('BB', '{246}'), ('BM', '{441}'), ('BS', '{242}'), ('DM', '{767}'),
    ('DO', '{809,829,849}'), ('GD', '{473}'), ('GU', '{671}'), ('JM', '{658,876}'), ('KN', '{869}'), ('KY', '{345}'),
    ('LC', '{758}'), ('MP', '{670}'), ('MS', '{664}'), ('PR', '{787,939}'), ('SX', '{721}'), ('TC', '{649}'),
    ('TT', '{868}'), ('VC', '{784}'), ('VG', '{284}'), ('VI', '{340}')) as r(region, codes),
  unnest(r.codes) as code
union all
select code, kind, null
  from (values
    ('toll_free', '{800,833,844,855,866,877,888}'::text[]),
    ('premium_rate', '{900}'),
    -- personal communication services (5XX), Canadian non-geographic (600, 622, 633), interexchange (700),
    -- US government (710), inbound international (456)
    ('non_geographic', '{456,500,521,522,523,524,525,526,527,528,529,532,533,544,566,577,588,600,622,633,700,710}')) as k(kind, codes),
  unnest(k.codes) as code;

alter table public.businesses
  add column allowed_nanp_regions text[] not null default '{US,CA}'
    check (cardinality(allowed_nanp_regions) between 1 and 25 and array_to_string(allowed_nanp_regions, ',') ~ '^[A-Z]{2}(,[A-Z]{2})*$');
comment on column public.businesses.allowed_nanp_regions is 'Which +1 countries and territories (ISO codes: US, CA, PR, JM, DO, ...) leads may be texted in; US and Canada by default (SMS pumping guard).';
grant update (allowed_nanp_regions) on public.businesses to authenticated;

-- Why leadloop does not text this number for this business, or null. Only the number decides here;
-- consent, opt-outs and caps are the intake's other rules.
create or replace function private.texting_refusal(p_business public.businesses, p_phone text)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  area text := substr(p_phone, 3, 3);
  exchange text := substr(p_phone, 6, 3);
  area_code private.nanp_area_codes;
begin
  if p_phone is null then
    return 'invalid_phone';
  elsif p_phone not like '+1%' then
    return case when not exists (select 1 from unnest(p_business.allowed_calling_codes) code where p_phone like '+' || code || '%')
                then 'country_not_allowed' end;
  elsif not '1' = any (p_business.allowed_calling_codes) then
    return 'country_not_allowed';
  elsif not (length(p_phone) = 12 and private.is_digits(substr(p_phone, 2)) and left(area, 1) between '2' and '9'
              and left(exchange, 1) between '2' and '9') or substr(area, 2) = '11' or substr(exchange, 2) = '11' then
    return 'invalid_phone';
  end if;
  select * into area_code from private.nanp_area_codes c where c.area_code = area;
  return case
    when area_code.kind = 'premium_rate' or exchange = '976' then 'premium_rate'
    when area_code.kind in ('toll_free', 'non_geographic') then 'non_geographic'
    when exchange = '555' and substr(p_phone, 9, 4) between '0100' and '0199' then 'fictional_number'
    when not coalesce(area_code.region, 'US') = any (p_business.allowed_nanp_regions) then 'country_not_allowed'
  end;
end
$$;
comment on function private.texting_refusal(public.businesses, text) is 'Why the business must not text this number (country_not_allowed, invalid_phone, premium_rate, non_geographic, fictional_number), or null: the SMS pumping guard, by number alone.';
revoke execute on function private.texting_refusal(public.businesses, text) from public;
