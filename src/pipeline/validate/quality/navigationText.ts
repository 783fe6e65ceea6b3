/*
 * Does a line of text belong to the site's chrome rather than to a page's content? Shapes caught,
 * none tied to one site:
 *   - Texinfo node headers: "Next: Fonts, Previous: Intro, Up: Top [Contents][Index]"
 *   - bracketed menu words: "[Contents]", "[Index]", "[Top]", "[Prev]"
 *   - breadcrumbs: three or more short parts joined by » › > / | → ←
 *   - alphabet bars of generated indexes: "Symbols | _ | A | B | C …"
 *   - menu rows: several short items joined by "|" or "·", with no sentence among them
 *   - "Skip to content", "Jump to navigation", "Previous topic", "Go to the documentation of this file"
 *   - link-dense text: markdown links or bare URLs making up most of it
 */
const NODE_HEADER = /\b(next|previous|prev|up)\s*:\s*\S/gi;
const MENU_WORD = /\[(contents|index|top|prev|previous|next|up|home|toc)\]/i;
const CHROME_START =
  /^(skip to (main )?content|skip navigation|jump to (navigation|content|search)|(previous|next) (topic|page|chapter|section)\b|go to the (documentation|source code|source) of this file|table of contents$|contents$|navigation$|menu$|search$|home$)/i;
const ALPHABET_BAR = /(^|[\s|])([A-Z_]|Symbols|Non-alphabetical)(\s*\|\s*([A-Z_0-9]|Symbols)){4,}/;
const BREADCRUMB_SEP = /\s(»|›|>|\/|→|←|::)\s/g;
const MARKDOWN_LINK = /\[[^\]]*\]\([^)]*\)|https?:\/\/\S+/g;

export function isNavigationText(text: string): boolean {
  const t = text.trim();
  if (t === "") return false;
  if ((t.match(NODE_HEADER) ?? []).length >= 2 || /^(next|previous|prev|up)\s*:/i.test(t)) return true;
  if (MENU_WORD.test(t) || CHROME_START.test(t) || ALPHABET_BAR.test(t)) return true;
  if (isBreadcrumb(t) || isMenuRow(t)) return true;
  const linked = (t.match(MARKDOWN_LINK) ?? []).join("").length;
  return linked > 0 && linked >= t.length * 0.5;
}

function isBreadcrumb(t: string): boolean {
  const seps = (t.match(BREADCRUMB_SEP) ?? []).length;
  if (seps < 2) return false;
  const parts = t.split(BREADCRUMB_SEP).filter((_, i) => i % 2 === 0);
  return parts.every((p) => p.trim().split(/\s+/).length <= 5 && !/[.!?]$/.test(p.trim()));
}

function isMenuRow(t: string): boolean {
  const parts = t.split(/\s[|·•]\s/);
  if (parts.length < 3) return false;
  return parts.every((p) => p.trim().split(/\s+/).length <= 4 && !/[.!?]$/.test(p.trim()));
}
