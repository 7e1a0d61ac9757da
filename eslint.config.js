// ESLint (flat config): @eslint/js and typescript-eslint recommended (syntax only, no type information: fast)
// over the TypeScript and the Node scripts. assembly/ is AssemblyScript, not TypeScript that eslint understands.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'wasm/', 'node_modules/', 'coverage/', 'assembly/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,js,mjs}'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      // `const { dropped, ...kept } = object` omits keys on purpose; `_name` marks a deliberately unused binding
      '@typescript-eslint/no-unused-vars': [
        'error',
        { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // the control characters in regexes are the point: ANSI colour codes stripped, C0/C1 characters escaped
      'no-control-regex': 'off',
    },
  },
  {
    // tests and benchmarks read the CLI's parsed --json output field by field as Record<string, any>
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
