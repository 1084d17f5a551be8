-- Quiet hours in the lead's own time. Where a lead is, and so when it may be texted, comes from (first
-- known wins) the time zone the visitor's own browser reported with the form, a US ZIP in the form
-- message, the NANP area code of the phone, and only then the business's zone. The texting window is
-- the owner's setting, inside the federal 08:00-21:00 (private.texting_window_problem) and inside the
-- stricter rules of the lead's state (FL, OK, MD: 08:00-20:00 and at most 3 texts per 24 hours).
-- The facts are data in three small tables; enqueue and claim both ask private.next_lead_send_time.

-- Geographic area codes of the US (with its territories) and Canada, with every zone the code's area
-- lies in. Source: NANPA's area code map and planning letters (nationalnanpa.com, "NPA Database" and
-- "Area Code Maps", checked 2025), the IANA tz database's zone.tab for which zone a place keeps, and
-- CNA (cnac.ca) for Canada. Where an area code spans two zones (850 in the Florida panhandle, 270 in
-- Kentucky, 541 in Oregon, ...) both are listed and a text must fall inside the window in each: the
-- stricter reading. Caribbean and other countries sharing +1, and non-geographic codes (5XX, 8XX toll
-- free, 900) are not here: their leads fall back to the next signal.
create table private.area_code_time_zones (
  area_code text primary key check (area_code ~ '^[2-9][0-9]{2}$'),
  country text not null check (country in ('US', 'CA')),
  region text not null check (region ~ '^[A-Z]{2}$'),
  timezones text[] not null check (cardinality(timezones) between 1 and 4)
);
comment on table private.area_code_time_zones is 'NANP area code -> country, state or province and the IANA zones its area spans (US, US territories, Canada; source in the migration). Read by private.lead_locality.';
alter table private.area_code_time_zones enable row level security;
revoke all on private.area_code_time_zones from public, anon, authenticated;

