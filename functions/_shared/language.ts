// Decides whether a lead writes English or Spanish. tinyld is reliable on sentences but
// not on two-word replies ("sí, mañana"), so short texts are decided by cue words and a
// reply that carries no language signal ("78704", "ok") keeps the current locale.
import { detectAll } from "tinyld";

export type Locale = "en" | "es";
export const supportedLocales: readonly Locale[] = ["en", "es"];

export function toLocale(value: string | null | undefined, fallback: Locale = "en"): Locale {
  const base = (value ?? "").toLowerCase().slice(0, 2);
  return (supportedLocales as readonly string[]).includes(base) ? (base as Locale) : fallback;
}

export function fold(text: string): string {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

const spanishCues = new Set(
  (
    "hola buenas buenos dias tardes noches gracias necesito necesitamos quiero queremos busco tengo tenemos " +
    "por favor manana hoy ayer semana proxima proximo lunes martes miercoles jueves viernes sabado domingo " +
    "casa cocina bano techo agua fuga calentador aire acondicionado arreglar reparar limpieza cita perro " +
    "si claro vale donde cuando esta estoy estamos puede pueden llamar llameme llamame numero equivocado " +
    "interesa ya mi mis el la los las una uno para con que de del en y o pero despues antes tarde noche " +
    "direccion calle avenida ciudad codigo postal nada solo tambien muy bien cuanto cuesta precio"
  ).split(" "),
);
const englishCues = new Set(
  (
    "hi hello hey thanks thank you need needs want looking for have has my our the a an and or but is are " +
    "it this that tomorrow today tonight morning afternoon evening week next monday tuesday wednesday thursday " +
    "friday saturday sunday please can could would should will call me yes yeah no not interested wrong number " +
    "house home kitchen bathroom roof water leak fix repair clean appointment at in on after before around " +
    "address street zip city just sure ok okay asap soon"
  ).split(" "),
);

function cueScores(text: string): { es: number; en: number } {
  const words = fold(text).match(/[a-z]+/g) ?? [];
  let es = 0;
  let en = 0;
  for (const w of words) {
    if (spanishCues.has(w)) es++;
    if (englishCues.has(w)) en++;
  }
  // Characters only Spanish uses are strong evidence on their own.
  if (/[ñ¿¡]/i.test(text)) es += 2;
  if (/[áéíóú]/i.test(text)) es += 1;
  return { es, en };
}

export function detectLocale(text: string, current: Locale): Locale {
  const letters = (text.match(/\p{L}/gu) ?? []).length;
  if (letters < 2) return current;
  const cues = cueScores(text);
  if (letters >= 25) {
    const ranked = detectAll(text, { only: ["en", "es"] }) as { lang: string; accuracy: number }[];
    const top = ranked[0];
    if (top && top.accuracy >= 0.5 && (top.lang === "en" || top.lang === "es")) {
      const other = top.lang === "en" ? "es" : "en";
      // Trust tinyld unless the cue words clearly disagree.
      if (cues[other] <= cues[top.lang as Locale] * 2 + 1) return top.lang as Locale;
    }
  }
  if (cues.es > cues.en) return "es";
  if (cues.en > cues.es) return "en";
  return current;
}
