import { createShutdown, installSignalHandlers } from "../../src/lib/shutdown";
import { keyPrefix } from "../../src/queues/connection";

describe("shutdown registry", () => {
  it("closes in reverse order of registration, once, and runs every step even when one fails", async () => {
    const shutdown = createShutdown();
    const order: string[] = [];
    shutdown.add("redis", () => void order.push("redis"));
    shutdown.add("queues", async () => {
      order.push("queues");
      throw new Error("queue close failed");
    });
    shutdown.add("worker", async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push("worker");
    });
    const a = shutdown.run("test");
    const b = shutdown.run("again");
    expect(a).toBe(b);
    await a;
    expect(order).toEqual(["worker", "queues", "redis"]);
    expect(shutdown.started).toBe(true);
  });

  it("a signal runs the registry then exits 0; a second signal exits at once; the deadline exits 1", async () => {
    const exits: number[] = [];
    const shutdown = createShutdown();
    let release!: () => void;
    shutdown.add("slow", () => new Promise<void>((r) => (release = r)));
    const remove = installSignalHandlers(shutdown, {
      deadlineMs: 100,
      signals: ["SIGUSR2"],
      exit: (c) => exits.push(c),
    });
    try {
      process.emit("SIGUSR2", "SIGUSR2");
      process.emit("SIGUSR2", "SIGUSR2");
      expect(exits).toEqual([128 + 12]);
      await new Promise((r) => setTimeout(r, 150));
      expect(exits).toEqual([140, 1]);
      release();
      await shutdown.run("x");
      await new Promise((r) => setImmediate(r));
      expect(exits).toEqual([140, 1, 0]);
    } finally {
      remove();
    }
  });
});

describe("keyPrefix", () => {
  it("accepts plain prefixes and Redis Cluster hash tags, rejects ones that would break keys", () => {
    expect(keyPrefix("ltx")).toBe("ltx");
    expect(keyPrefix("{ltx}")).toBe("{ltx}");
    expect(keyPrefix("prod-{ltx}")).toBe("prod-{ltx}");
    for (const bad of ["", "ltx:", "a b", "{}x", "{ltx"]) expect(() => keyPrefix(bad)).toThrow(/REDIS_PREFIX/);
  });
});
