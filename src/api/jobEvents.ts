/**
 * Fans one QueueEvents stream out to the SSE requests that watch single jobs. QueueEvents holds a
 * blocking XREAD connection, so the API opens exactly one per queue and process (made by the root,
 * closed by it), never one per request: 1,000 watchers cost one connection and a Map lookup per
 * event instead of 1,000 connections.
 */
import type { QueueEvents } from "bullmq";

export type JobEventName =
  "active" | "progress" | "completed" | "failed" | "delayed" | "waiting" | "removed" | "stalled";

export interface JobEvent {
  name: JobEventName;
  jobId: string;
  /** The progress payload for "progress", the failed reason for "failed"; else undefined. */
  data?: unknown;
}

export type JobEventListener = (event: JobEvent) => void;

export interface JobEventHub {
  /** Calls listener with every event of this job until the returned function is called. */
  subscribe(jobId: string, listener: JobEventListener): () => void;
  /** How many listeners are attached (for tests and metrics). */
  size(): number;
  /** Detaches from the QueueEvents (the root closes the QueueEvents itself). */
  detach(): void;
}

const FORWARDED: readonly JobEventName[] = [
  "active",
  "progress",
  "completed",
  "failed",
  "delayed",
  "waiting",
  "removed",
  "stalled",
];

/** One hub over the QueueEvents of every queue whose jobs are watched (job ids don't collide across them). */
export function createJobEventHub(queueEvents: QueueEvents | QueueEvents[]): JobEventHub {
  const sources = Array.isArray(queueEvents) ? queueEvents : [queueEvents];
  const listeners = new Map<string, Set<JobEventListener>>();
  const dispatch = (event: JobEvent): void => {
    const set = listeners.get(event.jobId);
    if (!set) return;
    for (const fn of [...set]) fn(event);
  };
  const handlers = FORWARDED.map((name) => {
    const handler = (args: { jobId: string; data?: unknown; failedReason?: string }): void =>
      dispatch({ name, jobId: args.jobId, data: name === "failed" ? args.failedReason : args.data });
    // QueueEvents' listener types differ per event; all of ours read only jobId and one payload.
    for (const source of sources) source.on(name, handler);
    return { name, handler };
  });
  let count = 0;
  return {
    subscribe(jobId, listener) {
      let set = listeners.get(jobId);
      if (!set) listeners.set(jobId, (set = new Set()));
      set.add(listener);
      count++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        count--;
        set.delete(listener);
        if (set.size === 0) listeners.delete(jobId);
      };
    },
    size: () => count,
    detach() {
      for (const { name, handler } of handlers) for (const source of sources) source.off(name, handler);
      listeners.clear();
      count = 0;
    },
  };
}
