declare namespace Cloudflare {
  interface Env {
    ADMIN_TOKEN?: string;
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
