import { defineConfig } from "drizzle-kit";

// Migrations are generated here and applied only by wrangler (`wrangler d1 migrations apply`)
// and by `applyD1Migrations` in tests; never by drizzle-kit push/migrate.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
  tablesFilter: ["pools", "nodes", "enrolment_tokens", "users", "login_failures", "profiles", "x2go_cookies"],
});
