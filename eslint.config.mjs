// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'jest.config.js',
      'eslint.config.mjs',
      '.node-ci/',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Errors of unknown type are passed through as they are, never wrapped blindly.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Type-only imports say so, and vanish from the build. With decorator metadata on, the rule
      // leaves imports that decorated classes' metadata needs as values. `typeof import('x')` stays
      // allowed: optional peers (ioredis, amqplib, ...) are loaded lazily and typed that way.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
    },
  },
  {
    // Plain Node scripts outside the TypeScript project (deploy/kibana, the dependency-cruiser
    // config): lint without types.
    files: ['**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: Object.fromEntries(
        [
          'console',
          'process',
          'Buffer',
          'URL',
          'fetch',
          'FormData',
          'Blob',
          'AbortSignal',
          'setTimeout',
          'module',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
