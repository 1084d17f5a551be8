// Twilio's number resources as the official client calls them: AvailablePhoneNumbers (search what the
// account could buy, numbers-catalog.ts) and IncomingPhoneNumbers (the numbers it owns: list, fetch,
// buy, update the messaging webhooks, release). A bought number exists at once for sending (From)
// and for inbound texts, exactly like a number given to the account with POST /emulator/numbers.
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody, sendJson } from "./http.ts";
import { API_VERSION, e164, rfc2822, sid, TwilioApiError, type HttpMethod, type TwilioNumber } from "./model.ts";
import { areaCodes, catalogEntry, containsPattern, searchAvailable, type AvailableNumber, type NumberType, type SearchFilters } from "./numbers-catalog.ts";
import { listPage } from "./paging.ts";
import type { EmulatorStore } from "./store.ts";

const countries: Record<string, string> = { US: "United States", CA: "Canada" };
const typePaths: Record<string, { type: NumberType; key: string }> = {
  "Local.json": { type: "Local", key: "local" },
  "TollFree.json": { type: "TollFree", key: "toll_free" },
};

function notFound(path: string): TwilioApiError {
  return new TwilioApiError(20404, `The requested resource ${path} was not found`);
}

function accountPath(store: EmulatorStore, rest: string): string {
  return `/${API_VERSION}/Accounts/${store.accountSid}${rest}`;
}

// ------------------------------------------------------------------ AvailablePhoneNumbers

function countryResource(store: EmulatorStore, code: string) {
  const base = accountPath(store, `/AvailablePhoneNumbers/${code}`);
  return {
    country_code: code,
    country: countries[code],
    uri: `${base}.json`,
    beta: false,
    subresource_uris: Object.fromEntries(Object.entries(typePaths).map(([file, { key }]) => [key, `${base}/${file}`])),
  };
}

function availableResource(n: AvailableNumber) {
  const coordinate = (value: number | undefined) => (value === undefined ? null : value.toFixed(6));
  return {
    address_requirements: "none",
    beta: false,
    capabilities: n.capabilities,
    friendly_name: n.friendlyName,
    iso_country: n.country,
    lata: n.area?.lata || null,
    latitude: coordinate(n.area?.latitude),
    locality: n.area?.locality ?? null,
    longitude: coordinate(n.area?.longitude),
    phone_number: n.phoneNumber,
    postal_code: n.area?.postalCode ?? null,
    rate_center: n.area?.rateCenter ?? null,
    region: n.area?.region ?? null,
  };
}

function booleanParam(q: URLSearchParams, name: string): boolean | undefined {
  const value = q.get(name);
  if (value === null || value === "") return undefined;
  if (/^true$/i.test(value)) return true;
  if (/^false$/i.test(value)) return false;
  throw new TwilioApiError(20001, `Invalid ${name}: must be true or false`);
}

function searchRoute(store: EmulatorStore, res: ServerResponse, url: URL, country: string, type: NumberType): void {
  const q = url.searchParams;
  const areaCode = q.get("AreaCode") || undefined;
  if (areaCode !== undefined && !/^\d{3}$/.test(areaCode)) throw new TwilioApiError(21451, `AreaCode is invalid: ${areaCode}`);
  const containsValue = q.get("Contains") || undefined;
  const contains = containsValue === undefined ? undefined : containsPattern(containsValue);
  if (contains === null) throw new TwilioApiError(20001, `Invalid Pattern Provided: ${containsValue}`);
  const filters: SearchFilters = {
    type, country, areaCode, contains,
    inRegion: q.get("InRegion") || undefined,
    inLocality: q.get("InLocality") || undefined,
    inPostalCode: q.get("InPostalCode") || undefined,
    smsEnabled: booleanParam(q, "SmsEnabled"),
    mmsEnabled: booleanParam(q, "MmsEnabled"),
    voiceEnabled: booleanParam(q, "VoiceEnabled"),
    faxEnabled: booleanParam(q, "FaxEnabled"),
  };
  const pageSize = Math.min(1000, Math.max(1, Number(q.get("PageSize") ?? 50) || 50));
  const items = searchAvailable(filters, (phone) => store.numbers.has(phone), pageSize);
  sendJson(res, 200, listPage({
    key: "available_phone_numbers",
    basePath: accountPath(store, `/AvailablePhoneNumbers/${country}/${type}.json`),
    query: q,
    filterKeys: ["AreaCode", "Contains", "InRegion", "InLocality", "InPostalCode", "SmsEnabled", "MmsEnabled", "VoiceEnabled", "FaxEnabled"],
    items,
    idOf: (n) => n.phoneNumber,
    singlePage: true,
  }, availableResource));
}

// ------------------------------------------------------------------ IncomingPhoneNumbers

