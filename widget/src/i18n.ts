// Every word the widget shows, in each language it speaks. The lead's language is the page's:
// the script's data-locale, else the page's <html lang>, else English.
import type { FieldKey } from "./validation.ts";

export const LOCALES = ["en", "es"] as const;
export type Locale = (typeof LOCALES)[number];

export interface Messages {
  locale: Locale;
  loading: string;
  unavailable: string;
  loadFailed: string;
  tryAgain: string;
  title(business: string): string;
  intro: string;
  optional: string;
  honeypot: string;
  send: string;
  sending: string;
  sendingStatus: string;
  fixFields: string;
  thanksTitle: string;
  thanks(business: string, texting: boolean): string;
  network: string;
  rateLimited: string;
  rejected: string;
  checkField(field: FieldKey): string;
  labels: Record<FieldKey, string>;
  nameRequired: string;
  nameTooLong(max: number): string;
  phoneRequired: string;
  phoneTooLong: string;
  phoneCharacters: string;
  phoneNotANumber: string;
  phoneNeedsCountryCode: string;
  phoneInvalid: string;
  emailRequired: string;
  emailInvalid: string;
  messageRequired: string;
  messageTooLong(max: number): string;
}

const en: Messages = {
  locale: "en",
  loading: "Loading the contact form…",
  unavailable: "This contact form is not available right now.",
  loadFailed: "We couldn't load the contact form. Check your connection.",
  tryAgain: "Try again",
  title: (business) => `Contact ${business}`,
  intro: "Send a request and we'll get back to you quickly.",
  optional: " (optional)",
  honeypot: "Leave this field empty",
  send: "Send request",
  sending: "Sending…",
  sendingStatus: "Sending your request…",
  fixFields: "Please fix the highlighted fields.",
  thanksTitle: "Thanks, we got your request",
  thanks: (business, texting) => texting
    ? `${business} will be in touch shortly. You may get a text from us to ask a quick question.`
    : `${business} will be in touch shortly.`,
  network: "We couldn't reach the server. Check your connection and try again.",
  rateLimited: "Too many requests. Please wait a few minutes and try again.",
  rejected: "We couldn't send your request. Please check the form and try again.",
  checkField: (field) =>
    `Please check your ${({ name: "name", phone: "phone number", email: "email address", message: "message" })[field]}.`,
  labels: { name: "Name", phone: "Mobile phone", email: "Email", message: "How can we help?" },
  nameRequired: "Enter your name.",
  nameTooLong: (max) => `Keep your name under ${max} characters.`,
  phoneRequired: "Enter your phone number.",
  phoneTooLong: "That phone number is too long.",
  phoneCharacters: "Use digits only, for example +1 415 555 2671.",
  phoneNotANumber: "That doesn't look like a phone number.",
  phoneNeedsCountryCode: "Include your country code, for example +44 20 7946 0958.",
  phoneInvalid: "That phone number isn't valid. Check the digits.",
  emailRequired: "Enter your email address.",
  emailInvalid: "Enter an email address like name@example.com.",
  messageRequired: "Tell us what you need.",
  messageTooLong: (max) => `Keep your message under ${max} characters.`,
};

const es: Messages = {
  locale: "es",
  loading: "Cargando el formulario de contacto…",
  unavailable: "Este formulario de contacto no está disponible en este momento.",
  loadFailed: "No pudimos cargar el formulario de contacto. Revise su conexión.",
  tryAgain: "Intentar de nuevo",
  title: (business) => `Contacte a ${business}`,
  intro: "Envíe su solicitud y le responderemos pronto.",
  optional: " (opcional)",
  honeypot: "Deje este campo vacío",
  send: "Enviar solicitud",
  sending: "Enviando…",
  sendingStatus: "Enviando su solicitud…",
  fixFields: "Corrija los campos marcados.",
  thanksTitle: "Gracias, recibimos su solicitud",
  thanks: (business, texting) => texting
    ? `${business} se comunicará con usted pronto. Es posible que le enviemos un mensaje de texto con una pregunta breve.`
    : `${business} se comunicará con usted pronto.`,
  network: "No pudimos conectar con el servidor. Revise su conexión e inténtelo de nuevo.",
  rateLimited: "Demasiadas solicitudes. Espere unos minutos e inténtelo de nuevo.",
  rejected: "No pudimos enviar su solicitud. Revise el formulario e inténtelo de nuevo.",
  checkField: (field) =>
    `Revise su ${({ name: "nombre", phone: "número de teléfono", email: "correo electrónico", message: "mensaje" })[field]}.`,
  labels: { name: "Nombre", phone: "Teléfono móvil", email: "Correo electrónico", message: "¿En qué podemos ayudarle?" },
  nameRequired: "Escriba su nombre.",
  nameTooLong: (max) => `Su nombre debe tener menos de ${max} caracteres.`,
  phoneRequired: "Escriba su número de teléfono.",
  phoneTooLong: "Ese número de teléfono es demasiado largo.",
  phoneCharacters: "Use solo números, por ejemplo +1 415 555 2671.",
  phoneNotANumber: "Eso no parece un número de teléfono.",
  phoneNeedsCountryCode: "Incluya el código de país, por ejemplo +52 55 1234 5678.",
  phoneInvalid: "Ese número de teléfono no es válido. Revise los dígitos.",
  emailRequired: "Escriba su correo electrónico.",
  emailInvalid: "Escriba un correo electrónico como nombre@ejemplo.com.",
  messageRequired: "Cuéntenos qué necesita.",
  messageTooLong: (max) => `Su mensaje debe tener menos de ${max} caracteres.`,
};

export const MESSAGES: Record<Locale, Messages> = { en, es };

/** "es-MX" -> "es"; anything the widget does not speak -> null. */
export function matchLocale(tag: string | null | undefined): Locale | null {
  const language = (tag ?? "").trim().toLowerCase().split(/[-_]/)[0];
  return (LOCALES as readonly string[]).includes(language) ? (language as Locale) : null;
}

/** The script's data-locale wins over the page's <html lang>; English when neither is spoken here. */
export function resolveLocale(dataLocale: string | null | undefined, pageLang: string | null | undefined): Locale {
  return matchLocale(dataLocale) ?? matchLocale(pageLang) ?? "en";
}
