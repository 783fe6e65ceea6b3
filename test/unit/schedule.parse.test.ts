import { InputError } from "../../src/lib/errors";
import { DAY, HOUR, MINUTE, SECOND } from "../../src/lib/time";
import { backoffIntervalMs, describeSchedule, nominalIntervalMs, parseSchedule } from "../../src/websites/schedule";

describe("parseSchedule", () => {
  test.each([
    ["30s", 30 * SECOND],
    ["15m", 15 * MINUTE],
    ["6h", 6 * HOUR],
    ["1d", DAY],
    [1, SECOND],
    [3600, HOUR],
    ["90", 90 * SECOND],
  ])("every %p → %p ms", (every, ms) => {
    expect(parseSchedule({ every }, DAY)).toEqual({ every: ms });
  });

  test("neither every nor cron → the default interval", () => {
    expect(parseSchedule({}, 6 * HOUR)).toEqual({ every: 6 * HOUR });
  });

  test("cron with a time zone", () => {
    expect(parseSchedule({ cron: "0 3 * * *", tz: "Europe/Berlin" }, DAY)).toEqual({
      pattern: "0 3 * * *",
      tz: "Europe/Berlin",
    });
    expect(nominalIntervalMs({ pattern: "0 */6 * * *" })).toBe(6 * HOUR);
  });

  test.each([
    [{ every: "0s" }, /from 1 s to 366 days/],
    [{ every: 0.5 }, /from 1 s to 366 days/],
    [{ every: 1e308 }, /from 1 s to 366 days/],
    [{ every: "367d" }, /from 1 s to 366 days/],
    [{ every: 366 * 86_400 + 1 }, /from 1 s to 366 days/],
    [{ every: "soon" }, /invalid every/],
    [{ every: "1d", cron: "* * * * *" }, /not both/],
    [{ cron: "every day" }, /invalid cron/],
    [{ cron: "0 3 * * *", tz: "Mars/Olympus" }, /unknown time zone/],
    [{ every: "1h", tz: "UTC" }, /only applies to a cron/],
  ])("rejects %p", (input, message) => {
    expect(() => parseSchedule(input, DAY)).toThrow(InputError);
    expect(() => parseSchedule(input, DAY)).toThrow(message);
  });

  test("describe", () => {
    expect(describeSchedule({ every: 6 * HOUR })).toBe("every 6h");
    expect(describeSchedule({ pattern: "0 3 * * *", tz: "UTC" })).toBe("cron 0 3 * * * (UTC)");
  });
});

describe("backoffIntervalMs", () => {
  const settings = { backoffAfter: 3 };
  test("normal schedule below the threshold, then doubling per failure", () => {
    const s = { every: MINUTE };
    expect(backoffIntervalMs(s, 2, settings)).toBeUndefined();
    expect(backoffIntervalMs(s, 3, settings)).toBe(2 * MINUTE);
    expect(backoffIntervalMs(s, 4, settings)).toBe(4 * MINUTE);
    expect(backoffIntervalMs(s, 5, settings)).toBe(8 * MINUTE);
  });
  test("capped at 16× the base for short intervals", () => {
    expect(backoffIntervalMs({ every: MINUTE }, 50, settings)).toBe(16 * MINUTE);
  });
  test("capped at 7 days for long intervals, never below the base", () => {
    expect(backoffIntervalMs({ every: DAY }, 5, settings)).toBe(7 * DAY); // 8 d → 7 d
    expect(backoffIntervalMs({ every: 10 * DAY }, 5, settings)).toBe(10 * DAY);
  });
  test("a cron schedule stretches from the gap between its firings", () => {
    expect(backoffIntervalMs({ pattern: "0 * * * *" }, 3, settings)).toBe(2 * HOUR);
  });
});
