declare namespace Cloudflare {
  interface Env {
    ADMIN_TOKEN?: string;
    SIGNING_KEY?: string;
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
