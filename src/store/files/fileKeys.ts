/**
 * The key of every file the result store writes, in one place:
 *
 *   <prefix>/sites/<siteKey>/<saveId>/llms.txt.gz        the version's llms.txt
 *   <prefix>/sites/<siteKey>/<saveId>/llms-full.txt.gz   its llms-full.txt
 *   <prefix>/sites/<siteKey>/<saveId>/pages.json.gz      its page records (URL, status, hash …)
 *   <prefix>/sites/<siteKey>/<saveId>/content.json.gz    its included pages' markdown (change detection)
 *
 * prefix and siteKey are percent-encoded (a site key may hold "/" and ":"). A saveId is new for
 * every save, so a save never overwrites a file a reader may be streaming: it writes new keys,
 * then one Redis script points the metadata at them.
 */
import { randomBytes } from "node:crypto";

export const VERSION_FILES = ["llms.txt", "llms-full.txt", "pages.json", "content.json"] as const;
export type VersionFileName = (typeof VERSION_FILES)[number];

const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);

export interface FileKeys {
  /** Everything this Redis prefix owns. */
  root: string;
  site(siteKey: string): string;
  save(siteKey: string, saveId: string): string;
  file(siteKey: string, saveId: string, name: VersionFileName): string;
  /** The site key and save id of a key under root, or null for a key this layout does not make. */
  parse(key: string): { siteKey: string; saveId: string } | null;
}

export function fileKeys(prefix: string): FileKeys {
  const root = `${enc(prefix)}/sites/`;
  const site = (siteKey: string): string => `${root}${enc(siteKey)}/`;
  const save = (siteKey: string, saveId: string): string => `${site(siteKey)}${saveId}/`;
  return {
    root,
    site,
    save,
    file: (siteKey, saveId, name) => `${save(siteKey, saveId)}${name}.gz`,
    parse(key) {
      if (!key.startsWith(root)) return null;
      const [s, saveId] = key.slice(root.length).split("/");
      if (s === undefined || saveId === undefined) return null;
      try {
        return { siteKey: decodeURIComponent(s), saveId };
      } catch {
        return null;
      }
    },
  };
}

/** Sorts by time (base36 ms), then random: two saves of one site never collide. */
export function newSaveId(now = Date.now()): string {
  return `${now.toString(36)}-${randomBytes(6).toString("hex")}`;
}
