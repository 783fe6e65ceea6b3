/*
 * Page and Site objects built directly, for tests of the stages after the crawl (generate,
 * validate, compose): no server, no extraction.
 */
import type { Page, Site } from "../../src/pipeline/types";

export function makeSite(startUrl = "https://docs.example.com/"): Site {
  const u = new URL(startUrl);
  const prefix = u.pathname.endsWith("/") ? u.pathname : u.pathname.replace(/[^/]*$/, "");
  return {
    origin: u.origin,
    prefix,
    startUrl: u.href,
    key: `${u.host}${prefix === "/" ? "" : prefix.replace(/\/$/, "")}`,
  };
}

export function makePage(url: string, fields: Partial<Page> = {}): Page {
  const title = fields.title ?? titleFromUrl(url);
  const markdown =
    fields.markdown ??
    `# ${title}\n\n${title} explains one part of the product in plain words. It covers what it is, when to use it and how to start.\n\n## Details\n\nMore text about ${title}.`;
  return {
    url,
    status: 200,
    depth: 1,
    title,
    description: fields.description ?? `How ${title.toLowerCase()} works and when to use it.`,
    headings: fields.headings ?? [
      { level: 1, text: title },
      { level: 2, text: "Details" },
    ],
    markdown,
    textLength: fields.textLength ?? markdown.length,
    ...fields,
  };
}

function titleFromUrl(url: string): string {
  const last = new URL(url).pathname.split("/").filter(Boolean).pop() ?? "home";
  const words = last
    .replace(/\.html?$/, "")
    .split(/[-_]/)
    .join(" ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * A documentation site of n pages in crawl order: a home page, a few guide sections, a deep API
 * reference, a blog archive, a changelog and legal pages. Titles carry the " | Acme Docs" suffix.
 */
export function bigSite(n: number, origin = "https://docs.example.com"): { site: Site; pages: Page[] } {
  const site = makeSite(`${origin}/`);
  const suffix = " | Acme Docs";
  const pages: Page[] = [
    makePage(`${origin}/`, {
      title: `Home${suffix}`,
      description: "Acme is a toolkit for building fast widgets. These docs cover setup, guides and the API.",
    }),
  ];
  const sections = ["getting-started", "guides", "concepts", "api", "cli", "integrations"];
  const add = (path: string, title: string): void => {
    if (pages.length < n)
      pages.push(
        makePage(`${origin}${path}`, {
          title: `${title}${suffix}`,
          description: `All about ${title.toLowerCase()} in Acme.`,
        }),
      );
  };
  for (const s of sections) add(`/${s}/`, cap(s));
  add("/changelog", "Changelog");
  add("/privacy", "Privacy policy");
  add("/terms", "Terms of service");
  for (let i = 0; pages.length < n; i++) {
    const s = sections[i % sections.length] ?? "guides";
    if (s === "api") add(`/api/module-${i % 17}/function-${i}`, `function${i}()`);
    else if (i % 11 === 0) add(`/blog/2024/post-${i}`, `Release post ${i}`);
    else add(`/${s}/topic-${i}`, `${cap(s)} topic ${i}`);
  }
  return { site, pages };
}

function cap(s: string): string {
  const t = s.replace(/-/g, " ");
  return t.charAt(0).toUpperCase() + t.slice(1);
}
