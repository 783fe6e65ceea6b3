/**
 * Every Redis key the store writes, in one place. All keys start with the configured prefix, so
 * a prefix carrying a {hash tag} puts a site's keys in one Cluster slot (the save script writes
 * several of them at once) and tests can use a fresh prefix each.
 *
 *   <p>:site:<siteKey>:latest    hash  version, meta (JSON, without page records), files (JSON:
 *                                      the save id holding the latest files, their stored and
 *                                      plain sizes, ETags), lastModified, checkedAt, checkedBy, quality
 *   <p>:site:<siteKey>:versions  hash  <n> → gzip JSON { summary, changes?, files }, capped
 *   <p>:sites                    zset  siteKey → generatedAt (ms): every site with a result
 *   <p>:files:upgrade-lock       string  held while one process moves files an older ltx kept in
 *                                      Redis (txt, full, content fields; llmsTxt in versions) out
 *
 * The files themselves are in the FileStore (files/fileKeys.ts).
 */
export interface StoreKeys {
  latest(siteKey: string): string;
  versions(siteKey: string): string;
  sites: string;
}

export function storeKeys(prefix: string): StoreKeys {
  return {
    latest: (siteKey) => `${prefix}:site:${siteKey}:latest`,
    versions: (siteKey) => `${prefix}:site:${siteKey}:versions`,
    sites: `${prefix}:sites`,
  };
}
