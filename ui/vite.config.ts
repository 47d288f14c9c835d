import { defineConfig } from "vitest/config";

// No React plugin: esbuild compiles TSX on its own (automatic JSX runtime); the plugin would only add
// fast refresh, which a desktop app built into ui/dist does not use.
export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  test: { environment: "jsdom", globals: true, include: ["src/**/*.test.{ts,tsx}"] },
});
