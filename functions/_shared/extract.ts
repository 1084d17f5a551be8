// The built-in extractor: reads what a lead wrote (form message and SMS replies) into the
// slots need / timing / location / constraints, with no network. Shared by the
// conversation engine (what to ask next) and the summarizer (what to tell the owner).
import { findLocation, locationFromAnswer, type LocationMatch } from "./location.ts";
import { findTiming, type Span } from "./timing.ts";
import { fold } from "./language.ts";

export type SlotName = "need" | "timing" | "location";
export const slotOrder: readonly SlotName[] = ["need", "timing", "location"];

export interface Slots {
  need: string | null;
  timing: string | null;
  location: string | null;
  constraints: string[];
}

export interface ExtractedSlots extends Slots {
  timing_start: string | null;
}

export type Intent = "call_requested" | "not_interested" | "wrong_number";

export function emptySlots(): ExtractedSlots {
  return { need: null, timing: null, timing_start: null, location: null, constraints: [] };
}

// ---------- intents ----------
// What a reply says beyond the slots. The conversation engine acts only on call_requested: "wrong
// number" and "not interested" are decided by the database's keyword rules (they also put the number on
// the do-not-text list); here they only keep such a message from being read as a job description.

const intentPatterns: [Intent, RegExp][] = [
  [
    "wrong_number",
    /\b(?:wrong (?:number|person|#)|you have the wrong|who is this\b.*\b(?:didn'?t|never)|i (?:didn'?t|did not|never) (?:fill|submit|request|sign up|ask)|n[uú]mero equivocado|se equivoc(?:o|ó|aron) de n[uú]mero|no (?:llen[eé]|ped[ií]) nada|est[aá]n equivocados)\b/iu,
  ],
  [
    "not_interested",
    /\b(?:not interested|no longer (?:need|interested)|don'?t need (?:it|this|help|anything|the service)(?: anymore)?|do not need (?:it|this|help)|already (?:found|hired|got|booked|have) (?:someone|somebody|a |another|it)|never ?mind|cancel (?:my|the|this) request|please cancel|no me interesa|ya no (?:lo |la )?(?:necesito|ocupo|me interesa)|ya (?:encontr[eé]|contrat[eé]|consegu[ií])|no,? gracias|no thanks?(?: you)?[.!]*$)\b/iu,
  ],
  [
    "call_requested",
    /\b(?:(?:just|please|can you|could you|can someone|could someone|rather you|prefer you|pls|plz)\s+(?:just\s+)?(?:call|phone|ring)(?: me| us)?|call me|give me a call|call (?:me )?instead|i'?d (?:rather|prefer) (?:a )?(?:call|phone call|talk)|easier to talk|ll[aá]m(?:e|a)me|ll[aá]m(?:e|a)nos|me pueden llamar|pueden llamarme|prefiero (?:una )?llamada|mejor ll[aá]m(?:e|a)me|mejor me llaman)\b/iu,
  ],
];

export function detectIntent(text: string): Intent | null {
  if (/\b(?:don'?t|do not|no me|please don'?t)\s+call\b/i.test(text)) {
    // "don't call, text me" is a constraint, not a call request; intents below still apply.
    for (const [intent, re] of intentPatterns) if (intent !== "call_requested" && re.test(text)) return intent;
    return null;
  }
  for (const [intent, re] of intentPatterns) if (re.test(text)) return intent;
  return null;
}

// ---------- need ----------

const serviceWords = (
  // plumbing
  "leak leaking leaks leaky drip dripping clog clogged clogs drain drains sink toilet faucet tap shower tub bathtub " +
  "water heater heater pipe pipes burst sewer septic sump disposal garbage backed backing flood flooding " +
  // hvac
  "ac a/c air conditioner conditioning hvac furnace heat heating thermostat duct ducts vent boiler compressor " +
  "cooling blowing warm cold freon refrigerant minisplit mini-split heatpump " +
  // electrical
  "outlet outlets breaker panel wiring wire lights light fixture fan ceiling electrical electrician sparks " +
  "generator charger ev switch switches power tripping flickering " +
  // roofing / exterior
  "roof roofing shingles shingle gutter gutters leak siding chimney skylight hail storm damage fence deck " +
  "driveway concrete patio paint painting painter drywall window windows door doors garage remodel " +
  // landscaping
  "lawn mow mowing yard landscaping landscape tree trees trim trimming hedge hedges mulch sprinkler sprinklers " +
  "irrigation sod weeds leaves stump pruning cleanup " +
  // cleaning
  "cleaning clean cleaner deep move-out move-in carpet carpets maid housekeeping windows pressure washing " +
  // auto
  "brake brakes oil tire tires engine transmission battery alignment car truck vehicle check inspection " +
  "detailing detail smog muffler ac-recharge " +
  // appointments
  "appointment consultation consult lawyer attorney divorce custody will estate injury accident ticket dui " +
  "dentist dental teeth tooth filling crown checkup physical exam therapy massage chiropractor eye " +
  "grooming groom bath nails nail haircut shave puppy dog cat vet vaccination " +
  // generic
  "repair repairs fix fixing install installation installed replace replacement replaced service quote " +
  "estimate broken broke stopped working not working doesn't won't making noise noisy smell " +
  // spanish
  "fuga fugas gotea goteando gotera goteras tubería tuberia baño bano inodoro excusado drenaje tapado tapada " +
  "calentador aire acondicionado calefacción calefaccion techo tejado jardín jardin césped cesped pasto árboles " +
  "arboles podar limpieza limpiar alfombra frenos aceite llanta llantas motor batería bateria cita abogado " +
  "divorcio accidente dentista muela dientes perro perrita perrito gato baño corte uñas pintar pintura " +
  "reparar reparación reparacion arreglar instalar instalación instalacion cambiar presupuesto cotización " +
  "cotizacion enchufe luz luces cableado ventilador cerca puerta ventana lavadora secadora refrigerador " +
  "descompuesto descompuesta funciona sirve consulta asesoría asesoria trámite tramite revisión revision " +
  "mantenimiento servicio lavar cortar boiler plomero electricista jardinero mecánico mecanico"
).split(/\s+/);
const serviceSet = new Set(serviceWords.map(fold));

const needVerbs =
  /\b(?:need|needs|needed|looking for|look for|want|would like|i'?d like|interested in|can you|could you|do you|is (?:broken|leaking|not)|isn'?t|won'?t|stopped|necesito|necesitamos|ocupo|busco|quiero|quisiera|me interesa|tengo|tenemos|se (?:rompi[oó]|descompuso|tap[oó])|no (?:funciona|sirve|prende|enfr[ií]a|calienta))\b/iu;

const greeting =
  /^(?:(?:hi|hello|hey|good (?:morning|afternoon|evening)|hola|buenas(?: tardes| noches)?|buenos d[ií]as|yes|yeah|yep|sure|ok(?:ay)?|s[ií]|claro|thanks|thank you|gracias)(?:\s+there)?[\s,!.:-]*)+/iu;

const needLead =
  /^(?:(?:so|well|um|uh|basically|pues|bueno)[\s,]+)?(?:i|we)\s+(?:really\s+|may\s+|might\s+|will\s+|probably\s+)?(?:need|want|would like|'d like|am looking for|are looking for|'m looking for|'re looking for)\s+(?:to\s+(?:get|have|schedule|book)\s+|someone to\s+|somebody to\s+|a\s+quote\s+(?:for|on)\s+|an?\s+estimate\s+(?:for|on)\s+)?|^(?:necesito|necesitamos|ocupo|busco|quiero|quisiera)\s+(?:que\s+(?:me|nos)\s+|alguien\s+(?:que|para)\s+|una?\s+cotizaci[oó]n\s+(?:para|de)\s+)?|^(?:looking for|need|want|curious about|interested in|info(?:rmation)? (?:on|about)|pricing (?:on|for)|price (?:on|for)|quote (?:on|for))\s+|^(?:can|could)\s+(?:you|someone|somebody)\s+(?:come\s+(?:out\s+)?(?:and\s+|to\s+))?/iu;

function splitClauses(text: string): Span[] {
  const spans: Span[] = [];
  const re = /[^.!?\n;]+[.!?]*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) spans.push({ start: m.index, end: m.index + m[0].length });
  return spans;
}

function maskSpans(text: string, spans: Span[]): string {
  let out = text;
  for (const s of spans) out = out.slice(0, s.start) + " ".repeat(s.end - s.start) + out.slice(s.end);
  return out;
}

function scoreClause(clause: string): number {
  const words = fold(clause).match(/[a-z/-]+/g) ?? [];
  let score = 0;
  for (const w of words) if (serviceSet.has(w)) score += 2;
  if (needVerbs.test(clause)) score += 1;
  return score;
}

function capLength(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const at = cut.lastIndexOf(" ");
  return (at > max * 0.6 ? cut.slice(0, at) : cut).replace(/[\s,;:-]+$/, "");
}

function cleanNeed(raw: string): string | null {
  let t = raw
    .replace(/\s+/g, " ")
    .trim()
    .replace(greeting, "")
    .replace(/^(?:this is|my name is|soy|me llamo)\s+[\p{L}]+(?:\s[\p{Lu}][\p{L}]+)?[\s,.]*/iu, "")
    .replace(greeting, "")
    .trim();
  t = t.replace(needLead, "").trim();
  for (let i = 0; i < 3; i++) {
    t = t
      .replace(/\s+([,;:.!?])/g, "$1")
      .replace(/^[\s,;:.-]+|[\s,;:.!?-]+$/g, "")
      .replace(/\s+(?:please|pls|por favor|thanks|thank you|gracias|if possible|si se puede)$/i, "")
      .replace(/\s+(?:for|on|at|in|by|around|after|before|near|from|para|el|la|en|a|de|del|the|y|and|or|o|is|es|if|si)$/i, "");
  }
  if ((t.match(/\p{L}/gu) ?? []).length < 3) return null;
  return capLength(t, 110);
}

const explicitNeed =
  /\b(?:i|we)\s+(?:really\s+)?(?:need|want|would like|'d like)\b|\b(?:looking for|necesito|necesitamos|ocupo|busco|quiero|quisiera|queremos)\b|^\s*(?:need|want)\b|\bneed(?:s)? (?:a|an|my|the|to|some|someone)\b|\b(?:curious about|interested in|info(?:rmation)? (?:on|about)|pricing (?:on|for)|price (?:on|for)|quote (?:on|for))\b|\b(?:locked out|lockout)\b/iu;
const genericWords = new Set(
  "done someone somebody help asap please today tomorrow this that with come come out there here time soon quote estimate info information someone's alguien ayuda pronto hoy favor"
    .split(" "),
);

/** At least one word that says what the job is ("adjustment"), not just "someone asap". */
function hasContent(need: string): boolean {
  return (fold(need).match(/[a-z]{4,}/g) ?? []).some((w) => !genericWords.has(w));
}

export function findNeed(text: string, masked: Span[] = []): { text: string; spans: Span[] } | null {
  const source = maskSpans(text, masked);
  let best: { span: Span; score: number } | null = null;
  for (const span of splitClauses(source)) {
    const score = scoreClause(source.slice(span.start, span.end));
    if (score >= 2 && (!best || score > best.score)) best = { span, score };
  }
  if (!best) {
    // No trade word, but an explicit "I need ..." / "necesito ..." with real content.
    for (const span of splitClauses(source)) {
      const clause = source.slice(span.start, span.end);
      if (!explicitNeed.test(clause)) continue;
      const cleaned = cleanNeed(clause);
      if (cleaned && hasContent(cleaned)) return { text: cleaned, spans: [span] };
    }
    return null;
  }
  const cleaned = cleanNeed(source.slice(best.span.start, best.span.end));
  return cleaned ? { text: cleaned, spans: [best.span] } : null;
}

// ---------- constraints ----------

const constraintPatterns: RegExp[] = [
  /\b(?:dogs?|cats?|pets?|puppy|perros?|perritos?|gatos?|mascotas?)\b/iu,
  /\b(?:gate|access|door|lockbox|lock box|garage) code\b|\bc[oó]digo (?:de )?(?:la )?(?:puerta|entrada|port[oó]n)\b|\bbuzz(?:er)?\b/iu,
  /\b(?:only|solo|s[oó]lamente|unicamente)\b.*\b(?:after|before|morning|afternoon|evening|weekend|weekday|despu[eé]s|antes|ma[nñ]ana|tarde|fin de semana)|\b(?:not|no|never) (?:before|after|on) |\bno (?:weekends|mornings)\b|\bweekends? only\b|\bweekdays? only\b|\bno (?:fines de semana|los fines)\b/iu,
  /\$\s?\d[\d,]*|\bbudget\b|\bpresupuesto de\b|\bunder \d+\b|\bcheap(?:est)?\b/iu,
  /\binsurance\b|\bclaim\b|\bseguro\b|\bwarranty\b|\bgarant[ií]a\b/iu,
  /\blandlord\b|\btenant\b|\brent(?:al|ing)?\b|\bHOA\b|\bproperty manag|\bcondo\b|\bapartment\b|\bdue[nñ]o\b|\brento\b|\brentamos\b/iu,
  /\bparking\b|\bstairs\b|\b\d+(?:st|nd|rd|th) floor\b|\b(?:second|third|top) floor\b|\bpiso\b|\bestacionamiento\b|\belevator\b/iu,
  /\b(?:speaks?|speak only|habla|hablo|hablamos) (?:only )?(?:spanish|espa[nñ]ol|english|ingl[eé]s)\b|\bpoco ingl[eé]s\b|\bno hablo ingl[eé]s\b/iu,
  /\btext only\b|\b(?:don'?t|do not|please don'?t) call\b|\bcall (?:after|before)\b|\bno me llamen\b|\bsolo mensajes?\b|\bat work until\b/iu,
  /\bbaby\b|\bbeb[eé]\b|\bnewborn\b|\belderly\b|\bwheelchair\b|\ballerg(?:y|ic|ies)\b|\bal[eé]rgic/iu,
  /\b(?:senior|military|veteran) discount\b|\bdescuento\b|\bfinancing\b|\bfinanciamiento\b|\bcash only\b/iu,
  /\bhome (?:after|before|between)\b|\bnot home\b|\bno estoy en casa\b|\bestoy en casa (?:despu[eé]s|antes)\b/iu,
];

export function findConstraints(text: string): string[] {
  const found: string[] = [];
  const re = /[^.!?\n;,]+/g;
  const clauses: string[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) clauses.push(m[0]);
  for (const clause of clauses) {
    if (constraintPatterns.some((p) => p.test(clause))) {
      const c = capLength(
        clause.replace(greeting, "").replace(/\s+/g, " ").trim().replace(/^(?:and|but|also|y|pero|también|tambien)\s+/i, ""),
        80,
      );
      if (c.length >= 3 && !found.some((f) => fold(f) === fold(c))) found.push(c);
    }
  }
  return found;
}

// ---------- one text ----------

export interface TextExtraction {
  need: string | null;
  timing: { text: string; start: string | null } | null;
  location: LocationMatch | null;
  constraints: string[];
  intent: Intent | null;
}

export function extractFromText(text: string, now: Date, timeZone: string): TextExtraction {
  const location = findLocation(text);
  // House numbers and ZIPs read like dates or times to chrono ("600 W 28th").
  const timing = findTiming(maskSpans(text, location?.spans ?? []), now, timeZone);
  const masked = [...(timing?.spans ?? []), ...(location?.spans ?? [])];
  const need = findNeed(text, masked);
  return {
    need: need?.text ?? null,
    timing: timing ? { text: timing.text, start: timing.start } : null,
    location,
    constraints: findConstraints(text),
    intent: detectIntent(text),
  };
}

// ---------- a whole conversation ----------

export interface TranscriptMessage {
  direction: "inbound" | "outbound" | string;
  kind?: string | null;
  body: string;
  /** What an outbound text asked for (messages.asks, set by the database when it composed it). */
  asks?: readonly string[] | null;
  created_at?: string | null;
}

/** The slots an outbound text asked for, as it recorded them. */
function slotsAsked(msg: TranscriptMessage): SlotName[] {
  return slotOrder.filter((s) => msg.asks?.includes(s));
}

const nonAnswer =
  /^(?:ok(?:ay)?|k|yes|yeah|yep|no|nope|sure|thanks?|thank you|thx|hi|hello|hey|s[ií]|claro|vale|gracias|hola|bueno|perfecto|great|cool|👍|not sure|no s[eé]|idk|i don'?t know|dunno|maybe|tal vez|quiz[aá]s)[\s.!?]*$/iu;

export interface ConversationInput {
  lead: { name?: string | null; message?: string | null };
  messages: TranscriptMessage[];
  now: Date;
  timeZone: string;
  /** Slots found earlier (e.g. stored by the engine); re-extraction adds to them. */
  known?: Partial<Slots> | null;
}

export interface ConversationExtraction {
  slots: ExtractedSlots;
  /** Slots a question was already sent for (never ask twice). */
  asked: Set<SlotName>;
  /** Intent of the latest inbound message, if any. */
  lastIntent: Intent | null;
  /** Slots the latest inbound message filled. */
  filledByLast: SlotName[];
}

/** A need of one or two words ("roof", "AC") says what, not what is wrong. */
function isVagueNeed(need: string): boolean {
  return (need.match(/[\p{L}\d/-]+/gu) ?? []).length <= 2;
}

function applyExtraction(slots: ExtractedSlots, x: TextExtraction, locationSpecificity: { value: number }, override: boolean) {
  const filled: SlotName[] = [];
  if (x.need && !slots.need) {
    slots.need = x.need;
    filled.push("need");
  } else if (x.need && slots.need && isVagueNeed(slots.need) && !fold(x.need).includes(fold(slots.need))) {
    // "roof" in the form, then "some shingles blew off": keep both.
    slots.need = capLength(`${slots.need}: ${x.need}`, 110);
    filled.push("need");
  }
  if (x.timing && (!slots.timing || (override && (x.timing.start || !slots.timing_start)))) {
    slots.timing = x.timing.text;
    slots.timing_start = x.timing.start;
    filled.push("timing");
  }
  if (x.location && (!slots.location || x.location.specificity > locationSpecificity.value)) {
    slots.location = x.location.text;
    locationSpecificity.value = x.location.specificity;
    filled.push("location");
  }
  for (const c of x.constraints) {
    if (!slots.constraints.some((k) => fold(k) === fold(c))) slots.constraints.push(c);
  }
  return filled;
}

/**
 * Replays the form message and every inbound reply in order. A reply that only makes
 * sense as the answer to the question just asked ("Round Rock" after "Where is the
 * job?") fills that slot.
 */
export function extractConversation(input: ConversationInput): ConversationExtraction {
  const { now, timeZone } = input;
  const slots = emptySlots();
  const known = input.known ?? {};
  slots.need = known.need ?? null;
  slots.timing = known.timing ?? null;
  slots.location = known.location ?? null;
  slots.constraints = [...(known.constraints ?? [])];
  const specificity = { value: slots.location ? 1 : 0 };
  const asked = new Set<SlotName>();
  let lastIntent: Intent | null = null;
  let filledByLast: SlotName[] = [];

  if (input.lead.message) {
    applyExtraction(slots, extractFromText(input.lead.message, now, timeZone), specificity, false);
  }
  let pendingQuestion: SlotName | null = null;
  for (const msg of input.messages) {
    if (msg.direction === "outbound") {
      if (msg.kind && !["question", "text_back", "nudge"].includes(msg.kind)) continue;
      // Only a question about one slot makes a bare reply its answer, and only such a
      // question counts as "already asked" (the first text asks everything at once).
      const askedHere = slotsAsked(msg);
      pendingQuestion = askedHere.length === 1 ? askedHere[0] : null;
      if (pendingQuestion && msg.kind !== "text_back" && msg.kind !== "nudge") asked.add(pendingQuestion);
      continue;
    }
    if (msg.direction !== "inbound") continue;
    const body = msg.body ?? "";
    const x = extractFromText(body, now, timeZone);
    lastIntent = x.intent;
    if (x.intent === "not_interested" || x.intent === "wrong_number") {
      // "never mind, not interested right now" says nothing about the job.
      filledByLast = [];
      pendingQuestion = null;
      continue;
    }
    filledByLast = applyExtraction(slots, x, specificity, true);
    if (pendingQuestion && !x.intent && !filledByLast.includes(pendingQuestion) && !nonAnswer.test(body.trim())) {
      if (pendingQuestion === "location" && !slots.location) {
        const loc = locationFromAnswer(body);
        if (loc) {
          slots.location = loc.text;
          specificity.value = loc.specificity;
          filledByLast.push("location");
        }
      } else if (pendingQuestion === "need" && !slots.need) {
        const need = cleanNeed(body);
        if (need) {
          slots.need = need;
          filledByLast.push("need");
        }
      }
    }
    pendingQuestion = null;
  }
  return { slots, asked, lastIntent, filledByLast };
}

export function missingSlots(slots: Slots): SlotName[] {
  return slotOrder.filter((s) => !slots[s]);
}
