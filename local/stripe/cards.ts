// Stripe's test card numbers and what each does, read once by the checkout page, the portal and
// the control API. Numbers outside this table behave as Stripe's test mode treats a real card.
import { cardError, type StripeApiError } from "./errors.ts";

export type CardBrand = "visa" | "mastercard" | "amex" | "discover";

/**
 * When a card fails: `attach` = refused while it is entered (nothing is created);
 * `charge` = accepted and saved, but every charge on it fails (Stripe's 4000 0000 0000 0341).
 */
export interface TestCard {
  number: string;
  brand: CardBrand;
  funding: "credit" | "debit";
  fails?: { when: "attach" | "charge"; code: string; declineCode?: string; message: string };
}

const declined = "Your card was declined.";

export const testCards: TestCard[] = [
  { number: "4242424242424242", brand: "visa", funding: "credit" },
  { number: "4000056655665556", brand: "visa", funding: "debit" },
  { number: "5555555555554444", brand: "mastercard", funding: "credit" },
  { number: "2223003122003222", brand: "mastercard", funding: "credit" },
  { number: "5200828282828210", brand: "mastercard", funding: "debit" },
  { number: "378282246310005", brand: "amex", funding: "credit" },
  { number: "6011111111111117", brand: "discover", funding: "credit" },
  {
    number: "4000000000000341", brand: "visa", funding: "credit",
    fails: { when: "charge", code: "card_declined", declineCode: "generic_decline", message: declined },
  },
  {
    number: "4000000000000002", brand: "visa", funding: "credit",
    fails: { when: "attach", code: "card_declined", declineCode: "generic_decline", message: declined },
  },
  {
    number: "4000000000009995", brand: "visa", funding: "credit",
    fails: { when: "attach", code: "card_declined", declineCode: "insufficient_funds", message: "Your card has insufficient funds." },
  },
  {
    number: "4000000000009987", brand: "visa", funding: "credit",
    fails: { when: "attach", code: "card_declined", declineCode: "lost_card", message: declined },
  },
  {
    number: "4000000000009979", brand: "visa", funding: "credit",
    fails: { when: "attach", code: "card_declined", declineCode: "stolen_card", message: declined },
  },
  {
    number: "4000000000000069", brand: "visa", funding: "credit",
    fails: { when: "attach", code: "expired_card", message: "Your card has expired." },
  },
  {
    number: "4000000000000127", brand: "visa", funding: "credit",
    fails: { when: "attach", code: "incorrect_cvc", message: "Your card's security code is incorrect." },
  },
  {
    number: "4000000000000119", brand: "visa", funding: "credit",
    fails: { when: "attach", code: "processing_error", message: "An error occurred while processing your card. Try again in a little bit." },
  },
];

/** What a person may type: digits with spaces or dashes. */
export function normalizeCardNumber(input: string): string {
  return input.replace(/[\s-]/g, "");
}

export function luhnValid(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export interface CardEntry {
  number: string;
  expMonth: number;
  expYear: number;
  cvc: string;
}

/**
 * Checks a typed card the way Checkout does before anything is created: format first, then
 * expiry, then the test card's own `attach` failure. Returns the test card that will be saved.
 */
export function validateCard(entry: CardEntry, now: Date): TestCard {
  const number = normalizeCardNumber(entry.number);
  if (!luhnValid(number)) throw cardError("incorrect_number", "Your card number is incorrect.", undefined, "number");
  if (!Number.isInteger(entry.expMonth) || entry.expMonth < 1 || entry.expMonth > 12) {
    throw cardError("invalid_expiry_month", "Your card's expiration month is invalid.", undefined, "exp_month");
  }
  const expYear = entry.expYear < 100 ? 2000 + entry.expYear : entry.expYear;
  if (!Number.isInteger(expYear) || expYear > now.getUTCFullYear() + 50) {
    throw cardError("invalid_expiry_year", "Your card's expiration year is invalid.", undefined, "exp_year");
  }
  const endOfExpiry = Date.UTC(expYear, entry.expMonth, 1);
  if (endOfExpiry <= now.getTime()) throw cardError("invalid_expiry_year", "Your card's expiration date is in the past.", undefined, "exp_year");
  const card = testCards.find((c) => c.number === number);
  if (!/^\d{3,4}$/.test(entry.cvc) || (card?.brand === "amex" ? entry.cvc.length !== 4 : entry.cvc.length !== 3)) {
    throw cardError("invalid_cvc", "Your card's security code is invalid.", undefined, "cvc");
  }
  if (!card) {
    throw cardError(
      "card_declined",
      "Your card was declined. Your request was in test mode, but used a non test card. For a list of valid test cards, visit: https://stripe.com/docs/testing.",
      "test_mode_live_card",
    );
  }
  if (card.fails?.when === "attach") throw cardFailure(card);
  return card;
}

export function cardFailure(card: TestCard): StripeApiError {
  const fails = card.fails ?? { code: "card_declined", declineCode: "generic_decline", message: declined };
  return cardError(fails.code, fails.message, fails.declineCode);
}

export function testCardByNumber(number: string): TestCard | undefined {
  return testCards.find((c) => c.number === normalizeCardNumber(number));
}
