// The demo business that supabase/seed.sql creates; npm start prints these so a person can log in.
export const demo = {
  email: "owner@demo.leadloop.test",
  password: "leadloop-demo",
  businessId: "00000000-0000-4000-8000-000000000001",
  widgetId: "00000000-0000-4000-8000-000000000002",
  ownerUserId: "00000000-0000-4000-8000-000000000003",
  ownerPhone: "+15555550100",
  twilioNumber: "+15555550199",
} as const;
