/*
 * A fake OpenAI-compatible server on 127.0.0.1:0, driven through the real `openai` client:
 * POST /v1/chat/completions and GET /v1/models. By default it answers every chat request with a
 * valid llms.txt answer built from the page digests in the prompt, with usage.
 *
 * Scripting, first match wins for each chat request:
 *   1. fake.script(reply, …)    the next requests get these replies, in order;
 *   2. opts.onRequest(req)      a per-request hook; return undefined to fall through;
 *   3. opts rates               rateLimitEvery/rateLimitBurst (429 + Retry-After), failRate (500),
 *                               invalidRate (a link to a page that was not fetched), deterministic
 *                               from `seed`;
 *   4. a valid answer.
 * Every request is recorded (fake.requests, fake.chatCount), so tests can assert "no LLM call"
 * or "the feedback reached the model". close() is idempotent.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type FakeReply =
  | { kind: "valid" }
  /** Raw assistant message content. */
  | { kind: "content"; content: string }
  | { kind: "badJson" }
  /** Valid JSON whose first link points at a page that was never fetched. */
  | { kind: "unknownLinks" }
  | { kind: "rateLimit"; retryAfterSeconds?: number; retryAfterMs?: number }
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: unknown }
  /** Close the connection without answering (a network error for the client). */
  | { kind: "drop" };

export interface FakeDigest {
  /** The page id the model answers with ("p3"). */
  id: string;
  path: string;
  /** The page's URL: the prompt's "Site:" origin and the digest's path. */
  url: string;
  title: string;
  desc?: string;
}

export interface FakeRequest {
  /** 1-based count of chat requests (the models route is not counted). */
  index: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: { model?: string; messages?: Array<{ role: string; content: string }>; [k: string]: unknown } | null;
  /** All message contents joined. */
  prompt: string;
  digests: FakeDigest[];
  /** The prompt carries the validator's feedback from a previous try. */
  hasFeedback: boolean;
  /** What was answered: the reply kind, or the status for scripted statuses. */
  answered?: string;
}

export interface FakeOpenAIOptions {
  latencyMs?: number;
  failRate?: number;
  rateLimitEvery?: number;
  rateLimitBurst?: number;
  retryAfterSeconds?: number;
  invalidRate?: number;
  seed?: number;
  model?: string;
  onRequest?: (req: FakeRequest) => FakeReply | undefined | Promise<FakeReply | undefined>;
}

export interface FakeOpenAI {
  /** Base URL for the openai client, ending in /v1. */
  url: string;
  requests: FakeRequest[];
  readonly chatCount: number;
  script(...replies: FakeReply[]): void;
  setOptions(patch: Partial<FakeOpenAIOptions>): void;
  reset(): void;
  close(): Promise<void>;
}

const FEEDBACK_MARK = "Your previous answer failed these checks";
const SECONDARY = /(changelog|release|blog|news|privacy|terms|license|legal)/i;

