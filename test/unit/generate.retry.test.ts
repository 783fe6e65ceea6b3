/*
 * generateLlmsTxt's loop: invalid LLM answers are retried with the validator's issues in the next
 * prompt; after the limit the extractive result is used and the result says so; rate limits and
 * aborts propagate; a site of JavaScript shells is refused instead of indexed empty.
 */
import { AbortedError, RateLimitedError } from "../../src/lib/errors";
import { createProvider, generateLlmsTxt } from "../../src/pipeline/generate";
import { buildExtractiveDoc } from "../../src/pipeline/generate/extractive";
import { renderLlmsTxt } from "../../src/pipeline/render";
import type { Provider } from "../../src/pipeline/types";
import { validateLlmsTxt } from "../../src/pipeline/validate/format";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fakeOpenAI";
import { makePage, makeSite } from "../support/pages";

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.setOptions({ onRequest: undefined, latencyMs: 0, invalidRate: 0, failRate: 0 });
});

const site = makeSite("https://docs.example.com/");
const u = (path: string): string => `https://docs.example.com${path}`;
const pages = [
  makePage(u("/"), { title: "Home | Acme", description: "Acme builds fast widgets." }),
  makePage(u("/guide/install"), { title: "Install | Acme" }),
  makePage(u("/guide/usage"), { title: "Usage | Acme" }),
  makePage(u("/privacy"), { title: "Privacy | Acme" }),
];
const pageUrls = new Set(pages.map((p) => p.url));

function openai(): Provider {
  return createProvider({
    provider: "openai",
    apiKey: "sk-test",
    baseUrl: fake.url,
    model: "fake-mini",
    tokenBudget: 8000,
    timeoutMs: 5000,
  });
}

const run = (provider: Provider, attempts = 3, signal?: AbortSignal) =>
  generateLlmsTxt({ site, pages, provider, attempts, retryDelayMs: 0, signal });

