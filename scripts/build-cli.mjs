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
import { join, sep } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

const nativeFromNodeModules = {
  name: 'native-from-node-modules',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => {
      // Taken from the path itself, not from `root`: node_modules may be a symlink elsewhere.
      const file = join(args.resolveDir, args.path).split(sep).join('/');
      const at = file.lastIndexOf('/node_modules/');
      if (at < 0) return { errors: [{ text: `${file}: a native binding outside node_modules cannot be required from the bundle` }] };
      return { path: file.slice(at + '/node_modules/'.length), external: true };
    });
  },
};

await build({
  absWorkingDir: root,
  // Imported rather than bundled as the entry, which would keep its #! line: not valid inside the bin's function wrapper.
  stdin: { contents: "import './app/cli/bin.ts';", resolveDir: root, sourcefile: 'tunnelvision-cli.js' },
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
