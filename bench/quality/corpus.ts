/**
 * The quality benchmark's corpus: real documentation manuals from Debian 12 `*-doc` packages, one
 * per documentation shape, with its quirks noted in the shape column. `ensureInstalled`
 * installs the missing ones with apt-get (as root only) and skips what is already there.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface CorpusSite {
  /** Short name used in the table and in output paths. */
  name: string;
  /** The Debian package that ships it. */
  pkg: string;
  /** The documentation shape this site stands for. */
  shape: string;
  /** The directory served as the site's root (on its own port). */
  root: string;
  /** The start page, relative to the root: the index, or the natural entry when there is none. */
  entry: string;
}

export const CORPUS: readonly CorpusSite[] = [
  site("itsdangerous", "python-itsdangerous-doc", "Sphinx, small", "/usr/share/doc/python-itsdangerous-doc/html"),
  site("sqlalchemy", "python-sqlalchemy-doc", "Sphinx, large", "/usr/share/doc/python-sqlalchemy-doc/html"),
  site("typer", "python-typer-doc", "MkDocs, readthedocs theme", "/usr/share/doc/python-typer-doc/html"),
  site("uvicorn", "python-uvicorn-doc", "MkDocs, mkdocs theme", "/usr/share/doc/python-uvicorn-doc/html"),
  site("commons-lang", "libcommons-lang-java-doc", "javadoc (JDK 17)", "/usr/share/doc/libcommons-lang-java/api"),
  site("opus", "libopus-doc", "Doxygen, JS menu", "/usr/share/doc/libopus-dev/html"),
  site("pipewire", "pipewire-doc", "Doxygen, JS treeview", "/usr/share/doc/pipewire/html"),
  site("flex", "flex-doc", "Texinfo, page per node", "/usr/share/doc/flex-doc/html"),
  site("mit-scheme", "mit-scheme-doc", "Texinfo, 4 manuals + one-page copies", "/usr/share/doc/mit-scheme-doc/html"),
  site("cairo", "libcairo2-doc", "gtk-doc", "/usr/share/gtk-doc/html/cairo"),
  site(
    "install-guide",
    "installation-guide-amd64",
    "DocBook XSL, 19 language trees",
    "/usr/share/doc/installation-guide-amd64",
    "en/index.html",
  ),
  site("ntpsec", "ntpsec-doc", "Asciidoctor, multi-page", "/usr/share/doc/ntpsec-doc/html"),
  site(
    "weechat",
    "weechat-doc",
    "Asciidoctor, single pages × languages",
    "/usr/share/doc/weechat-doc/html",
    "weechat_user.en.html",
  ),
  site("postfix", "postfix-doc", "hand-written HTML", "/usr/share/doc/postfix/html"),
  site("xfig", "xfig-doc", "hand-written, frames, nested ja tree", "/usr/share/doc/xfig", "html/index.html"),
  site("lua", "lua5.2-doc", "single-page manual", "/usr/share/doc/lua5.2", "readme.html"),
];

function site(name: string, pkg: string, shape: string, root: string, entry = "index.html"): CorpusSite {
  return { name, pkg, shape, root, entry };
}

// Never pulled in by this corpus; Debian's nodejs would replace the Node that runs ltx here.
const NEVER_INSTALL = new Set(["nodejs", "npm", "nodejs-doc"]);

function isInstalled(pkg: string): boolean {
  try {
    const status = execFileSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8", stdio: "pipe" });
    return status.trim() === "install ok installed";
  } catch {
    return false; // dpkg-query exits 1 for a package it has never seen
  }
}

/**
 * Installs the packages of `sites` that are missing (or whose entry page is gone), with
 * apt-get as root. Returns the names installed; throws when some are missing and we are not root.
 */
export function ensureInstalled(sites: readonly CorpusSite[], log: (line: string) => void): string[] {
  const missing = [
    ...new Set(
      sites.filter((s) => !isInstalled(s.pkg) || !fs.existsSync(path.join(s.root, s.entry))).map((s) => s.pkg),
    ),
  ];
  if (missing.length === 0) return [];
  const refused = missing.filter((p) => NEVER_INSTALL.has(p));
  if (refused.length > 0) throw new Error(`refusing to install ${refused.join(", ")}`);
  if (process.getuid?.() !== 0)
    throw new Error(`missing packages ${missing.join(" ")}: run as root, or apt-get install them first`);
  const plan = execFileSync("apt-get", ["install", "-s", "--no-install-recommends", ...missing], {
    encoding: "utf8",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  const pulled = [...plan.matchAll(/^Inst (\S+)/gm)].map((m) => m[1] as string).filter((p) => NEVER_INSTALL.has(p));
  if (pulled.length > 0) throw new Error(`installing ${missing.join(" ")} would pull in ${pulled.join(", ")}: refused`);
  log(`apt-get install ${missing.join(" ")}`);
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    timeout: 15 * 60_000,
  });
  const still = sites.filter((s) => !fs.existsSync(path.join(s.root, s.entry)));
  if (still.length > 0)
    throw new Error(`installed, but entry pages are missing: ${still.map((s) => s.name).join(", ")}`);
  return missing;
}

/** The sites named on the command line (`--sites a,b`), or the whole corpus. */
export function selectSites(names: string | undefined): CorpusSite[] {
  if (!names) return [...CORPUS];
  const wanted = names.split(",").map((n) => n.trim());
  const unknown = wanted.filter((n) => !CORPUS.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new Error(`unknown site(s) ${unknown.join(", ")}; known: ${CORPUS.map((s) => s.name).join(", ")}`);
  return CORPUS.filter((s) => wanted.includes(s.name));
}
