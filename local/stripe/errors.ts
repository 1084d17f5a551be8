// Stripe's error body `{error: {type, code, message, param, ...}}` and the HTTP statuses Stripe
// pairs with each kind, so stripe-node raises the same error classes it raises against the API.

export type StripeErrorType =
  | "api_error"
  | "card_error"
  | "idempotency_error"
  | "invalid_request_error"
  | "authentication_error"
  | "rate_limit_error";

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  [key: string]: unknown;
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /** Headers Stripe adds to this answer (e.g. `Stripe-Should-Retry`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }

  toJSON(requestId: string): { error: StripeErrorBody } {
    const body: StripeErrorBody = { ...this.body };
    if (body.code && !body.doc_url) body.doc_url = `https://stripe.com/docs/error-codes/${body.code.replace(/_/g, "-")}`;
    body.request_log_url = `https://dashboard.stripe.com/test/logs/${requestId}`;
    return { error: body };
  }
}

export function missingParam(param: string): StripeApiError {
  return new StripeApiError(400, {
    type: "invalid_request_error",
    code: "parameter_missing",
    param,
    message: `Missing required param: ${param}.`,
  });
}

export function invalidParam(param: string, message: string, code = "parameter_invalid_string"): StripeApiError {
  return new StripeApiError(400, { type: "invalid_request_error", code, param: param || undefined, message });
}

/** `No such customer: 'cus_x'` — 404 when the id is in the path, 400 when it is a parameter. */
export function noSuch(kind: string, id: string, param = "id"): StripeApiError {
  return new StripeApiError(param === "id" ? 404 : 400, {
    type: "invalid_request_error",
    code: "resource_missing",
    param,
    message: `No such ${kind}: '${id}'`,
  });
}

export function invalidState(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError(400, { type: "invalid_request_error", message, ...(param ? { param } : {}), ...(code ? { code } : {}) });
}

export function unrecognizedUrl(method: string, path: string): StripeApiError {
  return new StripeApiError(404, {
    type: "invalid_request_error",
    message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  });
}

export function authenticationError(message: string): StripeApiError {
  return new StripeApiError(401, { type: "invalid_request_error", message });
}

export function idempotencyError(message: string, status = 400, code?: string): StripeApiError {
  return new StripeApiError(status, { type: "idempotency_error", message, ...(code ? { code } : {}) });
}

/** A declined or failed card payment: 402 with `decline_code`, as Stripe answers it. */
export function cardError(code: string, message: string, declineCode?: string, param?: string): StripeApiError {
  return new StripeApiError(402, {
    type: "card_error",
    code,
    message,
    ...(declineCode ? { decline_code: declineCode } : {}),
    ...(param ? { param } : {}),
  });
}
