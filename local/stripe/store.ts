// The emulator's whole state in one place: records by kind, ids, the clock and the settings.
// Everything here is JSON-safe, so `stateFile` keeps customers and subscriptions across restarts
// (the dev database keeps its `cus_`/`sub_` ids across restarts too).
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type {
  CheckoutSessionRec,
  CustomerRec,
  DeliveryRec,
  EndpointRec,
  EventRec,
  InvoiceRec,
  PaymentMethodRec,
  PortalConfigRec,
  PortalSessionRec,
  PriceRec,
  ProductRec,
  SubscriptionRec,
} from "./records.ts";

export interface Settings {
  /** Seconds after a failed webhook attempt before the next one; one entry per retry. */
  webhookRetrySchedule: number[];
  /** How long an endpoint may take to answer before the attempt counts as failed. */
  webhookTimeoutMs: number;
  dunning: {
    /** Days after the previous failed attempt at which a renewal invoice is charged again. */
    retryDays: number[];
    /** What happens to the subscription when the last retry fails (Stripe's "Manage failed payments"). */
    afterFinalAttempt: "cancel" | "unpaid" | "past_due";
  };
  /** Stripe leaves a renewal invoice in draft for about an hour before finalizing and charging it. */
  invoiceFinalizeDelaySeconds: number;
  /** An incomplete subscription whose first invoice is not paid within 23 hours expires. */
  incompleteExpirySeconds: number;
  /** Checkout Sessions expire after 24 hours unless `expires_at` says otherwise. */
  checkoutExpirySeconds: number;
  /** customer.subscription.trial_will_end fires this long before a trial ends. */
  trialWillEndSeconds: number;
}

export const defaultSettings: Settings = {
  // Stripe's sandbox retries three times over a few hours.
  webhookRetrySchedule: [3600, 2 * 3600, 4 * 3600],
  webhookTimeoutMs: 20_000,
  dunning: { retryDays: [3, 5, 7], afterFinalAttempt: "cancel" },
  invoiceFinalizeDelaySeconds: 3600,
  incompleteExpirySeconds: 23 * 3600,
  checkoutExpirySeconds: 24 * 3600,
  trialWillEndSeconds: 3 * 24 * 3600,
};

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const byte of bytes) out += alphabet[byte % 62];
  return out;
}

interface Snapshot {
  version: 1;
  clockOffsetMs: number;
  seq: number;
  invoiceNumbers: number;
  settings: Settings;
  records: Record<string, unknown[]>;
}

export class Store {
  readonly customers = new Map<string, CustomerRec>();
  readonly products = new Map<string, ProductRec>();
  readonly prices = new Map<string, PriceRec>();
  readonly paymentMethods = new Map<string, PaymentMethodRec>();
  readonly checkoutSessions = new Map<string, CheckoutSessionRec>();
  readonly portalConfigs = new Map<string, PortalConfigRec>();
  readonly portalSessions = new Map<string, PortalSessionRec>();
  readonly subscriptions = new Map<string, SubscriptionRec>();
  readonly invoices = new Map<string, InvoiceRec>();
  readonly events = new Map<string, EventRec>();
  readonly endpoints = new Map<string, EndpointRec>();
  readonly deliveries = new Map<string, DeliveryRec>();
  settings: Settings = structuredClone(defaultSettings);
  /** How far the emulator clock is ahead of real time (it only moves forward, except on reset). */
  clockOffsetMs = 0;
  /** While due work runs, the moment it was due: what it stamps on the objects it changes. */
  private pinnedMs: number | null = null;
  private seqCounter = 0;
  /** Account-wide invoice numbering for customers without their own sequence in use. */
  invoiceNumbers = 0;
  private saveTimer: NodeJS.Timeout | null = null;

  constructor(private readonly stateFile?: string) {
    if (stateFile) this.load(stateFile);
  }

  private get tables(): Record<string, Map<string, { id: string }>> {
    return {
      customers: this.customers,
      products: this.products,
      prices: this.prices,
      paymentMethods: this.paymentMethods,
      checkoutSessions: this.checkoutSessions,
      portalConfigs: this.portalConfigs,
      portalSessions: this.portalSessions,
      subscriptions: this.subscriptions,
      invoices: this.invoices,
      events: this.events,
      endpoints: this.endpoints,
      deliveries: this.deliveries,
    };
  }

  nextSeq(): number {
    return ++this.seqCounter;
  }

  nowMs(): number {
    return this.pinnedMs ?? Date.now() + this.clockOffsetMs;
  }

  /** Unix seconds on the emulator clock. */
  now(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Runs `work` as if it were `atSeconds` (never earlier than the emulator's real "now" moves). */
  at<T>(atSeconds: number, work: () => T): T {
    const previous = this.pinnedMs;
    this.pinnedMs = atSeconds * 1000;
    try {
      return work();
    } finally {
      this.pinnedMs = previous;
    }
  }

  advanceTo(targetMs: number): void {
    const current = Date.now() + this.clockOffsetMs;
    if (targetMs > current) this.clockOffsetMs += targetMs - current;
  }

  reset(options: { keepCatalog?: boolean; keepEndpoints?: boolean } = {}): void {
    for (const [name, table] of Object.entries(this.tables)) {
      if (options.keepCatalog && (name === "products" || name === "prices" || name === "portalConfigs")) continue;
      if (options.keepEndpoints && name === "endpoints") continue;
      table.clear();
    }
    this.clockOffsetMs = 0;
    this.invoiceNumbers = 0;
    this.changed();
  }

  /** Marks the state dirty; with a state file it is written shortly after (one write per burst). */
  changed(): void {
    if (!this.stateFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.save();
    }, 200);
    this.saveTimer.unref();
  }

  flush(): void {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    if (this.stateFile) this.save();
  }

  private save(): void {
    if (!this.stateFile) return;
    const snapshot: Snapshot = {
      version: 1,
      clockOffsetMs: this.clockOffsetMs,
      seq: this.seqCounter,
      invoiceNumbers: this.invoiceNumbers,
      settings: this.settings,
      records: Object.fromEntries(Object.entries(this.tables).map(([name, table]) => [name, [...table.values()]])),
    };
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const temporary = `${this.stateFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(snapshot));
    renameSync(temporary, this.stateFile);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    const snapshot = JSON.parse(text) as Snapshot;
    if (snapshot.version !== 1) throw new Error(`${file}: unknown state version ${snapshot.version}`);
    this.clockOffsetMs = snapshot.clockOffsetMs;
    this.seqCounter = snapshot.seq;
    this.invoiceNumbers = snapshot.invoiceNumbers;
    this.settings = { ...structuredClone(defaultSettings), ...snapshot.settings };
    for (const [name, table] of Object.entries(this.tables)) {
      for (const record of (snapshot.records[name] ?? []) as { id: string }[]) table.set(record.id, record);
    }
    // A delivery cut off by the restart is simply due again.
    for (const delivery of this.deliveries.values()) {
      if (delivery.state === "sending") delivery.state = "pending";
    }
  }
}
