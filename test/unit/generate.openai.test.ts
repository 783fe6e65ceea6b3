/*
 * The openai provider through the real `openai` client against the fake server on loopback.
 */
import OpenAI from "openai";
import { LlmError, RateLimitedError } from "../../src/lib/errors";
import { generateLlmsTxt } from "../../src/pipeline/generate";
import { createOpenAIProvider, retryAfterMs } from "../../src/pipeline/generate/openai";
import type { Provider } from "../../src/pipeline/types";
import { validateLlmsTxt } from "../../src/pipeline/validate/format";
import { startFakeOpenAI, validAnswer, type FakeOpenAI } from "../support/fakeOpenAI";
import { bigSite, makePage, makeSite } from "../support/pages";

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.setOptions({ onRequest: undefined, latencyMs: 0 });
});

function provider(tokenBudget = 12_000, timeoutMs = 10_000): Provider {
  return createOpenAIProvider({
    apiKey: "sk-test-key-not-real",
    baseUrl: fake.url,
    model: "fake-mini",
    tokenBudget,
    timeoutMs,
  });
}

const site = makeSite("https://docs.example.com/");
const u = (path: string): string => `https://docs.example.com${path}`;
const SECRET_TAIL = "This sentence sits deep in the page and must never reach the model.";
const pages = [
  makePage(u("/"), { title: "Home | Acme", description: "Acme builds fast widgets." }),
  makePage(u("/guide/install"), {
    title: "Install | Acme",
    markdown: `# Install\n\n${"word ".repeat(300)}\n\n${SECRET_TAIL}`,
  }),
  makePage(u("/guide/usage"), { title: "Usage | Acme" }),
  makePage(u("/changelog"), { title: "Changelog | Acme" }),
];