export function incomingNumberResource(store: EmulatorStore, n: TwilioNumber) {
  const uri = accountPath(store, `/IncomingPhoneNumbers/${n.sid}.json`);
  return {
    account_sid: store.accountSid,
    address_requirements: "none",
    address_sid: null,
    api_version: API_VERSION,
    beta: false,
    bundle_sid: null,
    capabilities: n.capabilities,
    date_created: rfc2822(new Date(n.dateCreated)),
    date_updated: rfc2822(new Date(n.dateUpdated)),
    emergency_address_sid: null,
    emergency_address_status: "unregistered",
    emergency_status: "Inactive",
    friendly_name: n.friendlyName,
    identity_sid: null,
    origin: n.origin,
    phone_number: n.phoneNumber,
    sid: n.sid,
    sms_application_sid: "",
    sms_fallback_method: n.smsFallbackMethod,
    sms_fallback_url: n.smsFallbackUrl ?? "",
    sms_method: n.smsMethod,
    sms_url: n.smsUrl ?? "",
    status: "in-use",
    status_callback: n.statusCallback ?? "",
    status_callback_method: n.statusCallbackMethod,
    subresource_uris: { assigned_add_ons: uri.replace(/\.json$/, "/AssignedAddOns.json") },
    trunk_sid: null,
    type: catalogEntry(n.phoneNumber)?.type === "TollFree" ? "toll-free" : "local",
    uri,
    voice_application_sid: "",
    voice_caller_id_lookup: false,
    voice_fallback_method: "POST",
    voice_fallback_url: "",
    voice_method: n.voiceMethod,
    voice_receive_mode: "voice",
    voice_url: n.voiceUrl ?? "",
  };
}

/** A new number record with Twilio's defaults (POST methods, no webhooks). */
export function newNumberRecord(phoneNumber: string, origin: TwilioNumber["origin"]): TwilioNumber {
  const now = new Date().toISOString();
  const catalog = catalogEntry(phoneNumber);
  return {
    sid: sid("PN"), phoneNumber, friendlyName: catalog?.friendlyName ?? phoneNumber, origin,
    capabilities: catalog
      ? { voice: catalog.capabilities.voice, sms: catalog.capabilities.SMS, mms: catalog.capabilities.MMS, fax: false }
      : { voice: true, sms: true, mms: true, fax: false },
    smsUrl: null, smsMethod: "POST", smsFallbackUrl: null, smsFallbackMethod: "POST",
    statusCallback: null, statusCallbackMethod: "POST", voiceUrl: null, voiceMethod: "POST",
    advancedOptOut: false, messagingServiceSid: null, dateCreated: now, dateUpdated: now,
  };
}

const urlFields = [["SmsUrl", "smsUrl"], ["SmsFallbackUrl", "smsFallbackUrl"], ["StatusCallback", "statusCallback"], ["VoiceUrl", "voiceUrl"]] as const;
const methodFields = [["SmsMethod", "smsMethod"], ["SmsFallbackMethod", "smsFallbackMethod"], ["StatusCallbackMethod", "statusCallbackMethod"], ["VoiceMethod", "voiceMethod"]] as const;

/** Applies the writable fields of a create/update form to a number, validating like Twilio. */
function applySettings(n: TwilioNumber, form: URLSearchParams): void {
  const next = { ...n };
  for (const [field, key] of urlFields) {
    const value = form.get(field);
    if (value === null) continue;
    if (value !== "" && !/^https?:\/\/[^\s]+$/i.test(value)) throw new TwilioApiError(21502, `${field} is not a valid URL: ${value}`);
    next[key] = value || null;
  }
  for (const [field, key] of methodFields) {
    const value = form.get(field);
    if (value === null || value === "") continue;
    const method = value.toUpperCase();
    if (method !== "GET" && method !== "POST") throw new TwilioApiError(20001, `${field} must be GET or POST, got ${value}`);
    next[key] = method as HttpMethod;
  }
  const friendlyName = form.get("FriendlyName");
  if (friendlyName !== null) {
    if (friendlyName.length > 64) throw new TwilioApiError(20001, "FriendlyName must be at most 64 characters");
    next.friendlyName = friendlyName || n.phoneNumber;
  }
  if (next.smsFallbackUrl && !next.smsUrl) throw new TwilioApiError(21406);
  Object.assign(n, next);
}

