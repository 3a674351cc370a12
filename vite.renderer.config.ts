// Builds the React renderer into out/renderer. No plugin: esbuild compiles the TSX, and the output
// is plain files (relative paths, no inline script) that load from file:// under a strict CSP.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'renderer',
  base: './',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    target: 'chrome130',
    // The preload polyfill would be an inline script, which the CSP forbids.
    modulePreload: { polyfill: false },
    sourcemap: true,
    chunkSizeWarningLimit: 1_000,
    rollupOptions: {
      onwarn(warning, warn) {
        // Harmless in a client-only bundle: React Server Components' "use client" marker, and
        // comments Rollup cannot place (it drops them).
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' || warning.code === 'INVALID_ANNOTATION' || warning.code === 'SOURCEMAP_ERROR') return;
        warn(warning);
      },
    },
  },
  logLevel: 'warn',
});
