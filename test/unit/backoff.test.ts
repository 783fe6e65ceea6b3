import { backoffStrategy, cappedBackoff } from "../../src/queues/backoff";

describe("cappedBackoff", () => {
  it("waits 60 s, then doubles per attempt, and never more than an hour", () => {
    const base = 60_000;
    const max = 3_600_000;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => cappedBackoff(n, base, max))).toEqual([
      60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000,
    ]);
    expect(cappedBackoff(1000, base, max)).toBe(max);
  });

  it("treats attempt 0 or less like the first retry and scales with RETRY_BASE_DELAY_MS", () => {
    expect(cappedBackoff(0, 100, 1000)).toBe(100);
    expect(cappedBackoff(3, 100, 1000)).toBe(400);
    expect(cappedBackoff(5, 100, 1000)).toBe(1000);
  });

  it("is what the worker's backoffStrategy returns for the catalog's 'capped' type", async () => {
    const strategy = backoffStrategy(60_000, 3_600_000);
    expect(await strategy(1, "capped")).toBe(60_000);
    expect(await strategy(4, "capped")).toBe(480_000);
    expect(await strategy(20, "capped")).toBe(3_600_000);
  });
});
