// A local OpenAI-compatible chat completions server for tests and the local stack, so the
// summarizer's LLM path (and its fallbacks) can be exercised without a real model.
// Modes: ok (valid JSON extraction), down (drops connections), garbage (non-JSON
// content), slow (answers after `slowMs`, longer than the summarizer's timeout).
// The mode can be switched while running: POST /fake/mode {"mode": "down"}.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type LlmFakeMode = "ok" | "down" | "garbage" | "slow";
const modes: readonly LlmFakeMode[] = ["ok", "down", "garbage", "slow"];

export interface LlmFakeOptions {
  port: number;
  mode: LlmFakeMode;
  host?: string;
  /** Delay in slow mode (default 30 s). */
  slowMs?: number;
}

export interface LlmFake {
  url: string;
  close(): Promise<void>;
  setMode(mode: LlmFakeMode): void;
  /** Chat completion requests received so far. */
  requests(): number;
}

interface ChatRequest {
  model?: string;
  messages?: { role: string; content: string }[];
}

/** A deliberately simple extraction, distinct from the built-in one, marked "(llm)". */
function fakeExtraction(request: ChatRequest): Record<string, unknown> {
  const user = [...(request.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "{}";
  let data: { form?: { message?: string | null }; transcript?: { from: string; text: string }[] } = {};
  try {
    data = JSON.parse(user);
  } catch {
    data = {};
  }
  const leadTexts = [data.form?.message ?? "", ...(data.transcript ?? []).filter((t) => t.from === "lead").map((t) => t.text)]
    .filter((t) => t.trim() !== "");
  const all = leadTexts.join(" \n ");
  const need = leadTexts[0]?.split(/[.!?\n]/)[0]?.trim() || null;
  const timing = all.match(/\b(today|tonight|tomorrow(?: morning| afternoon| evening)?|asap|this week|next week|ma[ñn]ana(?: por la (?:mañana|tarde))?|hoy)\b/i)?.[0] ?? null;
  const location = all.match(/\b\d{5}\b/)?.[0] ?? all.match(/\b(?:in|en) ([A-Z][a-z]+(?: [A-Z][a-z]+)?)/)?.[1] ?? null;
  return { need: need ? `(llm) ${need}` : null, timing, timing_start: null, location, constraints: [] };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function completion(model: string, content: string) {
  return {
    id: `chatcmpl-fake-${Date.now()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

export async function startLlmFake(options: LlmFakeOptions): Promise<LlmFake> {
  if (!modes.includes(options.mode)) throw new Error(`unknown LLM fake mode "${options.mode}" (use ${modes.join(", ")})`);
  let mode = options.mode;
  let requestCount = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? "/", "http://fake").pathname;
      if (req.method === "POST" && path === "/fake/mode") {
        const next = JSON.parse((await readBody(req)) || "{}").mode;
        if (!modes.includes(next)) return send(res, 400, { error: `mode must be one of ${modes.join(", ")}` });
        mode = next;
        return send(res, 200, { mode });
      }
      if (req.method === "GET" && path === "/fake/state") return send(res, 200, { mode, requests: requestCount });
      if (req.method === "GET" && (path === "/v1/models" || path === "/models")) {
        return send(res, 200, { object: "list", data: [{ id: "leadloop-fake", object: "model" }] });
      }
      if (req.method !== "POST" || !/\/chat\/completions$/.test(path)) return send(res, 404, { error: { message: "not found" } });
      requestCount++;
      const body = await readBody(req);
      if (mode === "down") {
        req.socket.destroy();
        return;
      }
      let request: ChatRequest;
      try {
        request = JSON.parse(body);
      } catch {
        return send(res, 400, { error: { message: "request body must be JSON" } });
      }
      if (!Array.isArray(request.messages)) return send(res, 400, { error: { message: "messages is required" } });
      const model = request.model ?? "leadloop-fake";
      if (mode === "garbage") return send(res, 200, completion(model, "Sure! The customer seems to want some help soon."));
      const answer = () => send(res, 200, completion(model, JSON.stringify(fakeExtraction(request))));
      if (mode === "slow") {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) answer();
        }, options.slowMs ?? 30_000);
        timers.add(timer);
        return;
      }
      answer();
    } catch (err) {
      send(res, 500, { error: { message: (err as Error).message } });
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}/v1`,
    setMode(next) {
      if (!modes.includes(next)) throw new Error(`unknown LLM fake mode "${next}"`);
      mode = next;
    },
    requests: () => requestCount,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
