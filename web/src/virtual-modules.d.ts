// Modules web/vite.config.ts makes at build time.
declare module "virtual:leadloop/phone-nanp" {
  import type { MetadataJson } from "libphonenumber-js/core";
  /** libphonenumber-js's min metadata for calling code +1 only (cut by widget/phone-metadata.ts). */
  export const nanp: MetadataJson;
}