describe("generateLlmsTxt", () => {
  it("retries an answer that links an unfetched page, with the validator's issue in the next prompt", async () => {
    fake.script({ kind: "unknownLinks" });
    const result = await run(openai());
    expect(result).toMatchObject({ attempts: 2, fallback: false, provider: "openai" });
    expect(result.llmsTxt).not.toContain("this-page-was-never-fetched");
    expect(fake.requests.map((r) => r.hasFeedback)).toEqual([false, true]);
    const second = fake.requests[1]!.prompt;
    expect(second).toContain("[link-not-fetched]");
    expect(second).toContain(`${u("/this-page-was-never-fetched")} is not one of the fetched pages`);
    expect(result.usage.requests).toBe(2);
  });

  it("feeds ltx check's warnings on a rejected answer back with its errors", async () => {
    // Rejected for an unfetched page, and no link has a note: the retry hears about both.
    fake.script({
      kind: "content",
      content: JSON.stringify({
        title: "Acme",
        summary: "Acme builds fast widgets.",
        sections: [
          {
            name: "Docs",
            links: [
              { page: "p1", title: "Install", note: "" },
              { page: "p2", title: "Usage", note: "" },
              { url: u("/never-fetched"), title: "Invented", note: "" },
            ],
          },
        ],
      }),
    });
    const result = await run(openai());
    expect(result).toMatchObject({ attempts: 2, fallback: false });
    const second = fake.requests[1]!.prompt;
    expect(second).toContain("[link-not-fetched]");
    expect(second).toContain("[missing-notes]");
  });

  it("retries an answer that is not JSON, saying so in the next prompt", async () => {
    fake.script({ kind: "badJson" });
    const result = await run(openai());
    expect(result).toMatchObject({ attempts: 2, fallback: false });
    expect(fake.requests[1]!.prompt).toContain("[invalid-answer] the answer was not valid JSON");
    // The failed try's tokens still count.
    expect(result.usage.requests).toBe(2);
  });

  it("falls back to the extractive llms.txt after the last invalid answer, and says so", async () => {
    fake.setOptions({ invalidRate: 1 });
    const result = await run(openai(), 3);
    expect(fake.chatCount).toBe(3);
    expect(fake.requests.map((r) => r.hasFeedback)).toEqual([false, true, true]);
    expect(result).toMatchObject({ provider: "openai", model: "fake-mini", attempts: 3, fallback: true });
    expect(result.llmsTxt).toBe(renderLlmsTxt(buildExtractiveDoc(site, pages)));
    expect(validateLlmsTxt(result.llmsTxt, { site, pageUrls })).toEqual([]);
    expect(result.warnings.join("\n")).toMatch(
      /not used after 3 tries .*link-not-fetched|not used after 3 tries .*not one of the fetched pages/,
    );
    expect(result.warnings.join("\n")).toContain("extractive llms.txt was used instead");
    expect(result.usage.requests).toBe(3);
  });

  it("falls back after repeated server errors", async () => {
    fake.setOptions({ failRate: 1 });
    const result = await run(openai(), 2);
    expect(fake.chatCount).toBe(2);
    expect(result).toMatchObject({ attempts: 2, fallback: true });
    expect(result.warnings.join("\n")).toContain("500");
  });

  it("falls back at once when retrying can't help (bad API key)", async () => {
    fake.setOptions({
      onRequest: () => ({ kind: "status", status: 401, body: { error: { message: "Incorrect API key provided" } } }),
    });
    const result = await run(openai(), 3);
    expect(fake.chatCount).toBe(1);
    expect(result).toMatchObject({ attempts: 1, fallback: true });
  });

  it("lets a 429 propagate instead of falling back, so the queue can pause", async () => {
    fake.setOptions({ rateLimitEvery: 1, retryAfterSeconds: 3 });
    try {
      const err = await run(openai()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitedError);
      expect((err as RateLimitedError).retryAfterMs).toBe(3000);
      expect(fake.chatCount).toBe(1);
    } finally {
      fake.setOptions({ rateLimitEvery: 0 });
    }
  });

  it("stops with AbortedError when the signal fires during a call", async () => {
    fake.setOptions({ latencyMs: 5000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("cancelled by the user")), 100);
    await expect(run(openai(), 3, controller.signal)).rejects.toBeInstanceOf(AbortedError);
    expect(fake.chatCount).toBe(1);
  });

  it("makes no LLM call with the extractive provider", async () => {
    const result = await run(
      createProvider({ provider: "extractive", model: "unused", tokenBudget: 1000, timeoutMs: 1000 }),
    );
    expect(fake.chatCount).toBe(0);
    expect(result).toMatchObject({
      provider: "extractive",
      model: null,
      attempts: 0,
      fallback: false,
      usage: { requests: 0 },
    });
  });

  it("drops duplicate and off-site pages instead of failing validation on them", async () => {
    const odd = [...pages, { ...pages[1]! }, makePage("https://elsewhere.example.org/x")];
    const result = await generateLlmsTxt({
      site,
      pages: odd,
      provider: createProvider({ provider: "extractive", model: "unused", tokenBudget: 1000, timeoutMs: 1000 }),
      attempts: 1,
    });
    expect(validateLlmsTxt(result.llmsTxt, { site, pageUrls })).toEqual([]);
    expect(result.warnings).toEqual([
      "2 page(s) were duplicates or outside https://docs.example.com/ and were not linked",
    ]);
  });

  it("refuses a site of JavaScript shells instead of indexing it, but accepts a few thin pages", async () => {
    const shells = pages.map((p, i) => ({ ...p, thin: i > 0 }));
    await expect(generateLlmsTxt({ site, pages: shells, provider: openai(), attempts: 3 })).rejects.toMatchObject({
      code: "NO_CONTENT",
      retryable: false,
      message: expect.stringContaining("browser"),
    });
    expect(fake.chatCount).toBe(0);
    await expect(generateLlmsTxt({ site, pages: [], provider: openai(), attempts: 3 })).rejects.toMatchObject({
      code: "NO_CONTENT",
    });

    const halfThin = pages.map((p, i) => ({ ...p, thin: i >= 2 }));
    const result = await generateLlmsTxt({ site, pages: halfThin, provider: openai(), attempts: 1 });
    expect(result.fallback).toBe(false);
    expect(result.llmsTxt).toContain(u("/privacy"));
  });
});
