/**
 * The bench's fixture site: real HTML manuals from Debian's zsh-doc and vim-doc packages (343
 * pages, 1 KB–2 MB, mean ~54 KB), installed by the bench itself when missing; generated doc
 * pages when they can't be had. Served from memory on 127.0.0.1:0 with a home page linking
 * every page, no robots.txt and no sitemap, so the crawl is a breadth-first walk.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

export interface FixtureSite {
  /** What the pages are, for the report. */
  source: string;
  /** Path ("/zsh/Options.html") → HTML. The home page "/" is included. */
  pages: Map<string, string>;
  url: string;
  close(): Promise<void>;
}

const MANUALS = [
  { pkg: "zsh-doc", dir: "/usr/share/doc/zsh-common/html", prefix: "/zsh/" },
  { pkg: "vim-doc", dir: "/usr/share/doc/vim/html", prefix: "/vim/" },
];

export async function startFixtureSite(minPages: number): Promise<FixtureSite> {
  let pages = debianManuals();
  let source = "Debian zsh-doc + vim-doc HTML manuals";
  if (pages.size < minPages) {
    source = "generated documentation pages (Debian manuals unavailable)";
    pages = generatedPages(minPages);
  }
  pages.set("/", homePage(Array.from(pages.keys())));
  const server = http.createServer((req, res) => {
    const body = pages.get(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    source,
    pages,
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function debianManuals(): Map<string, string> {
  const missing = MANUALS.filter((m) => !existsSync(m.dir)).map((m) => m.pkg);
  if (missing.length > 0) tryInstall(missing);
  const pages = new Map<string, string>();
  for (const m of MANUALS) {
    if (!existsSync(m.dir)) continue;
    for (const file of readdirSync(m.dir).sort()) {
      if (file.endsWith(".html")) pages.set(m.prefix + file, readFileSync(path.join(m.dir, file), "utf8"));
    }
  }
  return pages;
}

/** Debian packages through apt (root only); any failure just means generated pages. */
function tryInstall(pkgs: string[]): void {
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) return;
  console.error(`bench: installing ${pkgs.join(", ")} for real HTML manuals…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...pkgs], {
      stdio: "ignore",
      env,
      timeout: 300_000,
    });
  } catch {
    try {
      execFileSync("apt-get", ["update"], { stdio: "ignore", env, timeout: 300_000 });
      execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...pkgs], {
        stdio: "ignore",
        env,
        timeout: 300_000,
      });
    } catch {
      console.error("bench: apt-get failed; using generated pages");
    }
  }
}

function homePage(paths: string[]): string {
  const items = paths.map((p) => `<li><a href="${p.slice(1)}">${p}</a></li>`).join("\n");
  return `<!doctype html><html lang="en"><head><title>Manuals</title></head><body><main>
<h1>Manuals</h1><p>Every page of the manuals served by this bench.</p><ul>${items}</ul></main></body></html>`;
}

const WORDS =
  "option value default command shell buffer window file path pattern history prompt completion module function variable expansion parameter syntax mapping register".split(
    " ",
  );

/** Doc pages of 5–60 KB: nav, headings, prose, code and a table, linking their neighbours. */
function generatedPages(n: number): Map<string, string> {
  const pages = new Map<string, string>();
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const sentence = (): string =>
    Array.from({ length: 12 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ") + ".";
  for (let i = 0; i < n; i++) {
    const target = 5_000 + Math.floor(rand() * 55_000);
    let body = `<h1>Chapter ${i}</h1>`;
    for (let s = 1; body.length < target; s++) {
      body += `<h2 id="s${s}">${i}.${s} Section</h2><p>${Array.from({ length: 6 }, sentence).join(" ")}</p>`;
      body += `<pre><code class="language-sh">set -o ${WORDS[s % WORDS.length]}\necho $${WORDS[i % WORDS.length]}</code></pre>`;
      body += `<table><tr><th>Name</th><th>Default</th></tr><tr><td>${WORDS[s % WORDS.length]}</td><td>${s}</td></tr></table>`;
    }
    const nav = `<nav><a href="p${(i + 1) % n}.html">next</a> <a href="p${(i + n - 1) % n}.html">previous</a></nav>`;
    pages.set(
      `/gen/p${i}.html`,
      `<!doctype html><html lang="en"><head><title>Chapter ${i} | Manual</title></head><body>${nav}<main>${body}</main></body></html>`,
    );
  }
  return pages;
}
