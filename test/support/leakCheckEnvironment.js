/**
 * The leak check: jest's node environment, plus a look at the process's live handles once a test
 * file has finished (after its last afterAll). Whatever it opened and left open — a server, a
 * socket (an ioredis client, a BullMQ worker), a child process (a redis-server), a timer that
 * keeps the process alive — fails the file, named by kind. A leak would otherwise show up only as
 * jest's "a worker process has failed to exit gracefully", with no file to blame, or as the next
 * file's flake. Unref'd timers don't count: they can't keep anything alive.
 *
 * LEAK_TRACE=1 also records where each handle was made (async_hooks, slower) and prints the
 * stacks of the ones left open.
 */
const { createHook } = require("node:async_hooks");
const { TestEnvironment } = require("jest-environment-node");

/** How long closed handles get to finish closing (a socket's FIN, a child's exit) before we look. */
const SETTLE_MS = 200;
const TRACED = new Set(["TCPWRAP", "TCPSERVERWRAP", "PROCESSWRAP", "Timeout", "PIPEWRAP", "TLSWRAP"]);

function countKinds(kinds) {
  const counts = new Map();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

class LeakCheckEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
    this.traces = new Map();
    if (process.env.LEAK_TRACE === "1") {
      this.hook = createHook({
        init: (id, type, _trigger, resource) => {
          if (TRACED.has(type)) this.traces.set(id, { type, resource, stack: new Error().stack });
        },
        destroy: (id) => this.traces.delete(id),
      });
    }
  }

  async handleTestEvent(event, state) {
    if (event.name === "setup") {
      this.baseline = countKinds(process.getActiveResourcesInfo());
      this.hook?.enable();
    }
    if (event.name !== "run_finish") return;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS).unref());
    const now = countKinds(process.getActiveResourcesInfo());
    const leaked = [];
    for (const [kind, n] of now) {
      const extra = n - (this.baseline.get(kind) ?? 0);
      if (extra > 0) leaked.push(`${extra} × ${kind}`);
    }
    this.hook?.disable();
    if (leaked.length === 0) return;
    const stacks = [...this.traces.values()]
      .filter((t) => t.type !== "Timeout" || (t.resource.hasRef?.() && !t.resource._destroyed))
      .map((t) => `${t.type}\n${t.stack}`)
      .join("\n\n");
    state.unhandledErrors.push(
      new Error(
        `left open by this test file: ${leaked.join(", ")} (close servers, clients, workers and child processes ` +
          `in afterAll, clear timers; LEAK_TRACE=1 shows where they were made)${stacks ? `\n\n${stacks}` : ""}`,
      ),
    );
  }
}

module.exports = LeakCheckEnvironment;
