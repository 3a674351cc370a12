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
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';

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

// ssh2's index builds its HTTP(S) agents at load, which loads node:http, node:https and node:tls
// (about 20 ms of every start) for a feature Tunnelvision never uses. This entry is ssh2's own
// index with those two behind getters; everything else is the same objects.
const ssh2LazyAgents = {
  name: 'ssh2-lazy-http-agents',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'tv-ssh2' }));
    b.onLoad({ filter: /.*/, namespace: 'tv-ssh2' }, async () => {
      const index = join(root, 'node_modules/ssh2/lib/index.js');
      const source = await readFile(index, 'utf8');
      const eager = /const \{\s*SSHTTPAgent: HTTPAgent,\s*SSHTTPSAgent: HTTPSAgent,\s*\} = require\('\.\/http-agents\.js'\);\n/;
      const exported = /\n {2}HTTPAgent,\n {2}HTTPSAgent,\n/;
      if (!eager.test(source) || !exported.test(source)) return { errors: [{ text: `${index} no longer has the shape this build rewrites; update ssh2LazyAgents in scripts/build-cli.mjs` }] };
      const contents = source
        .replace(eager, '')
        .replace(exported, "\n  get HTTPAgent() { return require('./http-agents.js').SSHTTPAgent; },\n  get HTTPSAgent() { return require('./http-agents.js').SSHTTPSAgent; },\n");
      return { contents, loader: 'js', resolveDir: dirname(index) };
    });
  },
};

// The bundle runs inside vm.Script (see bin/tunnelvision.js), where import() has no module loader:
// a dynamic import that esbuild leaves in place (a Node built-in, an external) would reject at run time.
const noExternalDynamicImport = {
  name: 'no-external-dynamic-import',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.kind === 'dynamic-import' ? { errors: [{ text: `import('${args.path}') cannot run in the bundled CLI: use process.getBuiltinModule() or a static import` }] } : undefined,
    );
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
  plugins: [noExternalDynamicImport, nativeFromNodeModules, ssh2LazyAgents],
  // nativeCrypto.ts resolves ssh2's internals with createRequire(import.meta.url), which CommonJS lacks.
  define: { 'import.meta.url': '__tvImportMetaUrl' },
  banner: { js: "const __tvImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
