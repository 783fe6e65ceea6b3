import { readdirSync } from "node:fs";

import { AbortedError, LtxError } from "../../src/lib/errors";
import { createExtractor } from "../../src/pipeline/extract/extract";
import { extractPage } from "../../src/pipeline/extract/extractPage";
import type { ExtractInput, Extractor } from "../../src/pipeline/types";

const para = (i: number): string =>
  `<p>Section ${i} of the reference manual explains one option in detail, with its default value and an example.</p>\n`;

function docPage(n: number, paragraphs = 40): ExtractInput {
  const body = `<!doctype html><html lang="en"><head><title>Page ${n} | Manual</title></head><body>
    <nav><a href="/p${n - 1}.html">prev</a> <a href="/p${n + 1}.html">next</a></nav>
    <main><h1>Page ${n}</h1>${Array.from({ length: paragraphs }, (_, i) => para(i)).join("")}</main></body></html>`;
  return { url: `http://127.0.0.1/manual/p${n}.html`, body, contentType: "text/html" };
}

/** Dense markup (many small elements): the shape that makes jsdom and readability slow and hungry. */
function hugePage(bytes: number): ExtractInput {
  const row = `<div class="row"><span class="k">name</span><a href="/ref/x">reference entry text</a></div>\n`;
  const body = `<html><head><title>Huge</title></head><body><main><h1>Huge</h1>${row.repeat(Math.ceil(bytes / row.length))}</main></body></html>`;
  return { url: "http://127.0.0.1/huge.html", body, contentType: "text/html" };
}

/** OS threads of this process: each worker thread is one, so this shows threads really went away. */
function osThreads(): number {
  return readdirSync("/proc/self/task").length;
}

async function settleWithin<T>(p: Promise<T>, ms: number): Promise<PromiseSettledResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.allSettled([p]).then((r) => r[0] as PromiseSettledResult<T>), hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe("createExtractor", () => {
  let extractor: Extractor | undefined;
  afterEach(async () => {
    await extractor?.close();
    extractor = undefined;
  });

  it("extracts pages on worker threads with the same result as extractPage", async () => {
    extractor = createExtractor({ threads: 2, timeoutMs: 20_000 });
    const inputs = Array.from({ length: 8 }, (_, i) => docPage(i + 1));
    const pages = await Promise.all(inputs.map((input) => extractor!.extract(input)));
    expect(pages.map((p) => p.title)).toEqual(inputs.map((_, i) => `Page ${i + 1}`));
    expect(pages[2]).toEqual(extractPage(inputs[2]!));
    expect(pages[0]!.links).toEqual(["http://127.0.0.1/p0.html", "http://127.0.0.1/p2.html"]);
  });

  it("keeps the main event loop responsive while a heavy page is extracted", async () => {
    extractor = createExtractor({ threads: 1, timeoutMs: 60_000 });
    await extractor.extract(docPage(1)); // thread started: measure only the page itself
    let last = performance.now();
    let worstGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 10);
    const started = performance.now();
    try {
      const page = await extractor.extract(hugePage(150_000));
      expect(page.title).toBe("Huge");
    } finally {
      clearInterval(ticker);
    }
    // The page is slow enough to matter: on the main thread it would block for all of this time,
    // and a BullMQ lock renewal or an HTTP answer would wait for it. The bound is relative to the
    // extraction's own length, so a machine busy with other work (which stretches both) doesn't
    // fail it, while extraction on the main thread (one gap as long as the whole) still does.
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(500);
    expect(worstGap).toBeLessThan(Math.max(400, elapsed / 3));
  });

  it("rejects a page over its time budget with TIMEOUT, and the next page still works", async () => {
    extractor = createExtractor({ threads: 1, timeoutMs: 2_000 });
    await extractor.extract(docPage(1, 2));
    const err = await extractor.extract(hugePage(2_000_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LtxError);
    expect((err as LtxError).code).toBe("TIMEOUT");
    expect((err as LtxError).message).toBe("extraction took longer than 2s");
    const next = await extractor.extract(docPage(2, 2));
    expect(next.title).toBe("Page 2");
  });

  it("settles a 3 MB page within its budget (a result or TIMEOUT), never hangs", async () => {
    extractor = createExtractor({ threads: 1, timeoutMs: 4_000 });
    await extractor.extract(docPage(1, 2));
    const started = performance.now();
    const result = await settleWithin(extractor.extract(hugePage(3_000_000)), 8_000);
    expect(performance.now() - started).toBeLessThan(6_000);
    if (result.status === "rejected") expect((result.reason as LtxError).code).toBe("TIMEOUT");
    else expect(result.value.title).toBe("Huge");
  });

  it("survives a thread that runs out of memory: that page fails, the pool keeps serving", async () => {
    // 72 MB: enough for jsdom and a normal page, not for a 3 MB page of dense markup.
    extractor = createExtractor({ threads: 1, timeoutMs: 30_000, maxHeapMb: 72, maxHtmlBytes: 10_000_000 });
    await extractor.extract(docPage(1, 2));
    const err = await extractor.extract(hugePage(3_000_000)).catch((e: unknown) => e);
    expect((err as LtxError).code).toBe("INTERNAL");
    expect((err as LtxError).message).toMatch(/extraction thread crashed: .*memory/);
    const next = await extractor.extract(docPage(3, 2));
    expect(next.title).toBe("Page 3");
  });

  it("rejects running and queued pages with AbortedError when their signal fires", async () => {
    extractor = createExtractor({ threads: 1, timeoutMs: 30_000 });
    await extractor.extract(docPage(1, 2));
    const running = new AbortController();
    const queued = new AbortController();
    const heavy = extractor.extract(hugePage(1_500_000), running.signal).catch((e: unknown) => e);
    const waiting = extractor.extract(docPage(2, 2), queued.signal).catch((e: unknown) => e);
    queued.abort();
    const started = performance.now();
    running.abort(new Error("job cancelled"));
    expect(await heavy).toBeInstanceOf(AbortedError);
    expect(((await heavy) as Error).message).toBe("job cancelled");
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await waiting).toBeInstanceOf(AbortedError);
    await expect(extractor.extract(docPage(3, 2), AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    expect((await extractor.extract(docPage(4, 2))).title).toBe("Page 4");
  });

  it("close() is idempotent, rejects queued pages and stops every thread", async () => {
    const threadsBefore = osThreads();
    extractor = createExtractor({ threads: 2, timeoutMs: 30_000 });
    await Promise.all([extractor.extract(docPage(1)), extractor.extract(docPage(2))]);
    const pending = [hugePage(1_000_000), docPage(3), docPage(4)].map((p) =>
      extractor!.extract(p).catch((e: unknown) => e),
    );
    expect(osThreads()).toBeGreaterThanOrEqual(threadsBefore + 2);
    const first = extractor.close();
    expect(extractor.close()).toBe(first);
    await first;
    for (const outcome of await Promise.all(pending)) expect(outcome).toBeInstanceOf(AbortedError);
    await expect(extractor.extract(docPage(5))).rejects.toBeInstanceOf(AbortedError);
    expect(osThreads()).toBeLessThanOrEqual(threadsBefore);
    expect(process.getActiveResourcesInfo()).not.toContain("MessagePort");
  });
});
