// Reads the `[functions.<name>]` tables of supabase/config.toml (docs/supabase-standin-spec.md §5.2). Only the subset of TOML that
// file uses is understood: table headers, `key = value` with strings, booleans, numbers and string arrays.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

export interface FunctionSettings {
  /** Absolute path of the entrypoint. */
  entrypoint?: string;
  /** Absolute path of the import map / deno.json, when configured. */
  importMap?: string;
  verifyJwt: boolean;
  enabled: boolean;
}

type TomlValue = string | number | boolean | string[];

export class TomlError extends Error {}

function parseValue(raw: string, where: string): TomlValue {
  const text = raw.trim();
  if (text === "true" || text === "false") return text === "true";
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"$/.exec(text);
    if (!m) throw new TomlError(`${where}: unterminated string`);
    return JSON.parse(`"${m[1]}"`) as string;
  }
  if (text.startsWith("'")) {
    const m = /^'([^']*)'$/.exec(text);
    if (!m) throw new TomlError(`${where}: unterminated string`);
    return m[1];
  }
  if (text.startsWith("[")) {
    const inner = text.replace(/^\[|\]$/g, "").trim();
    if (inner === "") return [];
    return inner.split(",").filter((s) => s.trim() !== "").map((s) => String(parseValue(s, where)));
  }
  throw new TomlError(`${where}: unsupported value ${text}`);
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === "\\" && quote === '"') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "#") return line.slice(0, i);
  }
  return line;
}

/** Settings per function name, from `[functions.<name>]` tables; paths resolve relative to the file's folder. */
export function readFunctionsConfig(configPath: string): Map<string, FunctionSettings> {
  let text: string;
  try {
    text = readFileSync(configPath, "utf8");
  } catch {
    return new Map();
  }
  const base = dirname(configPath);
  const result = new Map<string, FunctionSettings>();
  let current: FunctionSettings | undefined;
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = stripComment(rawLine).trim();
    if (line === "") return;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      const m = /^functions\.(?:"([^"]+)"|([A-Za-z0-9_-]+))$/.exec(header[1]);
      if (m) {
        current = { verifyJwt: true, enabled: true };
        result.set(m[1] ?? m[2], current);
      } else {
        current = undefined;
      }
      return;
    }
    if (!current) return;
    const eq = line.indexOf("=");
    if (eq <= 0) return;
    const key = line.slice(0, eq).trim();
    const value = parseValue(line.slice(eq + 1), `${configPath}:${index + 1}`);
    if (key === "verify_jwt" && typeof value === "boolean") current.verifyJwt = value;
    else if (key === "enabled" && typeof value === "boolean") current.enabled = value;
    else if (key === "entrypoint" && typeof value === "string") current.entrypoint = resolve(base, value);
    else if (key === "import_map" && typeof value === "string") current.importMap = resolve(base, value);
  });
  return result;
}
