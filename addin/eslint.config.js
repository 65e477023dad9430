// ESLint for the add-in's JavaScript (flat config): the pane's modules in
// src/ (browser), the host stand-in of the tests (a browser script), and the
// tests themselves (Node). The rules are eslint-plugin-office-addins'
// recommended set (ESLint's recommended rules and Office.js usage rules).
// The linting tools are installed with the test tools in tests/ (one
// package.json, one `npm ci`), so they are loaded from there.
// `cargo xtask test` runs it here: `node tests/node_modules/eslint/bin/eslint.js .`.

import { createRequire } from 'node:module';

const require = createRequire(new URL('./tests/package.json', import.meta.url));
const officeAddins = require('eslint-plugin-office-addins');
const globals = require('globals');

export default [
  {
    ignores: ['tests/node_modules/**', 'tests/artifacts/**', 'tools/**'],
  },
  ...officeAddins.configs.recommended,
  {
    rules: {
      // The plugin's set also runs Prettier as a rule; the add-in follows the
      // project's own layout (STYLE.md), not Prettier's, so that one is off.
      'prettier/prettier': 'off',
    },
  },
  {
    files: ['src/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.browser } },
  },
  {
    files: ['tests/support/office-host.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    files: ['tests/**/*.mjs', 'eslint.config.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
  },
  {
    // Functions that the tests send into the page run there, with its globals.
    files: ['tests/**/*.mjs'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
];
