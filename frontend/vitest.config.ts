// Component tests: Vitest + Testing Library in jsdom; `npm test` (also run by tests/e2e/test_vitest.py in `make test`).
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    pool: "threads",
    maxWorkers: 2,
    restoreMocks: true,
    setupFiles: ["src/test/setup.ts"],
  },
});
