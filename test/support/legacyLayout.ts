/**
 * Writes a site the way ltx did before the FileStore: the save script and field layout of the
 * older src/store/results.ts, copied as they were (files in the latest hash, llms.txt inside each
 * gzip'd version entry), so the upgrade test starts from exactly what such a Redis holds.
 */
import { gzipSync } from "node:zlib";
import type { Redis } from "ioredis";
import type { Page, PipelineResult } from "../../src/pipeline/types";
import { etagOf } from "../../src/store/results";

const OLD_SAVE_SCRIPT = `
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
local fields = {}
for i = 4, #ARGV - 1 do fields[#fields + 1] = ARGV[i] end
redis.call('HDEL', KEYS[1], 'content')
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('HSET', KEYS[2], tostring(version), ARGV[#ARGV])
local oldest = version - tonumber(ARGV[1])
if oldest > 0 then
  for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
    if tonumber(f) <= oldest then redis.call('HDEL', KEYS[2], f) end
  end
end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return version
`;

export async function legacySave(
  redis: Redis,
  prefix: string,
  input: { siteKey: string; url: string; jobId: string; result: PipelineResult; content?: Page[]; maxVersions: number },
): Promise<number> {
  const { result } = input;
  const generatedAtMs = Date.parse(result.generatedAt);
  const files = {
    "llms.txt": { bytes: Buffer.byteLength(result.llmsTxt), etag: etagOf(result.llmsTxt) },
    "llms-full.txt": { bytes: Buffer.byteLength(result.llmsFullTxt), etag: etagOf(result.llmsFullTxt) },
  };
  const stored = {
    siteKey: input.siteKey,
    url: input.url,
    jobId: input.jobId,
    generatedAt: result.generatedAt,
    provider: result.provider,
    model: result.model,
    fallback: result.fallback,
    attempts: result.attempts,
    usage: result.usage,
    warnings: result.warnings,
    quality: result.quality,
    timings: result.timings,
    pages: result.pages,
    files,
  };
  const summary = {
    jobId: input.jobId,
    generatedAt: result.generatedAt,
    provider: result.provider,
    model: result.model,
    fallback: result.fallback,
    pagesIncluded: result.pages.filter((p) => p.skipReason === undefined).length,
    bytes: files["llms.txt"].bytes,
    etag: files["llms.txt"].etag,
    llmsTxt: result.llmsTxt,
    quality: result.quality,
  };
  const fields: Array<string | Buffer> = [
    "txt",
    result.llmsTxt,
    "full",
    result.llmsFullTxt,
    "txtEtag",
    files["llms.txt"].etag,
    "fullEtag",
    files["llms-full.txt"].etag,
    "lastModified",
    new Date(generatedAtMs).toUTCString(),
    "meta",
    JSON.stringify(stored),
    "checkedAt",
    result.generatedAt,
    "checkedBy",
    input.jobId,
    "quality",
    JSON.stringify(result.quality),
  ];
  if (input.content) fields.push("content", gzipSync(JSON.stringify(input.content)));
  return Number(
    await redis.eval(
      OLD_SAVE_SCRIPT,
      3,
      `${prefix}:site:${input.siteKey}:latest`,
      `${prefix}:site:${input.siteKey}:versions`,
      `${prefix}:sites`,
      String(input.maxVersions),
      input.siteKey,
      String(generatedAtMs),
      ...fields,
      gzipSync(JSON.stringify(summary)),
    ),
  );
}
