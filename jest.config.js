/** @type {import('jest').Config} */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
  },
  module: { type: 'commonjs' },
};

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', swc] },
  // @nestjs/* 12 and cockatiel 4 ship ESM only: let swc turn them into CommonJS too.
  transformIgnorePatterns: [],
  testTimeout: 15000,
  // One worker per core: most suites wait on loopback servers and short timers, not the CPU.
  // Jest's default keeps a core for its main thread, which is a single worker on 2 cores.
  maxWorkers: '100%',
};