insert into private.area_code_time_zones (area_code, country, region, timezones)
select code, v.country, v.region, v.zones::text[]
  from (values
  ('US', 'AL', '{America/Chicago}', '205 251 256 334 659 938'),
  ('US', 'AK', '{America/Anchorage,America/Adak}', '907'),
  ('US', 'AZ', '{America/Phoenix}', '480 520 602 623'),
  ('US', 'AZ', '{America/Phoenix,America/Denver}', '928'),           -- the Navajo Nation keeps DST
  ('US', 'AR', '{America/Chicago}', '327 479 501 870'),
  ('US', 'CA', '{America/Los_Angeles}', '209 213 279 310 323 341 350 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 714 747 760 805 818 820 831 840 858 909 916 925 949 951'),
  ('US', 'CO', '{America/Denver}', '303 719 720 970 983'),
  ('US', 'CT', '{America/New_York}', '203 475 860 959'),
  ('US', 'DE', '{America/New_York}', '302'),
  ('US', 'DC', '{America/New_York}', '202 771'),
  ('US', 'FL', '{America/New_York}', '239 305 321 352 386 407 561 645 656 689 727 754 772 786 813 863 904 941 954'),
  ('US', 'FL', '{America/Chicago,America/New_York}', '448 850'),    -- the panhandle west of the Apalachicola is Central
  ('US', 'GA', '{America/New_York}', '229 404 470 478 678 706 762 770 912 943'),
  ('US', 'HI', '{Pacific/Honolulu}', '808'),
  ('US', 'ID', '{America/Boise,America/Los_Angeles}', '208 986'),    -- the panhandle is Pacific
  ('US', 'IL', '{America/Chicago}', '217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 872'),
  ('US', 'IN', '{America/Indiana/Indianapolis}', '260 317 463 765'),
  ('US', 'IN', '{America/Chicago}', '219'),
  ('US', 'IN', '{America/Indiana/Indianapolis,America/Chicago}', '574 812 930'),
  ('US', 'IA', '{America/Chicago}', '319 515 563 641 712'),
  ('US', 'KS', '{America/Chicago}', '316 913'),
  ('US', 'KS', '{America/Chicago,America/Denver}', '620 785'),
  ('US', 'KY', '{America/New_York}', '502 606 859'),
  ('US', 'KY', '{America/Chicago,America/New_York}', '270 364'),
  ('US', 'LA', '{America/Chicago}', '225 318 337 504 985'),
  ('US', 'ME', '{America/New_York}', '207'),
  ('US', 'MD', '{America/New_York}', '227 240 301 410 443 667'),
  ('US', 'MA', '{America/New_York}', '339 351 413 508 617 774 781 857 978'),
  ('US', 'MI', '{America/Detroit}', '231 248 269 313 517 586 616 679 734 810 947 989'),
  ('US', 'MI', '{America/Detroit,America/Menominee}', '906'),
  ('US', 'MN', '{America/Chicago}', '218 320 507 612 651 763 924 952'),
  ('US', 'MS', '{America/Chicago}', '228 601 662 769'),
  ('US', 'MO', '{America/Chicago}', '314 417 557 573 636 660 816 975'),
  ('US', 'MT', '{America/Denver}', '406'),
  ('US', 'NE', '{America/Chicago}', '402 531'),
  ('US', 'NE', '{America/Chicago,America/Denver}', '308'),
  ('US', 'NV', '{America/Los_Angeles}', '702 725'),
  ('US', 'NV', '{America/Los_Angeles,America/Denver}', '775'),
  ('US', 'NH', '{America/New_York}', '603'),
  ('US', 'NJ', '{America/New_York}', '201 551 609 640 732 848 856 862 908 973'),
  ('US', 'NM', '{America/Denver}', '505 575'),
  ('US', 'NY', '{America/New_York}', '212 315 329 332 347 363 516 518 585 607 631 646 680 716 718 838 845 914 917 929 934'),
  ('US', 'NC', '{America/New_York}', '252 336 472 704 743 828 910 919 980 984'),
  ('US', 'ND', '{America/Chicago,America/Denver}', '701'),
  ('US', 'OH', '{America/New_York}', '216 220 234 283 326 330 380 419 436 440 513 567 614 740 937'),
  ('US', 'OK', '{America/Chicago}', '405 539 572 580 918'),
  ('US', 'OR', '{America/Los_Angeles}', '503 971'),
  ('US', 'OR', '{America/Los_Angeles,America/Boise}', '458 541'),    -- Malheur County is Mountain
  ('US', 'PA', '{America/New_York}', '215 223 267 272 412 445 484 570 582 610 717 724 814 835 878'),
  ('US', 'RI', '{America/New_York}', '401'),
  ('US', 'SC', '{America/New_York}', '803 839 843 854 864'),
  ('US', 'SD', '{America/Chicago,America/Denver}', '605'),
  ('US', 'TN', '{America/Chicago}', '615 629 731 901 931'),
  ('US', 'TN', '{America/New_York}', '865'),
  ('US', 'TN', '{America/New_York,America/Chicago}', '423'),
  ('US', 'TX', '{America/Chicago}', '210 214 254 281 325 346 361 409 430 469 512 682 713 726 737 806 817 830 832 903 936 940 945 956 972 979'),
  ('US', 'TX', '{America/Chicago,America/Denver}', '432'),
  ('US', 'TX', '{America/Denver}', '915'),
  ('US', 'UT', '{America/Denver}', '385 435 801'),
  ('US', 'VT', '{America/New_York}', '802'),
  ('US', 'VA', '{America/New_York}', '276 434 540 571 703 757 804 826 948'),
  ('US', 'WA', '{America/Los_Angeles}', '206 253 360 425 509 564'),
  ('US', 'WV', '{America/New_York}', '304 681'),
  ('US', 'WI', '{America/Chicago}', '262 274 353 414 534 608 715 920'),
  ('US', 'WY', '{America/Denver}', '307'),
  ('US', 'PR', '{America/Puerto_Rico}', '787 939'),
  ('US', 'VI', '{America/St_Thomas}', '340'),
  ('US', 'GU', '{Pacific/Guam}', '671'),
  ('US', 'MP', '{Pacific/Saipan}', '670'),
  ('US', 'AS', '{Pacific/Pago_Pago}', '684'),
  ('CA', 'BC', '{America/Vancouver}', '604'),
  ('CA', 'BC', '{America/Vancouver,America/Edmonton}', '236 250 672 778'),   -- the East Kootenays keep Mountain time
  ('CA', 'AB', '{America/Edmonton}', '368 403 587 780 825'),
  ('CA', 'SK', '{America/Regina}', '306 474 639'),
  ('CA', 'MB', '{America/Winnipeg}', '204 431 584'),
  ('CA', 'ON', '{America/Toronto}', '226 249 289 343 365 382 416 437 519 548 613 647 683 705 742 753 905 942'),
  ('CA', 'ON', '{America/Toronto,America/Winnipeg}', '807'),
  ('CA', 'QC', '{America/Toronto}', '263 354 438 450 468 514 579 819 873'),
  ('CA', 'QC', '{America/Toronto,America/Halifax}', '367 418 581'),          -- the Magdalen Islands and the Lower North Shore are Atlantic
  ('CA', 'NB', '{America/Moncton}', '428 506'),
  ('CA', 'NS', '{America/Halifax}', '782 902'),
  ('CA', 'NL', '{America/St_Johns,America/Goose_Bay}', '709 879'),
  ('CA', 'YT', '{America/Whitehorse,America/Iqaluit}', '867')                 -- Yukon, Northwest Territories and Nunavut share it
  ) as v(country, region, zones, codes),
  unnest(string_to_array(v.codes, ' ')) as code;

