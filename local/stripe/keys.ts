// The keys every local instance uses with the Stripe emulator. Same shapes as real test-mode keys
// (so `stripe` accepts them and code that checks prefixes works); only the emulator knows them.
export const localStripeKeys = {
  secretKey: "sk_test_51LeadloopLocalEmulator0000000000000000000000000000000000000000000000000000",
  publishableKey: "pk_test_51LeadloopLocalEmulator0000000000000000000000000000000000000000000000000000",
  webhookSecret: "whsec_leadloopLocalEmulatorWebhookSecret00000001",
} as const;
