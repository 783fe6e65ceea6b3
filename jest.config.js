/** @type {import('jest').Config} */
module.exports = {
  // jest's node environment plus the leak check: a test file that leaves a server, socket, child
  // process or timer open fails.
  testEnvironment: "<rootDir>/test/support/leakCheckEnvironment.js",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    // isolatedModules: ts-jest only transpiles; `npm test` runs `tsc --noEmit` for the types.
    "^.+\\.(ts|js|mjs)$": [
      "ts-jest",
      {
        tsconfig: {
          allowJs: true,
          module: "commonjs",
          moduleResolution: "node10",
          ignoreDeprecations: "6.0",
          isolatedModules: true,
          esModuleInterop: true,
        },
      },
    ],
  },
  // jsdom 29 pulls in a few ESM-only packages that jest's CommonJS loader can't require.
  transformIgnorePatterns: [
    "/node_modules/(?!(@asamuzakjp|@csstools|parse5|entities|whatwg-url|tr46|webidl-conversions|data-urls|html-encoding-sniffer|@exodus|cssstyle|decimal\\.js)/)",
  ],
  moduleFileExtensions: ["ts", "js", "mjs", "cjs", "json", "node"],
  testTimeout: 60000,
  maxWorkers: 2,
};