-- 3-digit ZIP prefixes -> state and zones. Source: USPS Publication 65 / the National Five-Digit ZIP
-- Code and Post Office Directory's sectional center ranges, with the IANA zones of the places they
-- serve; ranges whose area spans two zones list both (the stricter reading, as for area codes). Military
-- (AA/AE/AP) prefixes are left out: such a lead falls back to the next signal.
create table private.zip3_time_zones (
  zip3_from text not null check (zip3_from ~ '^[0-9]{3}$'),
  zip3_to text not null check (zip3_to ~ '^[0-9]{3}$'),
  region text not null check (region ~ '^[A-Z]{2}$'),
  timezones text[] not null check (cardinality(timezones) between 1 and 4),
  primary key (zip3_from),
  constraint zip3_time_zones_range check (zip3_from <= zip3_to)
);
comment on table private.zip3_time_zones is 'US ZIP prefix ranges (first three digits) -> state or territory and the IANA zones they span (source in the migration). Read by private.lead_locality.';
alter table private.zip3_time_zones enable row level security;
revoke all on private.zip3_time_zones from public, anon, authenticated;

insert into private.zip3_time_zones (zip3_from, zip3_to, region, timezones)
select v.f, v.t, v.region, v.zones::text[]
  from (values
  ('005', '005', 'NY', '{America/New_York}'), ('006', '007', 'PR', '{America/Puerto_Rico}'),
  ('008', '008', 'VI', '{America/St_Thomas}'), ('009', '009', 'PR', '{America/Puerto_Rico}'),
  ('010', '027', 'MA', '{America/New_York}'), ('028', '029', 'RI', '{America/New_York}'),
  ('030', '038', 'NH', '{America/New_York}'), ('039', '049', 'ME', '{America/New_York}'),
  ('050', '059', 'VT', '{America/New_York}'), ('060', '069', 'CT', '{America/New_York}'),
  ('070', '089', 'NJ', '{America/New_York}'), ('100', '149', 'NY', '{America/New_York}'),
  ('150', '196', 'PA', '{America/New_York}'), ('197', '199', 'DE', '{America/New_York}'),
  ('200', '205', 'DC', '{America/New_York}'), ('206', '219', 'MD', '{America/New_York}'),
  ('220', '246', 'VA', '{America/New_York}'), ('247', '268', 'WV', '{America/New_York}'),
  ('270', '289', 'NC', '{America/New_York}'), ('290', '299', 'SC', '{America/New_York}'),
  ('300', '319', 'GA', '{America/New_York}'), ('320', '323', 'FL', '{America/New_York}'),
  ('324', '325', 'FL', '{America/Chicago}'), ('326', '349', 'FL', '{America/New_York}'),
  ('350', '369', 'AL', '{America/Chicago}'), ('370', '372', 'TN', '{America/Chicago}'),
  ('373', '374', 'TN', '{America/New_York,America/Chicago}'), ('375', '375', 'TN', '{America/Chicago}'),
  ('376', '379', 'TN', '{America/New_York}'), ('380', '385', 'TN', '{America/Chicago}'),
  ('386', '397', 'MS', '{America/Chicago}'), ('398', '399', 'GA', '{America/New_York}'),
  ('400', '419', 'KY', '{America/New_York}'), ('420', '427', 'KY', '{America/Chicago,America/New_York}'),
  ('430', '459', 'OH', '{America/New_York}'), ('460', '462', 'IN', '{America/Indiana/Indianapolis}'),
  ('463', '464', 'IN', '{America/Chicago}'), ('465', '475', 'IN', '{America/Indiana/Indianapolis}'),
  ('476', '477', 'IN', '{America/Chicago}'), ('478', '479', 'IN', '{America/Indiana/Indianapolis}'),
  ('480', '497', 'MI', '{America/Detroit}'), ('498', '499', 'MI', '{America/Detroit,America/Menominee}'),
  ('500', '528', 'IA', '{America/Chicago}'), ('530', '549', 'WI', '{America/Chicago}'),
  ('550', '567', 'MN', '{America/Chicago}'), ('569', '569', 'DC', '{America/New_York}'),
  ('570', '574', 'SD', '{America/Chicago}'), ('575', '576', 'SD', '{America/Chicago,America/Denver}'),
  ('577', '577', 'SD', '{America/Denver}'), ('580', '585', 'ND', '{America/Chicago}'),
  ('586', '588', 'ND', '{America/Chicago,America/Denver}'), ('590', '599', 'MT', '{America/Denver}'),
  ('600', '629', 'IL', '{America/Chicago}'), ('630', '658', 'MO', '{America/Chicago}'),
  ('660', '676', 'KS', '{America/Chicago}'), ('677', '679', 'KS', '{America/Chicago,America/Denver}'),
  ('680', '689', 'NE', '{America/Chicago}'), ('690', '692', 'NE', '{America/Chicago,America/Denver}'),
  ('693', '693', 'NE', '{America/Denver}'), ('700', '714', 'LA', '{America/Chicago}'),
  ('716', '729', 'AR', '{America/Chicago}'), ('730', '749', 'OK', '{America/Chicago}'),
  ('750', '797', 'TX', '{America/Chicago}'), ('798', '799', 'TX', '{America/Denver}'),
  ('800', '816', 'CO', '{America/Denver}'), ('820', '831', 'WY', '{America/Denver}'),
  ('832', '837', 'ID', '{America/Boise}'), ('838', '838', 'ID', '{America/Los_Angeles}'),
  ('840', '847', 'UT', '{America/Denver}'), ('850', '859', 'AZ', '{America/Phoenix}'),
  ('860', '860', 'AZ', '{America/Phoenix,America/Denver}'), ('863', '864', 'AZ', '{America/Phoenix}'),
  ('865', '865', 'AZ', '{America/Phoenix,America/Denver}'), ('870', '884', 'NM', '{America/Denver}'),
  ('885', '885', 'TX', '{America/Denver}'), ('889', '897', 'NV', '{America/Los_Angeles}'),
  ('898', '898', 'NV', '{America/Los_Angeles,America/Denver}'), ('900', '961', 'CA', '{America/Los_Angeles}'),
  ('967', '967', 'HI', '{Pacific/Honolulu,Pacific/Pago_Pago}'), ('968', '968', 'HI', '{Pacific/Honolulu}'),
  ('969', '969', 'GU', '{Pacific/Palau,Pacific/Guam,Pacific/Majuro}'), ('970', '978', 'OR', '{America/Los_Angeles}'),
  ('979', '979', 'OR', '{America/Los_Angeles,America/Boise}'), ('980', '994', 'WA', '{America/Los_Angeles}'),
  ('995', '995', 'AK', '{America/Anchorage}'), ('996', '996', 'AK', '{America/Anchorage,America/Adak}'),
  ('997', '999', 'AK', '{America/Anchorage}')
  ) as v(f, t, region, zones);

