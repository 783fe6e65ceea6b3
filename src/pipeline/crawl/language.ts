/*
 * One language per llms.txt: the start page's. Other-language copies of the manual are skipped
 * before they are fetched where the URL says so, and after, where the page's own `lang` does.
 * Shapes handled:
 * - parallel language trees, `/en/…` `/de/…` `/pt_BR/…` (DocBook, Sphinx and MkDocs i18n builds):
 *   when the start URL has a language segment, any other language code in that same segment;
 * - file-name suffixes, `guide.en.html` / `guide.de.html` (Apache content negotiation,
 *   Asciidoctor builds) or `guide_en.html`: when the start URL's file has one, the same form
 *   with another code;
 * - a second language nested in the first (`/japanese/`, `/ja_JP.eucJP/`), start URL unmarked:
 *   a segment that is unmistakably a language (a language's English name, or a locale with a
 *   region) and not the start page's;
 * - `<link rel=alternate hreflang>` of any page: the alternates in other languages;
 * - any fetched page whose `lang` differs from the start page's (primary subtags compared).
 * A bare two-letter directory is a language only when the start URL shows the pattern: `io/`,
 * `ml/`, `ts/` are code words far more often than Ido, Malayalam or Tsonga.
 */
const CODES = new Set(
  "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu".split(
    " ",
  ),
);

/** English names of the languages documentation is most often translated into. */
const NAMES: Record<string, string> = {
  english: "en",
  japanese: "ja",
  german: "de",
  deutsch: "de",
  french: "fr",
  francais: "fr",
  spanish: "es",
  espanol: "es",
  italian: "it",
  portuguese: "pt",
  russian: "ru",
  chinese: "zh",
  korean: "ko",
  dutch: "nl",
  polish: "pl",
  czech: "cs",
  swedish: "sv",
  danish: "da",
  finnish: "fi",
  norwegian: "no",
  greek: "el",
  turkish: "tr",
  hungarian: "hu",
  romanian: "ro",
  ukrainian: "uk",
  vietnamese: "vi",
  indonesian: "id",
  catalan: "ca",
  serbian: "sr",
  arabic: "ar",
  hebrew: "he",
};

/** "pt_BR", "zh-CN", "ja_JP.eucJP", "de" → { code, region? }; undefined if not a language tag. */
function parseTag(token: string): { code: string; region: boolean } | undefined {
  const m = /^([a-z]{2})(?:[-_]([a-z]{2}|[A-Z]{2}|hans|hant|Hans|Hant))?(?:\.[\w-]+)?$/.exec(token);
  if (!m || !CODES.has(m[1] as string)) return undefined;
  return { code: m[1] as string, region: m[2] !== undefined };
}

/** The primary language subtag of a `lang` value ("en-US" → "en"), or undefined. */
export function primaryLanguage(lang: string | undefined): string | undefined {
  const p = (lang ?? "").trim().toLowerCase().split(/[-_]/)[0] ?? "";
  return CODES.has(p) ? p : /^[a-z]{3}$/.test(p) && p !== "und" && p !== "mul" ? p : undefined;
}

type Slot = { kind: "segment"; index: number } | { kind: "suffix"; sep: "." | "_" };

interface Token {
  code: string;
  slot: Slot;
  /** Unmistakable without the start URL's pattern: a language name or a locale with a region. */
  sure: boolean;
}

const SUFFIX = /^(.+?)([._])([a-z]{2}(?:[-_][A-Za-z]{2})?)\.(x?html?|php|md|txt)$/;

/** The language tokens of a path below the site's prefix. */
function tokensOf(below: string): Token[] {
  const segments = below.split("/");
  const out: Token[] = [];
  segments.forEach((seg, index) => {
    const last = index === segments.length - 1;
    if (last) {
      const m = SUFFIX.exec(seg);
      const tag = m ? parseTag(m[3] as string) : undefined;
      if (m && tag) out.push({ code: tag.code, slot: { kind: "suffix", sep: m[2] as "." | "_" }, sure: false });
      return;
    }
    const named = NAMES[seg.toLowerCase()];
    if (named) {
      out.push({ code: named, slot: { kind: "segment", index }, sure: true });
      return;
    }
    const tag = parseTag(seg);
    if (tag) out.push({ code: tag.code, slot: { kind: "segment", index }, sure: tag.region });
  });
  return out;
}

const sameSlot = (a: Slot, b: Slot): boolean =>
  a.kind === "segment" ? b.kind === "segment" && a.index === b.index : b.kind === "suffix" && a.sep === b.sep;

/** The start page's language and where its URL marks it; decides which other URLs are other-language. */
export class SiteLanguage {
  private readonly startTokens: Token[];
  private lang: string | undefined;
  /** Alternates (hreflang) in other languages, seen on any page. */
  private readonly alternates = new Set<string>();

  constructor(
    private readonly prefix: string,
    startUrl: string,
  ) {
    this.startTokens = tokensOf(this.below(startUrl) ?? "");
  }

  /** The start page's language: its `lang`, else the one its URL names. */
  get language(): string | undefined {
    return this.lang ?? this.startTokens[0]?.code;
  }

  /** Called with the start page's `lang` once it is extracted. */
  setStartLang(lang: string | undefined): void {
    this.lang = primaryLanguage(lang);
  }

  /** A page's hreflang alternates: those in another language are never fetched. */
  addAlternates(alternates: readonly { hreflang: string; href: string }[]): void {
    const mine = this.language;
    if (mine === undefined) return;
    for (const a of alternates) {
      const l = primaryLanguage(a.hreflang);
      if (l !== undefined && l !== mine) this.alternates.add(a.href);
    }
  }

  /**
   * Why a URL is in another language, judged by the URL alone ("de", "hreflang alternate");
   * undefined when it may be in the start page's.
   */
  otherByUrl(url: string): string | undefined {
    if (this.alternates.has(url)) return "hreflang alternate";
    const below = this.below(url);
    if (below === undefined) return undefined;
    const mine = new Set([...this.startTokens.map((t) => t.code), ...(this.lang ? [this.lang] : [])]);
    for (const t of tokensOf(below)) {
      if (mine.has(t.code)) continue;
      if (t.sure || this.startTokens.some((s) => sameSlot(s.slot, t.slot))) return t.code;
    }
    return undefined;
  }

  /** The other language a fetched page declares, when both it and the start page declare one. */
  otherByLang(lang: string | undefined): string | undefined {
    const mine = this.lang;
    const theirs = primaryLanguage(lang);
    return mine !== undefined && theirs !== undefined && theirs !== mine ? theirs : undefined;
  }

  private below(url: string): string | undefined {
    let path: string;
    try {
      path = decodeURIComponent(new URL(url).pathname);
    } catch {
      return undefined;
    }
    return path.startsWith(this.prefix) ? path.slice(this.prefix.length) : undefined;
  }
}
