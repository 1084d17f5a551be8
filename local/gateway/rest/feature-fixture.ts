// The schema of the conformance tests for PostgREST's later features (computed relationships, self
// references, spreads, aggregates, counts, plans, table and composite-type functions, variadic functions), under a per-file
// suffix like test-fixture.ts.
import { startGatewayFixture, type GatewayFixture } from "../test-support.ts";

export interface FeatureFixture {
  f: GatewayFixture;
  /** The suffixed name of one of the fixture's tables or functions. */
  T: (name: string) => string;
}

const schema = (s: string) => `
create table public.customers_${s} (id bigint primary key, name text not null, city text not null);
create table public.orders_${s} (
  id bigint primary key, customer_id bigint not null references public.customers_${s}(id),
  amount numeric not null, quantity int not null, order_date date not null, details jsonb not null default '{}'
);
insert into public.customers_${s} values (1, 'Ada', 'London'), (2, 'Brian', 'Boston'), (3, 'Cleo', 'London');
insert into public.orders_${s} values
  (1, 1, 10.5, 1, '2025-01-01', '{"tax": 1.5}'), (2, 1, 20, 2, '2025-01-01', '{"tax": 2}'),
  (3, 2, 30, 3, '2025-01-02', '{"tax": 3}'), (4, 1, 40, 4, '2025-01-02', '{"tax": 4}');

create table public.employees_${s} (id int primary key, name text not null, manager_id int references public.employees_${s}(id));
insert into public.employees_${s} values (1, 'Grace', null), (2, 'Linus', 1), (3, 'Ken', 1), (4, 'Dennis', 3);

-- No foreign key between them: computed relationships relate premieres and films.
create table public.films_${s} (id int primary key, name text not null);
create table public.premieres_${s} (id int primary key, location text not null, film_id int);
insert into public.films_${s} values (1, 'Metropolis'), (2, 'Nosferatu');
insert into public.premieres_${s} values (1, 'Berlin', 1), (2, 'Paris', 1), (3, 'Vienna', 2), (4, 'Nowhere', 99);
create function public.film_${s}(public.premieres_${s}) returns setof public.films_${s} rows 1 stable language sql
  as $$ select * from public.films_${s} where id = $1.film_id $$;
create function public.premieres_${s}(public.films_${s}) returns setof public.premieres_${s} stable language sql
  as $$ select * from public.premieres_${s} where film_id = $1.id $$;

-- A foreign key whose detected relationship a computed one of the same name replaces.
create table public.venues_${s} (id int primary key, name text not null, open boolean not null);
create table public.shows_${s} (id int primary key, title text not null, venue_id int not null references public.venues_${s}(id));
insert into public.venues_${s} values (1, 'Odeon', true), (2, 'Roxy', false);
insert into public.shows_${s} values (1, 'Matinee', 1), (2, 'Late show', 2);
create function public.venues_${s}(public.shows_${s}) returns setof public.venues_${s} rows 1 stable language sql
  as $$ select * from public.venues_${s} where id = $1.venue_id and open $$;

create table public.big_${s} (id int primary key);
insert into public.big_${s} select generate_series(1, 1500);
analyze public.customers_${s}, public.orders_${s}, public.big_${s};

create function public.orders_of_${s}(customer bigint) returns setof public.orders_${s} stable language sql
  as $$ select * from public.orders_${s} where customer_id = customer $$;
create function public.totals_${s}() returns table (customer_id bigint, total numeric, orders bigint) stable language sql
  as $$ select customer_id, sum(amount), count(*) from public.orders_${s} group by customer_id $$;
create type public.order_line_${s} as (order_id bigint, customer text, amount numeric);
create function public.order_lines_${s}() returns setof public.order_line_${s} stable language sql
  as $$ select o.id, c.name, o.amount from public.orders_${s} o join public.customers_${s} c on c.id = o.customer_id $$;
create function public.sum_all_${s}(variadic v int[]) returns int immutable language sql
  as $$ select coalesce(sum(x), 0)::int from unnest(v) as x $$;
create function public.tag_all_${s}(prefix text, variadic tags text[]) returns text[] immutable language sql
  as $$ select array_agg(prefix || t) from unnest(tags) as t $$;
`;

export async function startFeatureFixture(): Promise<FeatureFixture> {
  const f = await startGatewayFixture(schema);
  return { f, T: (name) => `${name}_${f.suffix}` };
}

export async function stopFeatureFixture({ f }: FeatureFixture): Promise<void> {
  const s = f.suffix;
  await f.sql(`drop table if exists public.orders_${s}, public.customers_${s}, public.employees_${s}, public.premieres_${s},
      public.films_${s}, public.shows_${s}, public.venues_${s}, public.big_${s} cascade;
    drop function if exists public.orders_of_${s}, public.totals_${s}, public.order_lines_${s}, public.sum_all_${s}, public.tag_all_${s};
    drop type if exists public.order_line_${s}`);
  await f.close();
}

/**
 * Sets PostgREST's in-database configuration (`ALTER ROLE authenticator SET pgrst.<name>`), tells the
 * gateway to reload it, and waits until `applied` says it took effect. Pass undefined to reset it.
 */
export async function setInDatabaseConfig(f: GatewayFixture, name: string, value: string | undefined, applied: () => Promise<boolean>): Promise<void> {
  const setting = `pgrst.${name}`;
  await f.sql(value === undefined ? `alter role authenticator reset "${setting}"` : `alter role authenticator set "${setting}" = '${value}'`);
  await f.sql("notify pgrst, 'reload config'");
  const deadline = Date.now() + 5000;
  while (!(await applied())) {
    if (Date.now() > deadline) throw new Error(`${setting} did not take effect`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