-- States whose law is stricter than the federal window. Sources: Florida Telephone Solicitation Act
-- (Fla. Stat. 501.059(8): 8 a.m.-8 p.m., at most 3 calls or texts per 24 hours on the same subject),
-- Oklahoma Telephone Solicitation Act (15 O.S. 775C.4, same limits), Maryland Stop the Spam Calls Act
-- (Md. Com. Law 14-4503, same limits). Each business texts a lead about one subject, its request.
create table private.state_texting_rules (
  region text primary key check (region ~ '^[A-Z]{2}$'),
  window_start time not null,
  window_end time not null,
  max_texts_per_24h integer check (max_texts_per_24h between 1 and 100),
  source text not null check (length(source) between 1 and 200),
  constraint state_texting_rules_window check (window_start < window_end)
);
comment on table private.state_texting_rules is 'State laws stricter than the federal 08:00-21:00 window: their window and how many texts one business may send a lead per 24 hours.';
alter table private.state_texting_rules enable row level security;
revoke all on private.state_texting_rules from public, anon, authenticated;

insert into private.state_texting_rules (region, window_start, window_end, max_texts_per_24h, source) values
  ('FL', '08:00', '20:00', 3, 'Fla. Stat. 501.059(8)'),
  ('OK', '08:00', '20:00', 3, '15 O.S. 775C.4'),
  ('MD', '08:00', '20:00', 3, 'Md. Code, Com. Law 14-4503');

