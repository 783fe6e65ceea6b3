/*
 * Links: each page once, in one language, generated listings kept out of the primary sections.
 */
import type { Detector, LinkRef } from "./types";
import { linkWarning } from "./types";

// URL shapes of source views and generated listings, by generator:
//   Sphinx      _modules/ (viewcode), _sources/, genindex, py-modindex, search.html
//   javadoc     class-use/, src-html/, package-tree, overview-tree, allclasses*, allpackages*,
//               index-all, index-files/, deprecated-list, constant-values, serialized-form, help-doc
//   rustdoc     src/ (source views), all.html / all-items
//   Doxygen     *_source.html, globals*.html, functions*.html, namespacemembers*, files.html, *-members.html
//   any site    search pages
const LISTING_PATH = [
  /\/(_modules|_sources|src-html|class-use|index-files|src)\//,
  /\/(package-tree|overview-tree|tree|allclasses[-\w]*|allpackages[-\w]*|all-?items|all|index-all|deprecated-list|constant-values|serialized-form|help-doc|genindex[-\w]*|py-modindex|modindex|search|files|annotated|hierarchy|classes|namespacemembers[-\w]*|globals[-\w]*|functions[-\w]*)\.html?$/i,
  /[-_](tree|source|members)\.html?$/i,
];
// Page names of the same listings, for sites whose URLs say nothing (Texinfo's "Concept-Index.html"
// is a node like any other): indexes, search, "All Classes", "Uses of Class X", "Source code for x".
const LISTING_NAME = [
  /^((general|python module|module|concept|function|variable|type|program|keystroke|command|option|symbol|subject|data type|macro)\s+)?ind(ex|ices|exes)$/i,
  /^index of\b/i,
  /^(search|search page|search results)$/i,
  /^all (classes|packages|modules|items|functions|files|symbols)\b/i,
  /^((class|package|module|type) (tree|hierarchy)|hierarchy for\b)/i,
  /^uses of (class|package|interface|enum)\b/i,
  /^(deprecated list|constant field values|serialized form)$/i,
  /^source (code )?(for|of)\b/i,
  /\bsource file$/i,
  /^(file list|file members|globals|class index|class list|class members|data structure index|data fields|namespace members)$/i,
];

export function isGeneratedListing(link: { url: string; title: string }): boolean {
  let path = "";
  try {
    path = new URL(link.url).pathname;
  } catch {
    return false;
  }
  return LISTING_PATH.some((re) => re.test(path)) || LISTING_NAME.some((re) => re.test(link.title.trim()));
}

/** generated-listing: a source view or generated index among the primary (non-Optional) links. */
export const generatedListing: Detector = ({ links }) => {
  const hits = links.filter((l) => !l.optional && isGeneratedListing(l));
  return linkWarning(
    "generated-listing",
    hits,
    `${hits.length} primary links are source views or generated listings: move them to Optional or leave them out`,
  );
};

/**
 * duplicate-link: the same page twice: equal URLs once "dir/" and "dir/index.html", host case,
 * default ports and encoded parentheses are folded (fragments are kept: a single-page manual's
 * chapters are different links).
 */
export const duplicateLink: Detector = ({ links }) => {
  const seen = new Set<string>();
  const hits: LinkRef[] = [];
  for (const l of links) {
    const key = pageKey(l.url);
    if (seen.has(key)) hits.push(l);
    else seen.add(key);
  }
  return linkWarning(
    "duplicate-link",
    hits,
    `${hits.length} links point to a page already listed: list each page once`,
  );
};

function pageKey(raw: string): string {
  try {
    const u = new URL(raw.replace(/%28/gi, "(").replace(/%29/gi, ")"));
    u.pathname = u.pathname.replace(/\/index\.x?html?$/i, "/");
    return u.href;
  } catch {
    return raw;
  }
}