describe("openai provider", () => {
  it("sends compact digests that name pages by id, asks for structured output, and accepts a valid answer", async () => {
    const result = await generateLlmsTxt({ site, pages, provider: provider(), attempts: 3 });
    expect(result).toMatchObject({ provider: "openai", model: "fake-mini", attempts: 1, fallback: false });
    expect(validateLlmsTxt(result.llmsTxt, { site, pageUrls: new Set(pages.map((p) => p.url)) })).toEqual([]);
    expect(result.doc.sections.map((s) => s.name)).toEqual(["Docs", "Guide", "Optional"]);

    expect(fake.chatCount).toBe(1);
    const req = fake.requests[0]!;
    expect(req.headers.authorization).toBe("Bearer sk-test-key-not-real");
    expect(req.body).toMatchObject({
      model: "fake-mini",
      response_format: { type: "json_schema", json_schema: { name: "llms_txt" } },
    });
    expect(req.digests.map((d) => d.url)).toEqual(pages.map((p) => p.url));
    // Pages travel as ids and paths: no URL for the model to copy (or mangle).
    expect(req.digests.map((d) => d.id)).toEqual(["p0", "p1", "p2", "p3"]);
    expect(req.prompt).not.toContain("https://docs.example.com/guide/install");
    expect(req.prompt).not.toContain(SECRET_TAIL);
    // The fake answered with ids; the file has the pages' URLs.
    expect(result.llmsTxt).toContain("(https://docs.example.com/guide/install)");
  });

  it("falls back to plain JSON mode when the server refuses structured output, and stays there", async () => {
    fake.setOptions({
      onRequest: (req) =>
        (req.body?.response_format as { type?: string } | undefined)?.type === "json_schema"
          ? {
              kind: "status",
              status: 400,
              body: { error: { message: "response_format json_schema is not supported" } },
            }
          : undefined,
    });
    const p = provider();
    const first = await generateLlmsTxt({ site, pages, provider: p, attempts: 1 });
    expect(first.fallback).toBe(false);
    const second = await generateLlmsTxt({ site, pages, provider: p, attempts: 1 });
    expect(second.fallback).toBe(false);
    const formats = fake.requests.map((r) => (r.body?.response_format as { type: string }).type);
    expect(formats).toEqual(["json_schema", "json_object", "json_object"]);
  });

  it("feeds an unknown page id back to the model, which fixes it", async () => {
    fake.script({
      kind: "content",
      content: JSON.stringify({
        title: "Acme",
        summary: "Acme builds fast widgets.",
        sections: [{ name: "Docs", links: [{ page: "p99", title: "Invented", note: "A page that is not there." }] }],
      }),
    });
    const result = await generateLlmsTxt({ site, pages, provider: provider(), attempts: 3 });
    expect(result.fallback).toBe(false);
    expect(result.attempts).toBe(2);
    expect(fake.requests[1]?.hasFeedback).toBe(true);
    expect(fake.requests[1]?.prompt).toContain("p99");
  });

  it("records the token usage the server reports", async () => {
    const result = await generateLlmsTxt({ site, pages, provider: provider(), attempts: 1 });
    const promptTokens = Math.ceil(fake.requests[0]!.prompt.length / 4);
    expect(result.usage.requests).toBe(1);
    expect(result.usage.promptTokens).toBe(promptTokens);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.usage.totalTokens).toBe(result.usage.promptTokens + result.usage.completionTokens);
  });

  it("turns a 429 into RateLimitedError with the Retry-After value, without retrying itself", async () => {
    fake.script({ kind: "rateLimit", retryAfterSeconds: 7 });
    const err = await provider()
      .generate({ site, pages })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(7000);
    expect(fake.chatCount).toBe(1);

    fake.script({ kind: "rateLimit", retryAfterMs: 1500, retryAfterSeconds: 2 });
    await expect(provider().generate({ site, pages })).rejects.toMatchObject({
      code: "RATE_LIMITED",
      retryAfterMs: 1500,
    });
  });

  it("reads Retry-After as an HTTP date and defaults when it is missing", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }), now)).toBe(30_000);
    expect(retryAfterMs(new Headers(), now)).toBe(30_000);
    expect(retryAfterMs(new Headers({ "retry-after": "2.5" }), now)).toBe(2500);
  });

  it("maps 5xx and dropped connections to retryable LlmError, and 401 to a final one", async () => {
    fake.script({ kind: "status", status: 503 });
    await expect(provider().generate({ site, pages })).rejects.toMatchObject({ code: "LLM_FAILED", retryable: true });
    fake.script({ kind: "drop" });
    await expect(provider().generate({ site, pages })).rejects.toMatchObject({ code: "LLM_FAILED", retryable: true });
    fake.script({
      kind: "status",
      status: 401,
      body: { error: { message: "Incorrect API key", type: "invalid_request_error" } },
    });
    const err = await provider()
      .generate({ site, pages })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).retryable).toBe(false);
    expect((err as LlmError).message).toContain("401");
  });

  it("times out a slow server with a retryable LlmError", async () => {
    fake.setOptions({ latencyMs: 2000 });
    await expect(provider(12_000, 200).generate({ site, pages })).rejects.toMatchObject({
      code: "LLM_FAILED",
      retryable: true,
    });
  });

  it("adds the pages the model left out under Optional, with a warning", async () => {
    fake.setOptions({
      onRequest: (req) => ({ kind: "content", content: JSON.stringify(validAnswer(req.digests.slice(0, 2))) }),
    });
    const out = await provider().generate({ site, pages });
    const optional = out.doc.sections.find((s) => s.name === "Optional");
    expect(optional?.links.map((l) => l.url)).toEqual([u("/guide/usage"), u("/changelog")]);
    expect(out.warnings).toEqual(['the model left out 2 page(s); they were added under "Optional"']);
  });

  it("fixes near-miss URLs (relative, trailing slash) instead of rejecting them", async () => {
    const answer = {
      title: "Acme",
      summary: "Widgets.",
      sections: [
        {
          name: "Docs",
          links: [
            { url: "/", title: "Home" },
            { url: u("/guide/install/"), title: "Install" },
            { url: "guide/usage", title: "Usage" },
            { url: u("/changelog"), title: "Changelog" },
          ],
        },
      ],
    };
    fake.script({ kind: "content", content: `\`\`\`json\n${JSON.stringify(answer)}\n\`\`\`` });
    const out = await provider().generate({ site, pages });
    expect(out.doc.sections[0]?.links.map((l) => l.url)).toEqual(pages.map((p) => p.url));
  });

  it("batches a big site within the token budget and covers every page once", async () => {
    const { site: big, pages: many } = bigSite(300);
    const budget = 3000;
    const result = await generateLlmsTxt({ site: big, pages: many, provider: provider(budget), attempts: 1 });
    expect(result.fallback).toBe(false);
    expect(fake.chatCount).toBeGreaterThanOrEqual(4);
    expect(result.usage.requests).toBe(fake.chatCount);
    for (const req of fake.requests) expect(Math.ceil(req.prompt.length / 4) + 32).toBeLessThanOrEqual(budget);
    // Every page went to the model exactly once, and every page is linked exactly once.
    const sent = fake.requests.flatMap((r) => r.digests.map((d) => d.url));
    expect(sent).toEqual(many.map((p) => p.url));
    const linked = result.doc.sections.flatMap((s) => s.links.map((l) => l.url));
    expect(linked.sort()).toEqual(many.map((p) => p.url).sort());
    // Batch 1 sees the outline of the whole site; later batches see the sections made so far.
    expect(fake.requests[0]!.prompt).toContain("/api/: ");
    expect(fake.requests[1]!.prompt).toContain('Sections so far: "Docs"');
  });

  it("keeps the model's sections short on a big site, moving the tail to Optional", async () => {
    const { site: big, pages: many } = bigSite(600);
    const result = await generateLlmsTxt({ site: big, pages: many, provider: provider(), attempts: 1 });
    const primary = result.doc.sections.filter((s) => s.name !== "Optional");
    expect(primary.reduce((n, s) => n + s.links.length, 0)).toBeLessThanOrEqual(150);
    for (const s of primary) expect(s.links.length).toBeLessThanOrEqual(25);
    const optional = result.doc.sections.find((s) => s.name === "Optional")!;
    expect(optional.links.some((l) => /^Api: function\d+\(\)$/.test(l.title))).toBe(true);
    expect(result.doc.sections.flatMap((s) => s.links)).toHaveLength(600);
  });

  it("refuses a token budget too small for the instructions", async () => {
    await expect(provider(300).generate({ site, pages })).rejects.toMatchObject({
      code: "LLM_FAILED",
      retryable: false,
    });
    expect(fake.chatCount).toBe(0);
  });
});

describe("fake OpenAI server", () => {
  it("lists its model and plays 429 bursts on schedule, with Retry-After", async () => {
    const client = new OpenAI({ apiKey: "sk-test", baseURL: fake.url, maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["fake-model"]);

    fake.setOptions({ rateLimitEvery: 3, rateLimitBurst: 2, retryAfterSeconds: 4 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const ok = await client.chat.completions
          .create({ model: "m", messages: [{ role: "user", content: "hi" }] })
          .then(
            () => 200,
            (e: unknown) => (e instanceof OpenAI.APIError ? (e.status ?? 0) : 0),
          );
        statuses.push(ok);
      }
      expect(statuses).toEqual([200, 429, 429, 200, 429, 429]);
      expect(fake.requests.map((r) => r.answered)).toEqual([
        "valid",
        "rateLimit",
        "rateLimit",
        "valid",
        "rateLimit",
        "rateLimit",
      ]);
    } finally {
      fake.setOptions({ rateLimitEvery: 0 });
    }
  });
});
