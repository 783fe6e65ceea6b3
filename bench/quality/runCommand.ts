/**
 * One bounded child process: its own process group (so a timeout kills the generator and every
 * browser or helper it started), stdout and stderr kept to a capped size, SIGKILL at the deadline.
 */
import { spawn } from "node:child_process";

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

// ltx --json carries llms-full.txt (up to 10 MB by default); a peer's log is far less.
const KEEP_BYTES = 32 * 1024 * 1024;

export function runCommand(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout.on("data", (b: Buffer) => {
      if ((outBytes += b.length) <= KEEP_BYTES) out.push(b);
    });
    child.stderr.on("data", (b: Buffer) => {
      if ((errBytes += b.length) <= KEEP_BYTES) err.push(b);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutMs);
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      killGroup(child.pid); // helpers left behind by a generator that exited
      resolve({
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        ms: Date.now() - started,
      });
    };
    child.once("error", (e) => {
      err.push(Buffer.from(String(e)));
      finish(null, null);
    });
    child.once("close", finish);
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}
