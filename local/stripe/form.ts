// Stripe's request encoding: application/x-www-form-urlencoded with bracket notation
// (`metadata[plan]=pro`, `line_items[0][price]=price_1`, `expand[]=customer`), the same in query
// strings. Parsed into plain nested values; readers below turn them into typed params with
// Stripe's own error texts, naming the parameter the way Stripe does (`line_items[0][price]`).
import { invalidParam, missingParam, StripeApiError } from "./errors.ts";

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

const maxDepth = 8;
const maxPairs = 2000;
const forbiddenKeys = new Set(["__proto__", "constructor", "prototype"]);

/** Parses a form body or query string into nested objects and arrays. */
export function parseForm(text: string): FormObject {
  const root: FormObject = Object.create(null);
  const params = new URLSearchParams(text);
  let pairs = 0;
  for (const [rawKey, value] of params) {
    if (++pairs > maxPairs) throw invalidParam("", `Too many parameters (more than ${maxPairs}).`);
    const path = splitKey(rawKey);
    let node: Record<string, FormValue> = root;
    for (let i = 0; i < path.length; i++) {
      let key = path[i];
      const last = i === path.length - 1;
      if (key === "") key = String(Object.keys(node).length); // `expand[]=a&expand[]=b`
      if (forbiddenKeys.has(key)) throw invalidParam(rawKey, `Invalid parameter name: ${rawKey}`);
      if (last) {
        if (typeof node[key] === "object") throw invalidParam(rawKey, `Invalid value for ${rawKey}: it is also used as a hash.`);
        node[key] = value;
      } else {
        const next = node[key];
        if (typeof next === "string") throw invalidParam(rawKey, `Invalid hash for ${path.slice(0, i + 1).join("][")}: it also has a plain value.`);
        node[key] ??= Object.create(null) as FormObject;
        node = node[key] as Record<string, FormValue>;
      }
    }
  }
  return toArrays(root) as FormObject;
}

function splitKey(key: string): string[] {
  const open = key.indexOf("[");
  if (open < 0) return [key];
  const parts = [key.slice(0, open)];
  const rest = key.slice(open);
  const re = /\[([^\[\]]*)\]/g;
  let consumed = 0;
  for (const match of rest.matchAll(re)) {
    if (match.index !== consumed) break;
    parts.push(match[1]);
    consumed += match[0].length;
  }
  if (consumed !== rest.length || parts[0] === "") throw invalidParam(key, `Invalid parameter name: ${key}`);
  if (parts.length > maxDepth) throw invalidParam(key, `Parameter ${key} is nested too deeply.`);
  return parts;
}

/** Objects whose keys are all 0..n-1 become arrays (qs's indexed array format). */
function toArrays(value: FormValue): FormValue {
  if (typeof value === "string" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  for (const key of keys) value[key] = toArrays(value[key]);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    const indexes = keys.map(Number).sort((a, b) => a - b);
    if (indexes.every((n, i) => n === i)) return indexes.map((n) => value[String(n)]);
  }
  return Object.assign({}, value);
}

/** Typed reading of one parsed request: every param read is recorded, so leftovers are unknown. */
export class Params {
  private readonly used = new Set<string>();

  constructor(
    readonly raw: FormObject,
    private readonly prefix = "",
  ) {}

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  private take(key: string): FormValue | undefined {
    this.used.add(key);
    return this.raw[key];
  }

  /** Accepts a documented Stripe parameter the emulator does not act on. */
  ignore(...keys: string[]): void {
    for (const key of keys) this.used.add(key);
  }

  string(key: string): string | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw invalidParam(this.name(key), `Invalid string: ${describe(value)}`);
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === "") throw missingParam(this.name(key));
    return value;
  }

  /** A string where "" means "clear it" (null), as Stripe's update endpoints treat it. */
  nullableString(key: string): string | null | undefined {
    const value = this.string(key);
    return value === "" ? null : value;
  }

  integer(key: string, range: { min?: number; max?: number } = {}): number | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw invalidParam(this.name(key), `Invalid integer: ${value}`);
    const n = Number(value);
    if (range.min !== undefined && n < range.min) {
      throw invalidParam(this.name(key), `This value must be greater than or equal to ${range.min}.`);
    }
    if (range.max !== undefined && n > range.max) {
      throw invalidParam(this.name(key), `This value must be less than or equal to ${range.max}.`);
    }
    return n;
  }

  boolean(key: string): boolean | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (value === "true") return true;
    if (value === "false") return false;
    throw invalidParam(this.name(key), `Invalid boolean: ${value}`);
  }

  enumeration<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw invalidParam(this.name(key), `Invalid ${this.name(key)}: must be one of ${allowed.join(", ")}`);
    }
    return value as T;
  }

  object(key: string): Params | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw invalidParam(this.name(key), `Invalid object`);
    return new Params(value, this.name(key));
  }

  /** Arrays of hashes (`line_items[0][price]`). */
  objects(key: string): Params[] | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw invalidParam(this.name(key), `Invalid array`);
    return value.map((item, i) => {
      if (typeof item !== "object" || Array.isArray(item)) throw invalidParam(`${this.name(key)}[${i}]`, `Invalid object`);
      return new Params(item, `${this.name(key)}[${i}]`);
    });
  }

  strings(key: string): string[] | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    const list = Array.isArray(value) ? value : typeof value === "string" ? [value] : undefined;
    if (!list || !list.every((v): v is string => typeof v === "string")) throw invalidParam(this.name(key), `Invalid array`);
    return list;
  }

  /**
   * `metadata`: up to 50 keys, key <= 40 chars, value <= 500 chars; `metadata[key]=` removes a key
   * and `metadata=` removes all, exactly as Stripe merges it into the existing hash.
   */
  metadata(key = "metadata", current: Record<string, string> = {}): Record<string, string> | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (value === "") return {};
    if (typeof value !== "object" || Array.isArray(value)) throw invalidParam(this.name(key), "Invalid object");
    const next = { ...current };
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") throw invalidParam(`${this.name(key)}[${k}]`, "Metadata values must be strings.");
      if (k.length > 40) throw invalidParam(`${this.name(key)}[${k}]`, "Metadata keys can be at most 40 characters long.");
      if (v.length > 500) throw invalidParam(`${this.name(key)}[${k}]`, "Metadata values can have up to 500 characters.");
      if (v === "") delete next[k];
      else next[k] = v;
    }
    if (Object.keys(next).length > 50) throw invalidParam(this.name(key), "You can have at most 50 metadata keys.");
    return next;
  }

  /** A real Stripe parameter whose behaviour the emulator does not reproduce: refused, never faked. */
  unsupported(...keys: string[]): void {
    for (const key of keys) {
      if (this.has(key)) {
        throw invalidParam(this.name(key), `The Stripe emulator does not support ${this.name(key)} (see local/stripe/README.md).`, "parameter_unsupported");
      }
    }
  }

  /** Stripe answers 400 parameter_unknown for anything it does not know. */
  rejectUnknown(): void {
    for (const key of Object.keys(this.raw)) {
      if (!this.used.has(key)) {
        throw new StripeApiError(400, {
          type: "invalid_request_error",
          code: "parameter_unknown",
          param: this.name(key),
          message: `Received unknown parameter: ${this.name(key)}`,
        });
      }
    }
  }
}

function describe(value: FormValue): string {
  return Array.isArray(value) ? "array" : typeof value === "object" ? "object" : JSON.stringify(value);
}
