import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildAssets } from "./scripts/build-assets.ts";

// Four projects: Worker code in workerd (real D1 and Durable Objects), pure and agent code in
// Node, integration tests that start `wrangler dev` and real agents, and e2e tests that need
// system packages (`npm run test:e2e`).
export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  // wrangler.toml's `[assets]` directory must exist before the workerd project starts.
  await buildAssets();
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
                  SIGNING_KEY: "test-signing-key-0123456789abcdef0123456789",
                  // Expected refusals log at warn; only errors are written, so a real failure stands out.
                  LOG_LEVEL: "error",
                },
              },
            }),
          ],
          test: {
            name: "workerd",
            include: ["test/worker/**/*.test.ts"],
            setupFiles: ["./test/worker/apply-migrations.ts"],
          },
        },
        {
          test: {
            name: "node",
            environment: "node",
            include: ["test/node/**/*.test.ts"],
          },
        },
        {
          test: {
            name: "integration",
            environment: "node",
            include: ["test/integration/**/*.test.ts"],
            testTimeout: 120_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
        {
          test: {
            name: "e2e",
            environment: "node",
            include: ["test/e2e/**/*.test.ts"],
            testTimeout: 180_000,
            hookTimeout: 180_000,
            fileParallelism: false,
          },
        },
      ],
    },
  };
});
