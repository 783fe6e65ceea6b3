/*
 * Versions of a website are the result store's capped history of its site (one entry per run that
 * changed the files). What this module adds is the change summary of each version against the one
 * before it: computed once when a version is saved (withChangeSummaries wraps the worker's store),
 * and on read for versions saved without one while their predecessor is still kept.
 */
import { summarizeChanges, type ChangeSummary } from "../pipeline/diff";
import { coerceError } from "../lib/coerceError";
import type { Logger } from "../lib/logger";
import type { ResultStore, StoredVersion, VersionChanges, VersionSummary } from "../store/results";

export interface VersionView extends Omit<VersionSummary, "changes"> {
  /** Against the previous version; null for the oldest kept version when it has no summary. */
  changes: ChangeSummary | null;
}

/** The store, with save() filling in `changes` from the site's current llms.txt. */
export function withChangeSummaries(store: ResultStore, logger?: Logger): ResultStore {
  return {
    ...store,
    async save(input) {
      if (input.changes !== undefined) return store.save(input);
      let changes: VersionChanges | undefined;
      try {
        const previous = await store.readFile(input.siteKey, "llms.txt");
        changes = summarizeChanges(previous?.body, input.result.llmsTxt) as unknown as VersionChanges;
      } catch (e) {
        // A summary is a nicety; never lose a result over it.
        logger?.warn({ err: coerceError(e), siteKey: input.siteKey }, "change summary failed");
      }
      return store.save(changes ? { ...input, changes } : input);
    },
  };
}

/** Kept versions, newest first, each with its change summary. */
export async function listVersions(store: ResultStore, siteKey: string): Promise<VersionView[]> {
  const list = await store.listVersions(siteKey);
  const out: VersionView[] = [];
  for (const v of list) {
    const { changes, ...rest } = v;
    out.push({
      ...rest,
      changes: (changes as ChangeSummary | undefined) ?? (await summaryOnRead(store, siteKey, v.version)),
    });
  }
  return out;
}

export async function getVersion(
  store: ResultStore,
  siteKey: string,
  n: number,
): Promise<(Omit<StoredVersion, "changes"> & { changes: ChangeSummary | null }) | null> {
  const v = await store.getVersion(siteKey, n);
  if (!v) return null;
  const { changes, ...rest } = v;
  return {
    ...rest,
    changes: (changes as ChangeSummary | undefined) ?? (await summaryOnRead(store, siteKey, n, v.llmsTxt)),
  };
}

async function summaryOnRead(
  store: ResultStore,
  siteKey: string,
  n: number,
  text?: string,
): Promise<ChangeSummary | null> {
  const prev = n > 1 ? await store.getVersion(siteKey, n - 1) : null;
  if (n > 1 && !prev) return null; // its predecessor was pruned: we can't tell what changed
  const body = text ?? (await store.getVersion(siteKey, n))?.llmsTxt;
  return body === undefined ? null : summarizeChanges(prev?.llmsTxt, body);
}