-- Where the lead is, for its texting window: zones (first known of device, ZIP, area code, business),
-- the source that decided, and the state whose rules apply. A ZIP and an area code in different states:
-- the one with a stricter state rule wins, as the stricter reading.
create or replace function private.lead_locality(p_phone text, p_zip text, p_reported_timezone text, p_business_timezone text)
returns table (timezones text[], timezone_source text, region text)
language plpgsql
stable
set search_path = ''
as $$
declare
  by_zip private.zip3_time_zones;
  by_code private.area_code_time_zones;
begin
  if length(p_zip) = 5 and private.is_digits(p_zip) then
    select * into by_zip from private.zip3_time_zones z
     where z.zip3_from <= left(p_zip, 3) and z.zip3_to >= left(p_zip, 3)
     order by z.zip3_from desc limit 1;
  end if;
  if p_phone like '+1%' and length(p_phone) = 12 and substr(p_phone, 3, 1) between '2' and '9' and private.is_digits(substr(p_phone, 2)) then
    select * into by_code from private.area_code_time_zones a where a.area_code = substr(p_phone, 3, 3);
  end if;
  timezones := case
    when private.is_place_timezone(p_reported_timezone) then array[p_reported_timezone]
    when by_zip.region is not null then by_zip.timezones
    when by_code.region is not null then by_code.timezones
    else array[p_business_timezone] end;
  timezone_source := case
    when private.is_place_timezone(p_reported_timezone) then 'device'
    when by_zip.region is not null then 'zip'
    when by_code.region is not null then 'area_code'
    else 'business' end;
  region := case
    when exists (select 1 from private.state_texting_rules s where s.region = by_zip.region) then by_zip.region
    when exists (select 1 from private.state_texting_rules s where s.region = by_code.region) then by_code.region
    else coalesce(by_zip.region, by_code.region) end;
  return next;
end
$$;
comment on function private.lead_locality(text, text, text, text) is 'The lead''s zones, which signal gave them (device, zip, area_code, business) and its state or province (for state rules).';
revoke execute on function private.lead_locality(text, text, text, text) from public;

