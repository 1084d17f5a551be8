// What the conversation engine says, per locale. Kept GSM-7 friendly and short so a
// question is one segment.
import type { Locale } from "./language.ts";
import type { SlotName } from "./extract.ts";

export type ClosingReason = "slots_filled" | "max_questions" | "call_requested" | "not_interested" | "wrong_number";

interface LocaleTemplates {
  question: Record<SlotName, (v: Vars) => string>;
  closing: Record<ClosingReason, (v: Vars) => string>;
}

export interface Vars {
  firstName: string | null;
  business: string;
  /** True when the lead's last message filled something, so we acknowledge it. */
  acknowledged: boolean;
}

const en: LocaleTemplates = {
  question: {
    need: (v) => `${v.acknowledged ? "Thanks! " : ""}What can we help you with?`,
    timing: (v) => `${v.acknowledged ? "Got it. " : ""}When would you like this done?`,
    location: (v) => `${v.acknowledged ? "Thanks! " : ""}What's the address or ZIP code for the job?`,
  },
  closing: {
    slots_filled: (v) =>
      `Thanks${v.firstName ? ` ${v.firstName}` : ""}! ${v.business} has what they need and will get back to you shortly.`,
    max_questions: (v) =>
      `Thanks${v.firstName ? ` ${v.firstName}` : ""}! We've passed this on to ${v.business} and they'll reach out soon.`,
    call_requested: (v) => `No problem! ${v.business} will call you at this number shortly.`,
    not_interested: () => `Understood, thanks for letting us know. We won't text you about this request again.`,
    wrong_number: () => `Sorry about that! We won't text this number again.`,
  },
};

const es: LocaleTemplates = {
  question: {
    need: (v) => `${v.acknowledged ? "¡Gracias! " : ""}¿En qué le podemos ayudar?`,
    timing: (v) => `${v.acknowledged ? "Entendido. " : ""}¿Cuándo le gustaría que hagamos el trabajo?`,
    location: (v) => `${v.acknowledged ? "¡Gracias! " : ""}¿Cuál es la dirección o el código postal del trabajo?`,
  },
  closing: {
    slots_filled: (v) =>
      `¡Gracias${v.firstName ? ` ${v.firstName}` : ""}! ${v.business} ya tiene lo que necesita y le contactará pronto.`,
    max_questions: (v) =>
      `¡Gracias${v.firstName ? ` ${v.firstName}` : ""}! Le pasamos su solicitud a ${v.business} y le contactarán pronto.`,
    call_requested: (v) => `¡Claro! ${v.business} le llamará a este número en breve.`,
    not_interested: () => `Entendido, gracias por avisarnos. No le enviaremos más mensajes sobre esta solicitud.`,
    wrong_number: () => `¡Disculpe la molestia! No volveremos a escribir a este número.`,
  },
};

export const templates: Record<Locale, LocaleTemplates> = { en, es };
