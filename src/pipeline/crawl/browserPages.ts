/*
 * Which pages the crawl hands to a browser, and what it takes back. The browser itself is behind
 * the PageRenderer interface (src/browser/ implements it; the roots pass it in).
 *
 * A JavaScript shell is a page with almost no readable text, next to no links, and a script that
 * could write them (a single-page app's <div id="root"> and bundle). A page that is merely short —
 * a small index of links, or a note with no script — is not a shell, so on a static site "auto"
 * never starts a browser.
 */
import { createHash } from "node:crypto";
import { coerceError } from "../../lib/coerceError";
import { isLtxError } from "../../lib/errors";
import type { CrawlState } from "./crawlState";
import type { RenderedPage, RenderSession } from "../types";

export interface RenderState {
  session?: Promise<RenderSession>;
  rendered: number;
  /** Said once: more shells than RENDER_MAX_PAGES. */
  capWarned: boolean;
  blocked: string[];
  failures: string[];
}

// Script tags whose type is JavaScript (no type, a JS MIME type, or a module). Bounded attribute
// length keeps the scan linear on hostile markup full of unclosed "<script".
const SCRIPT_TAG = /<script\b([^>]{0,500})>/gi;
const TYPE_ATTR = /\btype\s*=\s*["']?([^"'\s>]+)/i;
const JS_TYPES = /^(module|(text|application)\/(java|ecma)script|text\/jsx?)$/i;

/** Whether an HTML body carries a script a browser would run. */
export function hasScript(html: string): boolean {
  for (const m of html.matchAll(SCRIPT_TAG)) {
    const type = TYPE_ATTR.exec(m[1] ?? "")?.[1];
    if (type === undefined || JS_TYPES.test(type)) return true;
  }
  return false;
}

/** Whether this run may render at all. */
export function canRender(s: CrawlState): boolean {
  return (s.opts.render?.mode ?? "never") !== "never" && s.opts.render?.renderer !== undefined;
}

/** Whether this page, as extracted from its HTML, should be rendered under the run's mode. */
export function wantsRender(s: CrawlState, body: string, thin: boolean): boolean {
  if (!canRender(s)) return false;
  return s.opts.render?.mode === "always" || (thin && hasScript(body));
}

/**
 * Renders url in the run's browser session (opened on first use). Returns undefined, with a warning,
 * when the page can't be rendered (the cap is reached, the browser failed, it ended off the site):
 * the crawl then keeps the page as served. NEEDS_BROWSER and aborts propagate.
 */
export async function renderForCrawl(
  s: CrawlState,
  url: string,
  inScope: (u: string) => boolean,
): Promise<(RenderedPage & { hash: string }) | undefined> {
  const render = s.opts.render;
  const renderer = render?.renderer;
  if (!render || !renderer) return undefined;
  const st = (s.render ??= { rendered: 0, capWarned: false, blocked: [], failures: [] });
  if (st.rendered >= render.maxPages) {
    if (!st.capWarned) {
      st.capWarned = true;
      s.warnings.push(`rendered ${render.maxPages} pages (RENDER_MAX_PAGES); further pages were kept as served`);
    }
    return undefined;
  }
  st.rendered++;
  st.session ??= renderer.openSession({
    ...(s.opts.fetch.addressPolicy ? { addressPolicy: s.opts.fetch.addressPolicy } : {}),
    userAgent: s.opts.fetch.userAgent,
    // Subresources on the site's own origin obey its robots.txt, as the crawler's fetches do.
    allowUrl: (u) => new URL(u).origin !== s.site.origin || s.robots.allowed(u),
  });
  const left = s.opts.jobMaxBytes === undefined ? Number.POSITIVE_INFINITY : s.opts.jobMaxBytes - s.counts.bytes;
  let out: RenderedPage;
  try {
    const session = await st.session;
    out = await session.render(url, {
      maxBytes: Math.max(0, left),
      ...(s.opts.signal ? { signal: s.opts.signal } : {}),
    });
  } catch (e) {
    const err = coerceError(e);
    if (s.opts.signal?.aborted || (isLtxError(err) && (err.code === "NEEDS_BROWSER" || err.code === "ABORTED")))
      throw err;
    st.failures.push(err.message);
    return undefined;
  }
  // What the browser fetched counts against the job's byte budget like any fetch.
  s.counts.bytes += out.bytes;
  for (const b of out.blocked) if (!st.blocked.includes(b)) st.blocked.push(b);
  if (!inScope(out.finalUrl)) {
    st.failures.push(`${url}: the page took the browser off the site, to ${out.finalUrl}`);
    return undefined;
  }
  return { ...out, hash: createHash("sha256").update(out.html).digest("hex") };
}

/** The run's render warnings (what the guard refused, pages that failed), and closes the session. */
export async function finishRendering(s: CrawlState): Promise<void> {
  const st = s.render;
  if (!st) return;
  if (st.blocked.length > 0) {
    const some = st.blocked.slice(0, 10).join("; ");
    s.warnings.push(
      `the browser was refused ${st.blocked.length} request(s) while rendering: ${some}${st.blocked.length > 10 ? "; …" : ""}`,
    );
  }
  for (const f of st.failures.slice(0, 5)) s.warnings.push(`rendering failed, the page was kept as served: ${f}`);
  if (st.failures.length > 5) s.warnings.push(`…and ${st.failures.length - 5} more pages could not be rendered`);
  const session = await st.session?.catch(() => undefined);
  await session?.close();
}
