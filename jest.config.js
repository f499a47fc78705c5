/** Jest configuration: @swc/jest transpiles TypeScript (type-checking is a separate `tsc --noEmit` step). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  testTimeout: 30000,
  // Integration suites each start their own redis-server; two workers suit a 2-core machine.
  maxWorkers: 2,
  verbose: false,
};
