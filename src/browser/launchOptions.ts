/*
 * How Chromium is started. Everything here narrows what a rendered page (hostile or not) can do or
 * cost: all traffic through ltx's proxy, no background services calling home, a bounded V8 heap,
 * the sandbox whenever the kernel lets an unprivileged process have one.
 */
import fs from "node:fs";
import type { LaunchOptions } from "playwright-core";
import type { ForwardProxy } from "./forwardProxy";

export interface SandboxVerdict {
  sandbox: boolean;
  /** Why not, when not. */
  reason?: string;
}

/**
 * Chromium's sandbox needs user namespaces (or a setuid helper Debian doesn't ship) and refuses to
 * start as root at all, so as root, or where user namespaces are off, it runs without one and the
 * proxy, the fresh context and the limits are the remaining walls.
 */
export function sandboxVerdict(): SandboxVerdict {
  if (process.getuid?.() === 0)
    return { sandbox: false, reason: "running as root (Chromium refuses its sandbox as root): run ltx as a user" };
  const read = (p: string): string | undefined => {
    try {
      return fs.readFileSync(p, "utf8").trim();
    } catch {
      return undefined;
    }
  };
  if (read("/proc/sys/user/max_user_namespaces") === "0" || read("/proc/sys/kernel/unprivileged_userns_clone") === "0")
    return { sandbox: false, reason: "user namespaces are disabled in this kernel" };
  return { sandbox: true };
}

export function launchOptions(
  opts: { executablePath: string; maxOldSpaceMb: number; defaultProxy: ForwardProxy },
  sandbox: boolean,
): LaunchOptions {
  return {
    executablePath: opts.executablePath,
    headless: true,
    chromiumSandbox: sandbox,
    // Our shutdown registry closes the browser; playwright's own handlers would race it.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    timeout: 30_000,
    // Requests outside a session's context meet a proxy that refuses them all. playwright adds
    // `<-loopback>` to the bypass list, so loopback URLs go through the proxy too.
    proxy: { server: opts.defaultProxy.url },
    args: [
      "--disable-gpu",
      "--disable-dev-shm-usage", // /dev/shm is 64 MB in containers
      "--disable-quic", // QUIC is UDP: it would not go through an HTTP proxy
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
      "--disable-extensions",
      "--dns-prefetch-disable",
      "--disable-features=NetworkPrediction,Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
      `--js-flags=--max-old-space-size=${opts.maxOldSpaceMb}`,
    ],
  };
}
