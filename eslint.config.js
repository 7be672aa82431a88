// Lint: typescript-eslint's strict, type-checked rules for the TypeScript (sources and tests), and
// ESLint's recommended rules for the plain JavaScript (bin/, benchmarks/, scripts, test helpers).
// Formatting is Prettier's (`npm run lint` checks it), so no stylistic rules here.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'build/',
      'node_modules/',
      'prebuilds/',
      'coverage/',
      'test-artifacts/',
      'native/',
      'test/fixtures/',
    ],
  },
  js.configs.recommended,
  {
    // Prettier wraps code at 120 but leaves long strings and comments alone: this catches those.
    // URLs stay whole (a split URL cannot be copied); long strings are split with + instead.
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: { 'max-len': ['error', { code: 120, ignoreUrls: true }] },
  },
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // With noUncheckedIndexedAccess, `a[i]!` inside a loop bounded by a.length is the house idiom:
      // the index is known to be in range, and a runtime check there would only hide real bugs.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Numbers and booleans in messages are what error texts and logs are made of.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `() => void x()` in arrow callbacks is fine; returning a void call is not confusing here.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Messages join numbers into strings ('pid ' + pid) all the time.
      '@typescript-eslint/restrict-plus-operands': ['error', { allowNumberAndString: true }],
      // Values typed as present often come from the addon, /proc or JSON, where the types describe
      // the good case: the checks this rule calls unnecessary are the ones that keep a bad reading
      // from becoming a crash. Types alone cannot prove those away here.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Methods stay async where an interface or a caller expects a promise (and a throw to reject).
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }] },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
