// Reads supabase/config.toml: the `[functions.<name>]` tables (docs/supabase-standin-spec.md §5.2) and, for the REST
// gateway, any other table. Only the subset of TOML that file uses is understood: table headers, `key = value` with
// strings, booleans, numbers and string arrays.
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

export type TomlValue = string | number | boolean | string[];

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

/**
 * Every table of a TOML file as `table name -> key -> value` (keys of the top level under ""); an absent
 * file has no tables. Shared by the functions router ([functions.*]) and the REST gateway ([api]).
 */
export function readTomlTables(configPath: string): Map<string, Map<string, TomlValue>> {
  let text: string;
  try {
    text = readFileSync(configPath, "utf8");
  } catch {
    return new Map();
  }
  const tables = new Map<string, Map<string, TomlValue>>([["", new Map()]]);
  let current = tables.get("")!;
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = stripComment(rawLine).trim();
    if (line === "") return;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      const name = header[1].replace(/"([^"]+)"/g, "$1");
      current = tables.get(name) ?? new Map();
      tables.set(name, current);
      return;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) return;
    current.set(line.slice(0, eq).trim(), parseValue(line.slice(eq + 1), `${configPath}:${index + 1}`));
  });
  return tables;
}

/** Settings per function name, from `[functions.<name>]` tables; paths resolve relative to the file's folder. */
export function readFunctionsConfig(configPath: string): Map<string, FunctionSettings> {
  const base = dirname(configPath);
  const result = new Map<string, FunctionSettings>();
  for (const [table, values] of readTomlTables(configPath)) {
    const m = /^functions\.(.+)$/.exec(table);
    if (!m) continue;
    const settings: FunctionSettings = { verifyJwt: true, enabled: true };
    const value = (k: string) => values.get(k);
    if (typeof value("verify_jwt") === "boolean") settings.verifyJwt = value("verify_jwt") as boolean;
    if (typeof value("enabled") === "boolean") settings.enabled = value("enabled") as boolean;
    if (typeof value("entrypoint") === "string") settings.entrypoint = resolve(base, value("entrypoint") as string);
    if (typeof value("import_map") === "string") settings.importMap = resolve(base, value("import_map") as string);
    result.set(m[1], settings);
  }
  return result;
}
