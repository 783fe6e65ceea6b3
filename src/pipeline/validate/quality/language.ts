/*
 * mixed-language: links of more than one language in one file. Caught from the URL, in the
 * shapes multilingual sites use, and from the text itself:
 *   - parallel trees: a language-code directory at the same depth ("/en/intro.html", "/de/intro.html")
 *   - file-name suffixes: the same document with different codes ("user.en.html", "user.fr.html")
 *   - scripts: link names and notes written in different scripts (Latin beside Japanese or Cyrillic)
 */
import type { Detector, LinkRef } from "./types";
import { linkWarning } from "./types";

// ISO 639-1 codes of languages documentation is translated into. Common English words that are
// also codes ("is", "to", "am", "be", "he", "me", "my", "no", "so", "we") are left out.
const CODES = new Set(
  "ar bg bn ca cs cy da de el en eo es et eu fa fi fr ga gl gu he hi hr hu hy id it ja ka kk km kn ko ku lt lv mk ml mn mr ms nb ne nl nn pa pl pt ro ru si sk sl sq sr sv sw ta te th tl tr ug uk ur uz vi zh".split(
    " ",
  ),
);
const LANG_TAG = /^([a-z]{2})(?:[_-]([a-z]{2}|[a-z]{4}|\d{3}))?$/i;
const SUFFIXED_FILE = /^(.+?)[._-]([a-z]{2}(?:[_-][a-z]{2})?)\.(?:x?html?|txt|md)$/i;

function langOf(tag: string): string | null {
  const m = LANG_TAG.exec(tag);
  const code = m?.[1]?.toLowerCase();
  return code && CODES.has(code) ? code : null;
}

/** Where a URL says its language: "dir:<depth>" or "file:<base>", and the code. */
function urlLanguage(url: string): { key: string; lang: string } | null {
  let parts: string[];
  try {
    parts = new URL(url).pathname.split("/").filter(Boolean);
  } catch {
    return null;
  }
  for (let i = 0; i < parts.length - 1; i++) {
    const lang = langOf(parts[i] ?? "");
    if (lang) return { key: `dir:${i}`, lang };
  }
  const file = SUFFIXED_FILE.exec(parts[parts.length - 1] ?? "");
  const lang = file ? langOf(file[2] ?? "") : null;
  return file && lang ? { key: `file:${parts.slice(0, -1).join("/")}/${file[1]}`, lang } : null;
}

const SCRIPTS: [string, RegExp][] = [
  ["Latin", /\p{Script=Latin}/gu],
  ["Cyrillic", /\p{Script=Cyrillic}/gu],
  ["Greek", /\p{Script=Greek}/gu],
  ["CJK", /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu],
  ["Arabic", /\p{Script=Arabic}/gu],
  ["Hebrew", /\p{Script=Hebrew}/gu],
  ["Thai", /\p{Script=Thai}/gu],
];

/** The script most of a text's letters are in (a Japanese note with a Latin API name is CJK). */
function scriptOf(text: string): string | null {
  let best: string | null = null;
  let bestCount = 0;
  for (const [name, re] of SCRIPTS) {
    // Latin counts for less: identifiers and product names are Latin in every language.
    const n = (text.match(re) ?? []).length * (name === "Latin" ? 0.25 : 1);
    if (n > bestCount) [best, bestCount] = [name, n];
  }
  return best;
}

export const mixedLanguage: Detector = ({ links }) => {
  const byUrl = minorityByUrl(links);
  const hits = byUrl ?? minorityByScript(links);
  if (!hits) return null;
  return linkWarning(
    "mixed-language",
    hits.links,
    `links in ${hits.langs.length} languages (${hits.langs.join(", ")}): keep the start page's language, ${hits.links.length} links are in others`,
  );
};

interface Minority {
  langs: string[];
  links: LinkRef[];
}

function minorityByUrl(links: LinkRef[]): Minority | null {
  const byKey = new Map<string, Map<string, LinkRef[]>>();
  for (const l of links) {
    const found = urlLanguage(l.url);
    if (!found) continue;
    const langs = byKey.get(found.key) ?? new Map<string, LinkRef[]>();
    langs.set(found.lang, [...(langs.get(found.lang) ?? []), l]);
    byKey.set(found.key, langs);
  }
  // Suffixed files count once per language across all documents, so "a.en + b.fr" shows too.
  const merged = new Map<string, LinkRef[]>();
  for (const [key, langs] of byKey)
    if (key.startsWith("file:") || langs.size >= 2)
      for (const [lang, ls] of langs) merged.set(lang, [...(merged.get(lang) ?? []), ...ls]);
  return minority(merged);
}

function minorityByScript(links: LinkRef[]): Minority | null {
  const byScript = new Map<string, LinkRef[]>();
  for (const l of links) {
    const script = scriptOf(`${l.title} ${l.notes ?? ""}`);
    if (script) byScript.set(script, [...(byScript.get(script) ?? []), l]);
  }
  const m = minority(byScript);
  // A stray foreign word or two is not a second language.
  return m && m.links.length >= Math.max(2, links.length * 0.05) ? m : null;
}

/** With two or more languages, the links outside the largest one. */
function minority(groups: Map<string, LinkRef[]>): Minority | null {
  if (groups.size < 2) return null;
  const sorted = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  return {
    langs: sorted.map(([lang]) => lang),
    links: sorted
      .slice(1)
      .flatMap(([, ls]) => ls)
      .sort((a, b) => a.line - b.line),
  };
}
