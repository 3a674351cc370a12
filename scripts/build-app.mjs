#!/usr/bin/env node
// `npm run build:app`: bundles the desktop app's three Node-side parts into out/ with esbuild.
//   out/main/index.js          Electron main (ESM, as package.json "type" says)
//   out/preload/index.cjs      the preload: sandboxed preloads load no node_modules, so zod is inside
//   out/engine/engineProcess.cjs   the engine, for utilityProcess.fork
// ssh2 and cpu-features stay external: native bindings load from node_modules (unpacked from asar).
// The renderer is built separately into out/renderer (npm run build:renderer).
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const NATIVE = ['ssh2', 'cpu-features'];
const common = { absWorkingDir: root, bundle: true, sourcemap: true, logLevel: 'warning', legalComments: 'none' };

await Promise.all([
  build({
    ...common,
    entryPoints: ['main/index.ts'],
    outfile: 'out/main/index.js',
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: ['electron', ...NATIVE],
    // Bundled CommonJS dependencies (ajv under conf, electron-log) call require(); ESM has none of its own.
    banner: { js: "import { createRequire as __tvCreateRequire } from 'node:module'; const require = __tvCreateRequire(import.meta.url);" },
  }),
  build({
    ...common,
    entryPoints: ['main/preload.ts'],
    outfile: 'out/preload/index.cjs',
    // 'browser': a Node built-in pulled into the preload fails this build instead of the sandbox at run time.
    platform: 'browser',
    format: 'cjs',
    target: 'chrome140',
    external: ['electron'],
  }),
  build({
    ...common,
    entryPoints: ['app/service/engineProcess.ts'],
    outfile: 'out/engine/engineProcess.cjs',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: NATIVE,
    // The engine resolves ssh2's internals with createRequire(import.meta.url), which CommonJS lacks.
    define: { 'import.meta.url': '__tvImportMetaUrl' },
    banner: { js: "const __tvImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
]);
