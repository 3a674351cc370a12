// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // CommonJS preloads (test fixtures run with node --require) can only use require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The core runs in Node, in the CLI and in Electron's utility process alike: never in Electron's main.
    files: ['app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'app/ is Electron-free: put Electron glue in main/.' }],
        patterns: [{ group: ['electron/*', '**/main/**', '**/renderer/**'], message: 'app/ may not depend on main/ or renderer/.' }],
      }],
    },
  },
  {
    // The renderer is a sandboxed web page: it reaches the engine only through the typed contract.
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeBuiltins.map((name) => ({ name, message: 'renderer/ may not use Node built-ins.' })),
          { name: 'ssh2', message: 'renderer/ talks to the engine only through the typed contract.' },
          { name: 'electron', message: 'renderer/ talks to main only through the preload contract.' },
        ],
        patterns: [{ group: ['**/app/engine/**', '**/main/**'], message: 'renderer/ may import only app/shared contract types.' }],
      }],
    },
  },
);