function buyRoute(store: EmulatorStore, res: ServerResponse, form: URLSearchParams, type: NumberType | null): void {
  const wanted = form.get("PhoneNumber")?.trim();
  const areaCode = form.get("AreaCode")?.trim();
  let phoneNumber: string;
  if (wanted) {
    if (!e164.test(wanted)) throw new TwilioApiError(21421, `PhoneNumber is invalid: ${wanted}`);
    const entry = catalogEntry(wanted);
    if (!entry || store.numbers.has(wanted) || (type && entry.type !== type)) {
      throw new TwilioApiError(21422, `PhoneNumber ${wanted} is not available`);
    }
    phoneNumber = wanted;
  } else if (areaCode) {
    if (!/^\d{3}$/.test(areaCode)) throw new TwilioApiError(21451, `AreaCode is invalid: ${areaCode}`);
    const country = areaCodes.find((info) => info.areaCode === areaCode)?.country ?? "US";
    const [first] = searchAvailable({ type: "Local", country, areaCode }, (phone) => store.numbers.has(phone), 1);
    if (!first) throw new TwilioApiError(21452, `No phone numbers found in area code ${areaCode}`);
    phoneNumber = first.phoneNumber;
  } else {
    throw new TwilioApiError(21421, "A PhoneNumber or an AreaCode is required");
  }
  const n = newNumberRecord(phoneNumber, "twilio");
  applySettings(n, form);
  store.putNumber(n);
  sendJson(res, 201, incomingNumberResource(store, n));
}

/** Twilio's PhoneNumber filter: digits of the number, `*` standing for any one digit, matched anywhere. */
function phoneNumberFilter(value: string): (phone: string) => boolean {
  const source = value.replace(/[^\d*]/g, "").replace(/\*/g, "\\d");
  const pattern = new RegExp(source);
  return (phone) => pattern.test(phone.replace(/\D/g, ""));
}

function listRoute(store: EmulatorStore, res: ServerResponse, url: URL, type: NumberType | null): void {
  const q = url.searchParams;
  const filters: ((n: TwilioNumber) => boolean)[] = [];
  const phone = q.get("PhoneNumber");
  if (phone) {
    const matches = phoneNumberFilter(phone);
    filters.push((n) => matches(n.phoneNumber));
  }
  const friendlyName = q.get("FriendlyName");
  if (friendlyName) filters.push((n) => n.friendlyName === friendlyName);
  const origin = q.get("Origin");
  if (origin) filters.push((n) => n.origin === origin);
  if (type) filters.push((n) => (catalogEntry(n.phoneNumber)?.type ?? "Local") === type);
  const items = [...store.numbers.values()].filter((n) => filters.every((f) => f(n)));
  sendJson(res, 200, listPage({
    key: "incoming_phone_numbers",
    basePath: accountPath(store, type ? `/IncomingPhoneNumbers/${type}.json` : "/IncomingPhoneNumbers.json"),
    query: q,
    filterKeys: ["PhoneNumber", "FriendlyName", "Origin", "Beta"],
    items,
    idOf: (n) => n.sid,
  }, (n) => incomingNumberResource(store, n)));
}

export async function handleNumbersApi(store: EmulatorStore, req: IncomingMessage, res: ServerResponse, url: URL, rest: string): Promise<void> {
  const method = req.method ?? "GET";
  const path = url.pathname;

  if (rest === "/AvailablePhoneNumbers.json" && method === "GET") {
    return sendJson(res, 200, { countries: Object.keys(countries).map((code) => countryResource(store, code)), uri: path });
  }
  const country = /^\/AvailablePhoneNumbers\/([A-Z]{2})\.json$/.exec(rest);
  if (country && method === "GET") {
    if (!countries[country[1]]) throw notFound(path);
    return sendJson(res, 200, countryResource(store, country[1]));
  }
  const search = /^\/AvailablePhoneNumbers\/([A-Z]{2})\/(\w+\.json)$/.exec(rest);
  if (search && method === "GET") {
    const kind = typePaths[search[2]];
    if (!countries[search[1]] || !kind) throw notFound(path);
    return searchRoute(store, res, url, search[1], kind.type);
  }

  const list = /^\/IncomingPhoneNumbers(?:\/(Local|TollFree))?\.json$/.exec(rest);
  if (list && method === "GET") return listRoute(store, res, url, (list[1] as NumberType | undefined) ?? null);
  if (list && method === "POST") return buyRoute(store, res, new URLSearchParams(await readBody(req)), (list[1] as NumberType | undefined) ?? null);

  const one = /^\/IncomingPhoneNumbers\/(PN[0-9a-f]{32})\.json$/.exec(rest);
  if (one) {
    const n = [...store.numbers.values()].find((x) => x.sid === one[1]);
    if (!n) throw notFound(path);
    if (method === "GET") return sendJson(res, 200, incomingNumberResource(store, n));
    if (method === "POST") {
      applySettings(n, new URLSearchParams(await readBody(req)));
      n.dateUpdated = new Date().toISOString();
      store.putNumber(n);
      return sendJson(res, 200, incomingNumberResource(store, n));
    }
    if (method === "DELETE") {
      store.releaseNumber(n);
      res.writeHead(204);
      return void res.end();
    }
  }
  throw notFound(path);
}