export async function startFakeOpenAI(initial: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let opts: FakeOpenAIOptions = { ...initial };
  const requests: FakeRequest[] = [];
  const scripted: FakeReply[] = [];
  let chatCount = 0;
  let random = mulberry32(opts.seed ?? 1);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((e: unknown) => {
        if (!res.headersSent)
          sendJson(res, 500, { error: { message: `fake server error: ${String(e)}`, type: "server_error" } });
      });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && path === "/v1/models") {
      return sendJson(res, 200, {
        object: "list",
        data: [{ id: opts.model ?? "fake-model", object: "model", created: 0, owned_by: "ltx-tests" }],
      });
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions")
      return sendJson(res, 404, {
        error: { message: `no route ${req.method} ${path}`, type: "invalid_request_error" },
      });

    const body = parseBody(raw);
    const prompt = (body?.messages ?? []).map((m) => (typeof m.content === "string" ? m.content : "")).join("\n");
    const record: FakeRequest = {
      index: ++chatCount,
      method: req.method,
      path,
      headers: req.headers,
      body,
      prompt,
      digests: parseDigests(prompt),
      hasFeedback: prompt.includes(FEEDBACK_MARK),
    };
    requests.push(record);

    const reply = scripted.shift() ?? (await opts.onRequest?.(record)) ?? ratedReply(record.index);
    record.answered = reply.kind === "status" ? String(reply.status) : reply.kind;
    if (opts.latencyMs && opts.latencyMs > 0) {
      const aborted = await delay(opts.latencyMs, res);
      if (aborted) return;
    }
    send(res, reply, record, body?.model ?? opts.model ?? "fake-model");
  }

  function ratedReply(index: number): FakeReply {
    const every = opts.rateLimitEvery ?? 0;
    const burst = Math.max(1, opts.rateLimitBurst ?? 1);
    if (every > 0 && (index - 1) % every >= every - burst)
      return { kind: "rateLimit", retryAfterSeconds: opts.retryAfterSeconds ?? 1 };
    if (opts.failRate && random() < opts.failRate)
      return {
        kind: "status",
        status: 500,
        body: { error: { message: "the fake server failed on purpose", type: "server_error" } },
      };
    if (opts.invalidRate && random() < opts.invalidRate) return { kind: "unknownLinks" };
    return { kind: "valid" };
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get chatCount() {
      return chatCount;
    },
    script: (...replies) => void scripted.push(...replies),
    setOptions: (patch) => {
      opts = { ...opts, ...patch };
      if (patch.seed !== undefined) random = mulberry32(patch.seed);
    },
    reset: () => {
      requests.length = 0;
      scripted.length = 0;
      chatCount = 0;
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function send(res: http.ServerResponse, reply: FakeReply, req: FakeRequest, model: string): void {
  switch (reply.kind) {
    case "drop":
      res.socket?.destroy();
      return;
    case "status":
      return sendJson(
        res,
        reply.status,
        reply.body ?? { error: { message: `status ${reply.status}`, type: "server_error" } },
        reply.headers,
      );
    case "rateLimit": {
      const headers: Record<string, string> = {};
      if (reply.retryAfterMs !== undefined) headers["retry-after-ms"] = String(reply.retryAfterMs);
      if (reply.retryAfterSeconds !== undefined) headers["retry-after"] = String(reply.retryAfterSeconds);
      return sendJson(
        res,
        429,
        { error: { message: "Rate limit reached (fake)", type: "requests", code: "rate_limit_exceeded" } },
        headers,
      );
    }
    default:
      return sendJson(res, 200, completion(contentFor(reply, req), req, model));
  }
}

function contentFor(reply: FakeReply, req: FakeRequest): string {
  if (reply.kind === "content") return reply.content;
  if (reply.kind === "badJson") return '{"title": "Broken", "sections": [ {"name": "Docs", "links": [';
  const answer = validAnswer(req.digests);
  if (reply.kind === "unknownLinks") {
    const origin = req.digests[0] ? new URL(req.digests[0].url).origin : "http://127.0.0.1";
    answer.sections[0]?.links.unshift({
      url: `${origin}/this-page-was-never-fetched`,
      title: "Invented page",
      note: "A page the model made up.",
    });
  }
  return JSON.stringify(answer);
}

interface Answer {
  title: string;
  summary: string;
  sections: Array<{ name: string; links: Array<{ page?: string; url?: string; title: string; note: string }> }>;
}

/** Groups the digests by first path segment; secondary-looking pages go to "Optional". */
export function validAnswer(digests: FakeDigest[]): Answer {
  const first = digests[0];
  const sections = new Map<string, Answer["sections"][number]>();
  for (const d of digests) {
    const seg = new URL(d.url).pathname.split("/").filter(Boolean)[0] ?? "";
    const name = SECONDARY.test(d.url)
      ? "Optional"
      : seg && new URL(d.url).pathname.split("/").filter(Boolean).length > 1
        ? seg.charAt(0).toUpperCase() + seg.slice(1)
        : "Docs";
    const section = sections.get(name) ?? { name, links: [] };
    sections.set(name, section);
    section.links.push({
      page: d.id,
      title: d.title.split(" | ")[0] ?? d.title,
      note: d.desc ? d.desc.slice(0, 120) : `About ${d.title}.`,
    });
  }
  return {
    title: first ? (first.title.split(" | ").pop() ?? first.title) : "Site",
    summary: first?.desc ?? "A website.",
    sections: [...sections.values()],
  };
}

function completion(content: string, req: FakeRequest, model: string): unknown {
  const promptTokens = Math.ceil(req.prompt.length / 4);
  const completionTokens = Math.ceil(content.length / 4);
  return {
    id: `chatcmpl-fake-${req.index}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      { index: 0, message: { role: "assistant", content, refusal: null }, finish_reason: "stop", logprobs: null },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

function parseDigests(prompt: string): FakeDigest[] {
  const out: FakeDigest[] = [];
  const site = /^Site: (\S+)/m.exec(prompt)?.[1];
  const origin = site ? new URL(site).origin : "http://127.0.0.1";
  for (const line of prompt.split("\n")) {
    if (!line.startsWith('{"id":')) continue;
    try {
      const d = JSON.parse(line) as Omit<FakeDigest, "url">;
      if (typeof d.id === "string" && typeof d.path === "string") out.push({ ...d, url: `${origin}${d.path}` });
    } catch {
      // not a digest line
    }
  }
  return out;
}

function parseBody(raw: string): FakeRequest["body"] {
  try {
    return JSON.parse(raw) as FakeRequest["body"];
  } catch {
    return null;
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-request-id": `req_fake_${Date.now()}`,
    ...headers,
  });
  res.end(text);
}

/** Waits ms; resolves true if the client went away first. */
function delay(ms: number, res: http.ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off("close", onClose);
      resolve(false);
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    res.once("close", onClose);
  });
}

// A tiny seeded PRNG, so failRate/invalidRate runs are repeatable.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
