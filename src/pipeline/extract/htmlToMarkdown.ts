/**
 * HTML → markdown with turndown, GFM-ish: ATX headings, fenced code blocks that keep their
 * language, simple tables as pipe tables. turndown-plugin-gfm is not a dependency; the two rules
 * we need are small enough to keep here.
 */
import TurndownService from "turndown";

/** One configured service per thread: building it costs more than converting a small page. */
export function createMarkdownConverter(): TurndownService {
  const td = new TurndownService({
    headingStyle: "atx",
    codeBlockStyle: "fenced",
    bulletListMarker: "-",
    emDelimiter: "_",
    hr: "---",
  });
  td.remove(["script", "style", "noscript", "template", "iframe", "form", "button", "select", "textarea"]);
  addCodeBlockRule(td);
  addTableRules(td);
  return td;
}

/** Every <pre> is code: many manuals (texinfo, vim help) use a bare <pre> with no <code> inside. */
function addCodeBlockRule(td: TurndownService): void {
  td.addRule("fencedPre", {
    filter: (node) => node.nodeName === "PRE",
    replacement: (_content, node) => {
      const code = node.textContent ?? "";
      const longestRun = Math.max(2, ...Array.from(code.matchAll(/`{3,}/g), (m) => m[0].length));
      const fence = "`".repeat(longestRun + 1);
      const body = code.replace(/^\n+/, "").replace(/\n+$/, "");
      return `\n\n${fence}${codeLanguage(node)}\n${body}\n${fence}\n\n`;
    },
  });
}

const LANGUAGE_CLASS = /(?:^|\s)(?:language|lang|highlight|sourceCode)-([\w+#.-]+)/;

/** The language of a code block: class "language-x" (Prism, markdown renderers), "highlight-x" (Sphinx). */
function codeLanguage(pre: HTMLElement): string {
  // Not querySelector: see byTag in extractPage.ts (jsdom's selector engine retains documents).
  // Sibling pointers: Array.from(el.children) goes through jsdom's HTMLCollection proxy, slow per item.
  let code = pre.firstElementChild;
  while (code && code.nodeName !== "CODE") code = code.nextElementSibling;
  const candidates = [code, pre, pre.parentElement, pre.parentElement?.parentElement];
  for (const el of candidates) {
    const m = LANGUAGE_CLASS.exec(el?.getAttribute("class") ?? "");
    if (m?.[1] && m[1] !== "default" && m[1] !== "none") return m[1];
    const data = el?.getAttribute("data-lang") ?? el?.getAttribute("data-language");
    if (data) return data;
  }
  return "";
}

/**
 * Pipe tables for simple tables (no nested table). Layout tables that hold other tables fall back
 * to turndown's default: their cells become paragraphs, which reads fine as text.
 */
function addTableRules(td: TurndownService): void {
  // Per table, computed once: asking for every cell would make big tables quadratic.
  const simple = new WeakMap<Element, boolean>();
  const firstRow = new WeakMap<Element, Element | undefined>();
  const inSimpleTable = (node: HTMLElement): boolean => {
    const table = node.nodeName === "TABLE" ? node : enclosingTable(node);
    if (table === null) return false;
    let ok = simple.get(table);
    if (ok === undefined) {
      ok = table.getElementsByTagName("table").length === 0 && enclosingTable(table) === null;
      simple.set(table, ok);
    }
    return ok;
  };
  td.addRule("tableCell", {
    filter: (node) => (node.nodeName === "TD" || node.nodeName === "TH") && inSimpleTable(node),
    replacement: (content, node) => {
      const text = content
        .replace(/\s*\n+\s*/g, " ")
        .replace(/\|/g, "\\|")
        .trim();
      return `${node.previousElementSibling ? "" : "|"} ${text} |`;
    },
  });
  td.addRule("tableRow", {
    filter: (node) => node.nodeName === "TR" && inSimpleTable(node),
    replacement: (content, node) => {
      const table = enclosingTable(node);
      if (table && !firstRow.has(table)) firstRow.set(table, table.getElementsByTagName("tr")[0] ?? undefined);
      const isFirst = table !== null && firstRow.get(table) === node;
      if (!isFirst) return `\n${content}`;
      const cells = Math.max(1, node.children.length);
      return `\n${content}\n|${" --- |".repeat(cells)}`;
    },
  });
  td.addRule("tableSection", {
    filter: (node) => ["THEAD", "TBODY", "TFOOT"].includes(node.nodeName) && inSimpleTable(node),
    replacement: (content) => content,
  });
  td.addRule("table", {
    filter: (node) => node.nodeName === "TABLE" && inSimpleTable(node),
    replacement: (content) => `\n\n${content.trim()}\n\n`,
  });
  td.addRule("tableCaption", {
    filter: (node) => node.nodeName === "CAPTION",
    replacement: (content) => `\n\n${content.trim()}\n\n`,
  });
}

function enclosingTable(node: Element): Element | null {
  for (let n = node.parentElement; n; n = n.parentElement) if (n.nodeName === "TABLE") return n;
  return null;
}
