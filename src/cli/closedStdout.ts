/*
 * `ltx check FILE | head`: the reader closes the pipe before ltx has written everything, and the
 * next write fails with EPIPE. Without a listener that error is an unhandled 'error' event (a stack
 * trace on stderr and exit 1); the reader has all it wanted, so ltx stops writing and exits with
 * the command's own code, quietly.
 */
let installed = false;

const CLOSED = new Set(["EPIPE", "ERR_STREAM_DESTROYED"]);

/** Installs the handler once per process (main() may run many times in one test process). */
export function quietOnClosedStdout(stream: NodeJS.WriteStream = process.stdout): void {
  if (installed) return;
  installed = true;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === undefined || !CLOSED.has(err.code)) throw err;
    // Later writes go nowhere instead of failing again: the command still finishes and sets its code.
    stream.write = () => true;
  });
}
