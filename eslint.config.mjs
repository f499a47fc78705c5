import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'var/', 'coverage/', 'test/artifacts/', 'gateway/public/vendor/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['rules/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../*', 'node:*', 'fs', 'net', 'http', 'https', 'child_process', 'ioredis', 'bullmq', 'express', 'nodemailer', 'mailparser', 'twilio', 'winston'], message: 'rules/ is pure: it imports nothing outside rules/ and does no I/O.' }] }],
    },
  },
  { files: ['bench/**/*.ts', 'test/**/*.ts', 'bin/**/*.ts'], rules: { 'no-console': 'off' } },
);