-- The window a business may text a lead in: the owner's setting, narrowed by the lead's state rule (the
-- owner's setting is already inside the federal window: private.texting_window_problem).
create or replace function private.lead_texting_window(p_business public.businesses, p_region text)
returns table (window_start time, window_end time, max_texts_per_24h integer, rule text)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query
  select greatest(p_business.quiet_hours_start, coalesce(s.window_start, '00:00')),
         least(p_business.quiet_hours_end, coalesce(s.window_end, '24:00')),
         s.max_texts_per_24h,
         coalesce('state:' || s.region, 'owner')
    from (select 1) as one
    left join private.state_texting_rules s on s.region = p_region;
end
$$;
comment on function private.lead_texting_window(public.businesses, text) is 'The local-time window a business may text a lead of this state in, and the state''s 24-hour limit (null: none).';
revoke execute on function private.lead_texting_window(public.businesses, text) from public;

-- Lead texts that count against a state's 24-hour limit: what the business texted the lead itself
-- (answers to STOP, START and HELP are owed to the lead and never held back).
create or replace function private.is_limited_lead_text(p_kind text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return (
    select p_kind in ('text_back', 'question', 'nudge', 'closing', 'owner_reply'));
end
$$;
comment on function private.is_limited_lead_text(text) is 'Kinds that are texts to a lead in its conversation: held to the lead''s texting window and its state''s 24-hour limit.';
revoke execute on function private.is_limited_lead_text(text) from public;

-- The earliest moment at or after p_at a conversation text to this lead may go out, and why it has to
-- wait (quiet_hours, state_limit) or null. Inside the window of every zone of the lead, and, where a
-- state limits texts per 24 hours, once fewer than that many have gone out in the 24 hours before it.
create or replace function private.next_lead_send_time(
  p_business public.businesses, p_lead public.leads, p_at timestamptz, p_message_id uuid default null)
returns table (send_at timestamptz, reason text)
language plpgsql
stable
set search_path = ''
as $$
declare
  zones text[] := coalesce(nullif(p_lead.timezones, '{}'), array[p_business.timezone]);
  rules record;
  t timestamptz := p_at;
  candidate timestamptz;
  zone text;
  moved boolean;
  limit_until timestamptz;
begin
  select * into rules from private.lead_texting_window(p_business, p_lead.region);
  -- Each pass moves t forward (zones of one area code differ by an hour or two, and a state limit
  -- moves it once), so a few passes settle; a window the zones do not share stops at the last pass.
  for pass in 1..6 loop
    moved := false;
    foreach zone in array zones loop
      candidate := private.next_allowed_send_time(t, zone, rules.window_start, rules.window_end);
      if candidate > t then
        t := candidate;
        moved := true;
        reason := coalesce(reason, 'quiet_hours');
      end if;
    end loop;
    if not moved and rules.max_texts_per_24h is not null and p_lead.id is not null then
      -- The texts already out in the 24 hours before t: at the limit, wait until the oldest that counts leaves it.
      select min(x.at) + interval '24 hours' into limit_until
        from (select coalesce(m.sent_at, m.updated_at) as at from public.messages m
               where m.business_id = p_business.id and m.to_phone = p_lead.phone and m.direction = 'outbound'
                 and private.is_limited_lead_text(m.kind) and m.status in ('sending', 'sent', 'delivered', 'undelivered')
                 and (p_message_id is null or m.id <> p_message_id)
                 and coalesce(m.sent_at, m.updated_at) > t - interval '24 hours'
               order by coalesce(m.sent_at, m.updated_at) desc
               limit rules.max_texts_per_24h) x
       having count(*) >= rules.max_texts_per_24h;
      if limit_until > t then
        t := limit_until;
        moved := true;
        reason := 'state_limit';
      end if;
    end if;
    exit when not moved or pass = 6;
  end loop;
  send_at := t;
  return next;
end
$$;
comment on function private.next_lead_send_time(public.businesses, public.leads, timestamptz, uuid) is 'When a conversation text to this lead may go out (at or after p_at) and why it waits: quiet_hours (outside the window in one of the lead''s zones) or state_limit (FL/OK/MD 3 per 24 h); null reason when it may go at once.';
revoke execute on function private.next_lead_send_time(public.businesses, public.leads, timestamptz, uuid) from public;
