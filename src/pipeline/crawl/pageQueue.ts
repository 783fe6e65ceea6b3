/*
 * The crawl's queue, in the order a page budget should be spent (the site's own structure first):
 *   1. pages linked from the site, nearest the start page first, each depth in the order its links
 *      appear (the navigation's order, as a reader meets it);
 *   2. pages only a sitemap names: a sitemap adds URLs, it says nothing about which matter;
 *   3. source views and generated listings (generatedListing.ts), linked ones first.
 * A URL queued from the sitemap and then found by a link moves up to where the link puts it.
 * Entries that moved are left behind in their old bucket and skipped when reached.
 */
/** One queued URL: depth from the start page (0), and seq, its place in discovery order. */
export interface PageWork {
  url: string;
  depth: number;
  seq: number;
}

export type Tier = 0 | 1 | 2 | 3;

export function tierOf(linked: boolean, listing: boolean): Tier {
  return ((listing ? 2 : 0) + (linked ? 0 : 1)) as Tier;
}

const DEPTHS = 1000;

interface Entry {
  work: PageWork;
  key: number;
}

export class PageQueue {
  private readonly buckets = new Map<number, { items: Entry[]; head: number }>();
  private readonly queued = new Map<string, Entry>();
  private keys: number[] = [];

  get length(): number {
    return this.queued.size;
  }

  has(url: string): boolean {
    return this.queued.has(url);
  }

  static keyOf(tier: Tier, depth: number): number {
    return tier * DEPTHS + Math.min(depth, DEPTHS - 1);
  }

  /** Queues work at (tier, depth); true when it was queued or moved up. */
  push(work: PageWork, tier: Tier): boolean {
    const key = PageQueue.keyOf(tier, work.depth);
    const old = this.queued.get(work.url);
    if (old && old.key <= key) return false;
    const entry = { work, key };
    this.queued.set(work.url, entry);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { items: [], head: 0 };
      this.buckets.set(key, bucket);
      this.keys = [...this.keys, key].sort((a, b) => a - b);
    }
    bucket.items.push(entry);
    return true;
  }

  /** The tier of the next entry, or undefined when empty. */
  peekTier(): Tier | undefined {
    const e = this.first(false);
    return e === undefined ? undefined : (Math.floor(e.key / DEPTHS) as Tier);
  }

  shift(): { work: PageWork; tier: Tier } | undefined {
    const e = this.first(true);
    return e === undefined ? undefined : { work: e.work, tier: Math.floor(e.key / DEPTHS) as Tier };
  }

  /** The key of the last entry (the worst), or undefined when empty. */
  worstKey(): number | undefined {
    for (let k = this.keys.length - 1; k >= 0; k--) {
      const key = this.keys[k] as number;
      const b = this.buckets.get(key);
      if (!b) continue;
      // Drop moved entries from the end, so that the last one is live.
      while (b.items.length > b.head) {
        const last = b.items[b.items.length - 1] as Entry;
        if (this.queued.get(last.work.url) === last) break;
        b.items.pop();
      }
      if (b.items.length > b.head) return key;
    }
    return undefined;
  }

  /** Removes and returns the worst entry (the newest of the worst bucket). */
  popWorst(): PageWork | undefined {
    const key = this.worstKey();
    if (key === undefined) return undefined;
    const e = this.buckets.get(key)?.items.pop();
    if (!e) return undefined;
    this.queued.delete(e.work.url);
    return e.work;
  }

  private first(remove: boolean): Entry | undefined {
    while (this.keys.length > 0) {
      const key = this.keys[0] as number;
      const b = this.buckets.get(key);
      if (b) {
        while (b.head < b.items.length) {
          const e = b.items[b.head] as Entry;
          if (this.queued.get(e.work.url) !== e) {
            b.head++;
            continue;
          }
          if (remove) {
            b.head++;
            this.queued.delete(e.work.url);
          }
          return e;
        }
      }
      this.buckets.delete(key);
      this.keys = this.keys.slice(1);
    }
    return undefined;
  }
}
