/**
 * The leak check (test/support/leakCheckEnvironment.js) fails a test file that leaves a server
 * open, though every test in it passed (every other file of the suite is the clean case). Runs jest on a fixture in a
 * child process (--forceExit: the leaked server would keep that jest alive).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(__dirname, "../..");

function runJest(testMatch: string) {
  const res = spawnSync(
    process.execPath,
    [require.resolve("jest/bin/jest"), "--config", "jest.config.js", "--testMatch", testMatch, "--forceExit", "--ci"],
    { cwd: root, encoding: "utf8", timeout: 60_000, env: { ...process.env, FORCE_COLOR: "0" } },
  );
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

test("a file that leaves a server open fails, naming what it left", () => {
  const leaky = runJest("<rootDir>/test/fixtures/leaky/*.fixture.ts");
  expect(leaky.output).toMatch(/left open by this test file: 1 × TCPServerWrap/);
  expect(leaky.output).toMatch(/Tests:\s+1 passed/);
  expect(leaky.status).toBe(1);
});
