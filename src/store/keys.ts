/**
 * Every Redis key the store writes, in one place. All keys start with the configured prefix, so
 * a prefix carrying a {hash tag} puts a site's keys in one Cluster slot (the save script writes
 * several of them at once) and tests can use a fresh prefix each.
 *
 *   <p>:site:<siteKey>:latest    hash  txt, full, txtEtag, fullEtag, lastModified, meta (JSON),
 *                                      content (gzip JSON of the included pages), version,
 *                                      checkedAt
 *   <p>:site:<siteKey>:versions  hash  <n> → gzip JSON { summary, llmsTxt, changes? }, capped
 *   <p>:sites                    zset  siteKey → generatedAt (ms): every site with a result
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
