/*
 * `ltx hash-password`: reads a password from stdin and prints the AUTH_PASSWORD_HASH for it.
 * On a terminal it prompts (on stderr) and reads without echo, asking twice; from a pipe it takes
 * the first line, so `printf '%s\n' "$PW" | ltx hash-password` works in scripts. The password is
 * never an argument: arguments end up in shell history and `ps`.
 */
import { hashPassword } from "../security/password";

export interface HashPasswordIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const HELP = `Usage: ltx hash-password

Reads a password from stdin (without echo on a terminal; the first line from a pipe) and prints
its scrypt hash for AUTH_PASSWORD_HASH.

  printf '%s\\n' 'correct horse battery staple' | ltx hash-password
`;

export async function hashPasswordCommand(
  argv: string[],
  io: HashPasswordIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(HELP);
    return 0;
  }
  if (argv.length > 0) {
    io.stderr.write("ltx hash-password: takes no arguments (the password comes from stdin, never the command line)\n");
    return 2;
  }
  let password: string | undefined;
  if (io.stdin.isTTY && io.stdin.setRawMode) {
    const first = await readHidden(io, "Password: ");
    const second = first === undefined ? undefined : await readHidden(io, "Repeat password: ");
    if (first === undefined || second === undefined) return 130; // Ctrl-C or Ctrl-D
    if (first !== second) {
      io.stderr.write("ltx hash-password: the passwords differ\n");
      return 2;
    }
    password = first;
  } else {
    password = firstLine(await readAll(io.stdin));
  }
  if (!password) {
    io.stderr.write("ltx hash-password: empty password\n");
    return 2;
  }
  io.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? "";
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads one line in raw mode so nothing is echoed. Resolves undefined on Ctrl-C / Ctrl-D. */
function readHidden(io: HashPasswordIo, prompt: string): Promise<string | undefined> {
  const { stdin } = io;
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  stdin.resume();
  return new Promise((resolve) => {
    let value = "";
    const done = (result: string | undefined): void => {
      stdin.removeListener("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write("\n");
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done(value);
        if (ch === "\u0003" || ch === "\u0004") return done(undefined);
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
