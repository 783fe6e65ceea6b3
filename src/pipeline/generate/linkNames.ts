/*
 * Link names without the part of the title the site puts on every page. Generators join the
 * page's name and the site's in one title, with a separator or in parentheses:
 *   - Sphinx / MkDocs: "Install — Proj 3.4.1 documentation", "Install - Proj";
 *   - javadoc:         "StringUtils (Commons Lang 2.6 API)";
 *   - Texinfo:         "Patterns (Lexical Analysis With Flex)";
 *   - hand-written:    "Proj: Encoder", "Intro | Site".
 * A part is shared when at least 3 titles and a quarter of them carry it (the checker's
 * shared-affix rule); it is then cut from every title that has it, so names are consistent.
 */
import { norm } from "./text";

const SUFFIX_AT = /\s+(?:[—–|·»:-]|::)\s+|\s+(?=\([^()]+\)$)/g;
const PREFIX_END = /^(.+?)(?:\s+(?:[—–|·»-]|::)\s+|:\s+)/;
const MAX_ROUNDS = 3;

interface Affix {
  kind: "prefix" | "suffix";
  text: string;
}

function affixesOf(name: string): Affix[] {
  const out: Affix[] = [];
  for (const m of name.matchAll(SUFFIX_AT))
    if (m.index !== undefined && m.index > 0) out.push({ kind: "suffix", text: name.slice(m.index) });
  const p = PREFIX_END.exec(name);
  if (p && p[0].length < name.length) out.push({ kind: "prefix", text: p[0] });
  return out;
}

/** The most common shared affix of the titles, or undefined when none is shared enough. */
function topAffix(titles: string[], need: number): Affix | undefined {
  const counts = new Map<string, { affix: Affix; n: number }>();
  for (const t of titles) {
    const seen = new Set<string>();
    for (const a of affixesOf(t)) {
      const key = `${a.kind}:${a.text}`;
      if (seen.has(key) || !/\p{L}/u.test(a.text)) continue;
      seen.add(key);
      const c = counts.get(key) ?? { affix: a, n: 0 };
      c.n++;
      counts.set(key, c);
    }
  }
  const best = [...counts.values()]
    .filter((c) => c.n >= need)
    .sort((a, b) => b.n - a.n || b.affix.text.length - a.affix.text.length)[0];
  return best?.affix;
}

function cut(title: string, a: Affix): string {
  if (a.kind === "suffix" && title.endsWith(a.text) && title.length > a.text.length)
    return title.slice(0, -a.text.length).trim();
  if (a.kind === "prefix" && title.startsWith(a.text) && title.length > a.text.length)
    return title.slice(a.text.length).trim();
  return title;
}

/** The titles with every shared prefix/suffix cut (see the top of the file). */
export function stripSharedAffixes(titles: string[]): string[] {
  let out = titles.map((t) => t.replace(/\s+/g, " ").trim());
  const need = Math.max(3, Math.ceil(out.length / 4));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const a = topAffix(out, need);
    if (!a) break;
    out = out.map((t) => cut(t, a));
  }
  return out;
}

/**
 * The shared parts themselves, most common first, without separators and parentheses:
 * "(Commons Lang 2.6 API)" → "Commons Lang 2.6 API". They are where a site writes its name.
 */
export function sharedTitleParts(titles: string[]): string[] {
  const clean = titles.map((t) => t.replace(/\s+/g, " ").trim()).filter(Boolean);
  if (clean.length < 3) return [];
  const need = Math.max(3, Math.ceil(clean.length / 2));
  const parts: string[] = [];
  let rest = clean;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const a = topAffix(rest, need);
    if (!a) break;
    const core = a.text
      .replace(/^\s*(?:[—–|·»:-]|::)\s*|\s*(?:[—–|·»:-]|::)\s*$/g, "")
      .replace(/^\s*\((.*)\)\s*$/, "$1")
      .trim();
    if (core && !parts.some((p) => norm(p) === norm(core))) parts.push(core);
    rest = rest.map((t) => cut(t, a));
  }
  return parts;
}
