-- Reports: what happened to a business's leads in a period, for its members. One function computes
-- every number from one set of per-lead facts with GROUPING SETS, so the totals, the per-day series
-- (days in the business's time zone) and the per-source rows cannot disagree about a definition.

create or replace function public.lead_stats(p_business_id uuid, p_from timestamptz, p_to timestamptz)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  business public.businesses;
  result jsonb;
begin
  perform private.require_member(p_business_id);
  if p_from is null or p_to is null or p_to <= p_from then
    raise exception 'p_from must be before p_to' using errcode = '22023';
  end if;
  if p_to - p_from > interval '400 days' then
    raise exception 'a report covers at most 400 days' using errcode = '22023';
  end if;
  select * into business from public.businesses b where b.id = p_business_id;

  with alerts as (
    -- A text about a lead is never older than the lead, so the period's lower bound limits the scan.
    select m.lead_id, min(m.delivered_at) as delivered_at from public.messages m
     where m.business_id = p_business_id and m.kind = 'owner_alert' and m.delivered_at is not null and m.created_at >= p_from
     group by m.lead_id
  ), texted as (
    select distinct m.lead_id from public.messages m
     where m.business_id = p_business_id and m.kind = 'text_back' and m.sent_at is not null and m.created_at >= p_from
  ), facts as (
    -- One row per lead of the period (duplicates are counted apart: they alert nobody).
    select (l.created_at at time zone business.timezone)::date as day,
           l.widget_id,
           nullif(split_part(split_part(l.source_url, '#', 1), '?', 1), '') as source_page,
           t.lead_id is not null as texted,
           coalesce(c.turn_count > 0, false) as replied,
           coalesce(c.status = 'completed', false) as completed,
           coalesce(c.status = 'opted_out', false) as opted_out,
           extract(epoch from (a.delivered_at - l.created_at))::float8 as alert_seconds
      from public.leads l
      left join public.conversations c on c.lead_id = l.id
      left join texted t on t.lead_id = l.id
      left join alerts a on a.lead_id = l.id
     where l.business_id = p_business_id and l.created_at >= p_from and l.created_at < p_to and not l.is_duplicate
  ), grouped as (
    select grouping(f.day) = 0 as by_day, grouping(f.widget_id, f.source_page) = 0 as by_source,
           f.day, f.widget_id, f.source_page,
           jsonb_build_object(
             'leads', count(*),
             'texted', count(*) filter (where f.texted),
             'replied', count(*) filter (where f.replied),
             'completed', count(*) filter (where f.completed),
             'opted_out', count(*) filter (where f.opted_out),
             'reply_rate', round(count(*) filter (where f.replied)::numeric / nullif(count(*) filter (where f.texted), 0), 4),
             'alerts_delivered', count(f.alert_seconds),
             'alert_median_seconds', round(percentile_cont(0.5) within group (order by f.alert_seconds)::numeric, 1),
             'alert_p90_seconds', round(percentile_cont(0.9) within group (order by f.alert_seconds)::numeric, 1)) as numbers
      from facts f
     group by grouping sets ((), (f.day), (f.widget_id, f.source_page))
  ), empty as (
    select jsonb_build_object('leads', 0, 'texted', 0, 'replied', 0, 'completed', 0, 'opted_out', 0, 'reply_rate', null,
                              'alerts_delivered', 0, 'alert_median_seconds', null, 'alert_p90_seconds', null) as numbers
  )
  select jsonb_build_object(
           'business_id', business.id,
           'from', p_from,
           'to', p_to,
           'timezone', business.timezone,
           'duplicates', (select count(*) from public.leads l
                           where l.business_id = p_business_id and l.created_at >= p_from and l.created_at < p_to and l.is_duplicate))
      || coalesce((select g.numbers from grouped g where not g.by_day and not g.by_source), (select e.numbers from empty e))
      || jsonb_build_object(
           'days', (select jsonb_agg(jsonb_build_object('day', d.day::date) || coalesce(g.numbers, e.numbers) order by d.day)
                      from generate_series((p_from at time zone business.timezone)::date,
                                           ((p_to - interval '1 microsecond') at time zone business.timezone)::date,
                                           interval '1 day') as d(day)
                      cross join empty e
                      left join grouped g on g.by_day and g.day = d.day::date),
           'sources', coalesce((select jsonb_agg(jsonb_build_object('widget_id', g.widget_id, 'widget_name', w.name, 'source_page', g.source_page)
                                                 || g.numbers order by (g.numbers ->> 'leads')::int desc, w.name, g.source_page)
                                  from grouped g left join public.widgets w on w.id = g.widget_id
                                 where g.by_source), '[]'::jsonb))
    into result;
  return result;
end
$$;
comment on function public.lead_stats(uuid, timestamptz, timestamptz) is
  'Reports for members (42501 otherwise): leads in [p_from, p_to) (duplicates apart), texted (text-back sent), replied (answered at least once), completed, opted_out, reply_rate (replied / texted), median and p90 seconds from the form to the owner alert delivered; the same per day in the business''s time zone (days) and per widget and source page (sources).';
revoke execute on function public.lead_stats(uuid, timestamptz, timestamptz) from public, anon;
grant execute on function public.lead_stats(uuid, timestamptz, timestamptz) to authenticated;
