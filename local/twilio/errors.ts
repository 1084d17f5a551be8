// Twilio's REST error shape and the texts Twilio uses for the codes the emulator produces.

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

const messages: Record<number, string> = {
  20001: "Invalid parameter",
  20003: "Authenticate",
  20404: "The requested resource was not found",
  20429: "Too Many Requests",
  20500: "An internal server error has occurred",
  20503: "Service unavailable",
  21211: "The 'To' number is not a valid phone number.",
  21212: "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
  21266: "'To' and 'From' number cannot be the same",
  21406: "Cannot set SmsFallbackUrl without setting SmsUrl",
  21421: "PhoneNumber is invalid",
  21422: "PhoneNumber is not available",
  21451: "AreaCode is invalid",
  21452: "No phone numbers found in area code",
  21502: "Invalid callback URL",
  21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number.",
  21602: "Message body is required.",
  21603: "A 'From' phone number is required.",
  21604: "A 'To' phone number is required.",
  21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account.",
  21610: "Attempt to send to unsubscribed recipient",
  21611: "This 'From' number has exceeded the maximum number of queued messages.",
  21612: "The 'To' phone number is not currently reachable via SMS.",
  21614: "'To' number is not a valid mobile number",
  21617: "The concatenated message body exceeds the 1600 character limit.",
  21701: "The Messaging Service Sid is invalid.",
  21704: "The Messaging Service contains no phone numbers",
  30001: "Queue overflow",
  30002: "Account suspended",
  30003: "Unreachable destination handset",
  30004: "Message blocked",
  30005: "Unknown destination handset",
  30006: "Landline or unreachable carrier",
  30007: "Message filtered",
  30008: "Unknown error",
  30032: "Toll-Free Number Has Not Been Verified",
  30034: "Message from an Unregistered Number",
};

/** HTTP status Twilio answers with for an API error code. */
export function httpStatusForCode(code: number): number {
  if (code === 20003) return 401;
  if (code === 20404) return 404;
  if (code === 20429) return 429;
  if (code === 20500) return 500;
  if (code === 20503) return 503;
  return 400;
}

export function errorMessage(code: number): string {
  return messages[code] ?? `Error ${code}`;
}

export function twilioError(code: number, message = errorMessage(code), status = httpStatusForCode(code)): TwilioErrorBody {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** Delivery error codes that end as `failed` (never left Twilio) rather than `undelivered` (carrier said no). */
export const failedBeforeCarrier = new Set([21610, 30001, 30002, 30032, 30034, 30035, 30036]);
