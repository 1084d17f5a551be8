// Twilio's list envelope (2010 API): one page of `key` plus page, page_size, start, end and the
// first/next/previous page URIs the official clients follow, with the list's filters kept in them.
import { TwilioApiError } from "./model.ts";

export interface PageOptions<T> {
  /** The property the items go under: "messages", "incoming_phone_numbers", ... */
  key: string;
  /** Path of the list, e.g. /2010-04-01/Accounts/AC../Messages.json */
  basePath: string;
  query: URLSearchParams;
  /** Query parameters that filter the list and stay in every page URI. */
  filterKeys: readonly string[];
  /** Every matching item, in the order Twilio lists them. */
  items: T[];
  /** Identifies an item for the PageToken (Twilio's PA<sid of the last item of the previous page>). */
  idOf: (item: T) => string;
  /** Lists Twilio answers in one page only (AvailablePhoneNumbers): no next page, whatever is left. */
  singlePage?: boolean;
  /** Largest PageSize accepted (Twilio: 1000). */
  maxPageSize?: number;
}

function positiveInt(value: string | null, name: string, fallback: number): number {
  if (value === null || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new TwilioApiError(20001, `Invalid ${name}: ${value}`);
  return n;
}

export function listPage<T, R>(options: PageOptions<T>, toResource: (item: T) => R): Record<string, unknown> {
  const q = options.query;
  const pageSize = Math.min(options.maxPageSize ?? 1000, Math.max(1, positiveInt(q.get("PageSize"), "PageSize", 50)));
  const page = options.singlePage ? 0 : positiveInt(q.get("Page"), "Page", 0);
  const all = options.items;
  const slice = all.slice(page * pageSize, (page + 1) * pageSize);
  const pageUri = (n: number) => {
    const params = new URLSearchParams();
    for (const key of options.filterKeys) {
      const value = q.get(key);
      if (value) params.set(key, value);
    }
    params.set("PageSize", String(pageSize));
    params.set("Page", String(n));
    const previous = n > 0 ? all[n * pageSize - 1] : undefined;
    if (previous !== undefined) params.set("PageToken", `PA${options.idOf(previous)}`);
    return `${options.basePath}?${params.toString()}`;
  };
  const hasNext = !options.singlePage && (page + 1) * pageSize < all.length;
  return {
    end: page * pageSize + Math.max(0, slice.length - 1),
    first_page_uri: pageUri(0),
    [options.key]: slice.map(toResource),
    next_page_uri: hasNext ? pageUri(page + 1) : null,
    page,
    page_size: pageSize,
    previous_page_uri: page > 0 ? pageUri(page - 1) : null,
    start: page * pageSize,
    uri: pageUri(page),
  };
}
