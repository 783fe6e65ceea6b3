/**
 * Runs the `ltx` CLI from the TypeScript sources in a child process (as a user would run the bin,
 * with real exit codes, stdout and stderr), via the dev-only .ts require hook.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { main } from "../../src/cli/ltx";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = path.resolve(__dirname, "../..");
const BOOT = `require(${JSON.stringify(path.join(ROOT, "src/cli/ltx.ts"))}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 99; });`;

export function runCli(
  args: string[],
  opts: {
    env?: Record<string, string>;
    timeoutMs?: number;
    input?: string;
    /** Close the reading end of stdout at once, as `| head` does once it has its lines. */
    closeStdout?: boolean;
  } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["-r", path.join(ROOT, "tools/tsRequireHook.js"), "-e", BOOT, "--", ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...opts.env },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    if (opts.closeStdout) child.stdout.destroy();
    else child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * Runs `ltx` in this process (much faster than a child process under the .ts hook): same
 * main(), with stdout/stderr writes captured. Use runCli for the few tests that need a real bin.
 */
export async function runCliInProcess(args: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const capture = (sink: (s: string) => void) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      sink(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  const outWrite = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
  }
}
