/// <reference types="vitest/config" />
import { readFile } from "node:fs/promises";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// In `npm run dev`, /config.json comes from web/config.local.json (git-ignored). It never goes
// into the build: deploy writes config.json next to index.html.
function devRuntimeConfig(): Plugin {
  return {
    name: "openclaw-dev-config",
    apply: "serve",
    configureServer(server) {
      server.middlewares.use("/config.json", (_req, res) => {
        readFile(new URL("./config.local.json", import.meta.url), "utf8").then(
          (body) => {
            res.setHeader("Content-Type", "application/json");
            res.end(body);
          },
          () => {
            res.statusCode = 404;
            res.end("create web/config.local.json (see web/README.md)");
          },
        );
      });
    },
  };
}

export default defineConfig({
  // Relative asset URLs: the same build works at any path and behind any CloudFront domain.
  base: "./",
  plugins: [react(), devRuntimeConfig()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: true,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    unstubGlobals: true,
  },
});
