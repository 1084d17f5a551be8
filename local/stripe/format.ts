// Texts shared by invoice lines and the hosted pages, and the one email check the API and the
// checkout page both apply.

export function money(amount: number, currency: string): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(amount / 100);
}

/** "month", "3 months". */
export function intervalText(interval: string, count: number): string {
  return count === 1 ? interval : `${count} ${interval}s`;
}

export function looksLikeEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}
