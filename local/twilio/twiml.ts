// Just enough of a TwiML reader for messaging webhooks: <Response> with <Message> verbs.
// Twilio ignores an empty 200 and treats a non-XML 200 body as "no reply" (plus a debugger warning).

export interface TwimlMessage {
  body: string;
  to?: string;
  from?: string;
  statusCallback?: string;
}

export interface TwimlParseResult {
  messages: TwimlMessage[];
  /** Set when the body was not usable TwiML; Twilio records error 12100 in that case. */
  warning?: string;
  errorCode?: number;
}

function decodeEntities(text: string): string {
  return text
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, cdata: string) => cdata)
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

function attributes(raw: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of raw.matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    attrs[m[1]] = decodeEntities(m[3] ?? m[4] ?? "");
  }
  return attrs;
}

export function parseMessagingTwiml(xml: string): TwimlParseResult {
  const text = xml.trim();
  if (text === "") return { messages: [] };
  const withoutProlog = text.replace(/^<\?xml[^>]*\?>\s*/, "").replace(/<!--[\s\S]*?-->/g, "");
  const response = /^<Response\s*(\/>|>([\s\S]*)<\/Response>)$/.exec(withoutProlog.trim());
  if (!response) return { messages: [], errorCode: 12100, warning: "12100 Document parse failure: the reply is not a <Response> TwiML document" };
  const inner = response[2] ?? "";
  const messages: TwimlMessage[] = [];
  for (const m of inner.matchAll(/<Message\b([^>]*?)(\/>|>([\s\S]*?)<\/Message>)/g)) {
    const attrs = attributes(m[1]);
    const content = m[3] ?? "";
    const bodyElement = /<Body>([\s\S]*?)<\/Body>/.exec(content);
    const body = decodeEntities(bodyElement ? bodyElement[1] : content.replace(/<Media>[\s\S]*?<\/Media>/g, ""));
    messages.push({ body, to: attrs.to, from: attrs.from, statusCallback: attrs.statusCallback });
  }
  return { messages };
}
