/*
 * Which fetched bodies the crawl keeps: HTML, markdown and plain text. Everything else (PDFs,
 * images, archives) is skipped with its content type as the reason, and its body is never read.
 */
export type PageKind = "html" | "markdown" | "text";

const MARKDOWN_EXT = /\.(md|markdown|mdx)$/i;

function extensionKind(url: string): PageKind | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  if (MARKDOWN_EXT.test(path)) return "markdown";
  if (/\.x?html?$/i.test(path)) return "html";
  if (/\.txt$/i.test(path)) return "text";
  return undefined;
}

/** The media type without parameters, lower-cased: "text/html; charset=utf-8" → "text/html". */
export function mediaType(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

/**
 * The kind of page a response is, or undefined to skip it. Markdown is often served as text/plain
 * or application/octet-stream, so the URL's extension decides for those and for a missing type.
 */
export function pageKind(contentType: string, url: string): PageKind | undefined {
  const type = mediaType(contentType);
  if (type === "text/html" || type === "application/xhtml+xml") return "html";
  if (type === "text/markdown" || type === "text/x-markdown") return "markdown";
  if (type === "text/plain") return extensionKind(url) === "markdown" ? "markdown" : "text";
  if (type === "" || type === "application/octet-stream") return extensionKind(url);
  return undefined;
}

/** The Content-Type the extractor is told, so that markdown served as text/plain is read as markdown. */
export function extractorContentType(kind: PageKind): string {
  return kind === "html" ? "text/html" : kind === "markdown" ? "text/markdown" : "text/plain";
}
