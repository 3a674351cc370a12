#!/usr/bin/env node
// Bundles the `tunnelvision` command into one script, dist/cli/tunnelvision.cjs, which
// bin/tunnelvision.js compiles through a V8 code cache. Node 20 loads an ES module graph file by
// file (several hundred: zod, ssh2, commander) and has no compile cache of its own, which made
// start-up most of the time to "open" (BENCHMARKS.md).
//   node scripts/build-cli.mjs [outfile]
// Whitespace and syntax are minified (less to read and compile at every start); names are kept,
// so stack traces stay readable. Native bindings (.node) cannot be bundled: their requires become
// package paths, which resolve from node_modules wherever the bundle is.
import { build } from 'esbuild';
import { relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

const nativeFromNodeModules = {
  name: 'native-from-node-modules',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => ({ path: relative(`${root}node_modules`, `${args.resolveDir}/${args.path}`), external: true }));
  },
};

await build({
  absWorkingDir: root,
  entryPoints: ['app/cli/main.ts'],
  outfile: process.argv[2] ?? 'dist/cli/tunnelvision.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ASCII only (esbuild's default, kept explicit): the bin reads the file as latin1, with no UTF-8 decoding.
  charset: 'ascii',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  // cpu-features is only a native binding behind a require.
  external: ['cpu-features'],
  plugins: [nativeFromNodeModules],
  // nativeCrypto.ts resolves ssh2's internals with createRequire(import.meta.url), which CommonJS lacks.
  define: { 'import.meta.url': '__tvImportMetaUrl' },
  banner: { js: "const __tvImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
