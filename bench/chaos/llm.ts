/**
 * The chaos run's LLM: the tests' fake OpenAI server (test/support/fakeOpenAI.ts) with its
 * failure knobs turned on: 5% 500s, 5% invalid answers (a link to a page never fetched, which the
 * validator must catch and feed back), and bursts of 429 with Retry-After.
 */
import { startFakeOpenAI } from "../../test/support/fakeOpenAI";

export interface ChaosLlmOptions {
  errorRate: number;
  invalidRate: number;
  /** A burst of `burst` 429s after every `every` requests. */
  rateLimitEvery: number;
  rateLimitBurst: number;
  seed: number;
}

export interface ChaosLlm {
  baseUrl: string;
  stats(): Record<string, number>;
  close(): Promise<void>;
}

export async function startChaosLlm(opts: ChaosLlmOptions): Promise<ChaosLlm> {
  const fake = await startFakeOpenAI({
    failRate: opts.errorRate,
    invalidRate: opts.invalidRate,
    rateLimitEvery: opts.rateLimitEvery,
    rateLimitBurst: opts.rateLimitBurst,
    retryAfterSeconds: 1,
    seed: opts.seed,
  });
  return {
    baseUrl: fake.url,
    stats() {
      const by: Record<string, number> = { total: fake.chatCount };
      for (const r of fake.requests) {
        const a = r.answered ?? "?";
        // "500" for scripted statuses; the other kinds get the names the table uses.
        const k = a === "valid" ? "ok" : a === "unknownLinks" ? "invalid" : a === "rateLimit" ? "429" : a;
        by[k] = (by[k] ?? 0) + 1;
      }
      return by;
    },
    close: () => fake.close(),
  };
}
