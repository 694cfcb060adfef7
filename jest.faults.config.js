/** The fault suite (`npm run test:faults`): real processes killed, money stormed at random; see docs/reliability.md. */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/tests/faults'],
  testMatch: ['<rootDir>/tests/faults/**/*.fault.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180_000,
};
