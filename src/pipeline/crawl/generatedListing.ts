/*
 * Source views and generated listings: pages a documentation generator writes next to the manual
 * (source code rendered as HTML, indexes of every symbol, trees of every class, search and error
 * pages). They are real pages, but a reader starts from the guides, so under a page budget they
 * are fetched last. Known by URL alone, before anything is fetched; each rule names its shape.
 */
import type { Site } from "../types";

/** Directories that hold source views or symbol listings, anywhere below the site's prefix. */
const LISTING_DIRS = new Set([
  "_modules", // Sphinx viewcode: module source as HTML
  "_sources", // Sphinx: each page's reStructuredText source
  "src", // rustdoc: crate source as HTML
  "src-html", // javadoc -linksource: class source as HTML
  "class-use", // javadoc: "Uses of Class X" listings
  "index-files", // javadoc: split alphabetical index
  "search", // MkDocs, Doxygen: search index and result pages
]);

/** File names (without .html/.htm) of generated listings. */
const LISTING_FILES = new Set([
  "genindex", // Sphinx general index
  "py-modindex", // Sphinx module index
  "search", // Sphinx, MkDocs search page
  "404", // Sphinx, MkDocs, Asciidoctor error page
  "index-all", // javadoc single alphabetical index
  "allclasses",
  "allclasses-frame",
  "allclasses-noframe",
  "allclasses-index",
  "allpackages-index",
  "all-classes",
  "all", // rustdoc "all items"
  "overview-tree", // javadoc class hierarchy
  "package-tree",
  "package-use",
  "tree",
  "deprecated-list",
  "constant-values",
  "serialized-form",
  "files", // Doxygen file list
  "globals", // Doxygen globals index
  "functions", // Doxygen members index
  "annotated", // Doxygen class list
  "hierarchy", // Doxygen class hierarchy
  "namespacemembers",
]);

/** File-name patterns of generated listings (the part before .html). */
const LISTING_PATTERNS: readonly RegExp[] = [
  /^genindex-/, // Sphinx: one general-index page per letter
  /_source$/, // Doxygen: *_8h_source.html source views
  /^(globals|functions|namespacemembers)_/, // Doxygen: per-letter or per-kind member indexes
  /^dir_[0-9a-f]{16,}$/, // Doxygen: directory listings named by hash
  /-tree$/, // javadoc: package-tree, per-package trees
  /-(use|frame|summary-frame)$/, // javadoc: package-use, frame lists
  /(^|-)(concept|function|variable|type|program|key|option|command)s?-index$/i, // Texinfo index nodes
  /^index-[a-z_]$/i, // javadoc split index index-1 / alphabetical index-a pages
  /^index-\d+$/,
];

/** True when url (on site) is a source view or generated listing, by its path below the prefix. */
export function isGeneratedListing(site: Site, url: string): boolean {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return false;
  }
  const below = path.startsWith(site.prefix) ? path.slice(site.prefix.length) : path;
  const segments = below.split("/").filter(Boolean);
  const file = segments.length > 0 && !below.endsWith("/") ? (segments.pop() ?? "") : "";
  if (segments.some((d) => LISTING_DIRS.has(d))) return true;
  const name = file.replace(/\.(x?html?|php|aspx?)$/i, "");
  if (name === "" || name === file) return false;
  return LISTING_FILES.has(name.toLowerCase()) || LISTING_PATTERNS.some((p) => p.test(name));
}
