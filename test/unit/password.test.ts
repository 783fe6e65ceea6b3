import { PassThrough } from "node:stream";
import { hashPassword, parsePasswordHash, verifyPassword } from "../../src/security/password";
import { hashPasswordCommand } from "../../src/cli/hashPassword";

const FAST = { N: 2 ** 10, r: 8, p: 1 };

describe("password hashes", () => {
  test("verify accepts the password and refuses others", async () => {
    const h = await hashPassword("correct horse", FAST);
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$[\w-]+\$[\w-]{43}$/);
    await expect(verifyPassword("correct horse", h)).resolves.toBe(true);
    await expect(verifyPassword("correct hors", h)).resolves.toBe(false);
    await expect(verifyPassword("", h)).resolves.toBe(false);
  });

  test("two hashes of one password differ (random salt)", async () => {
    expect(await hashPassword("x", FAST)).not.toBe(await hashPassword("x", FAST));
  });

  test("malformed or dangerous hashes never verify", async () => {
    const h = await hashPassword("pw", FAST);
    const parts = h.split("$");
    for (const bad of [
      "",
      "plain",
      "argon2$x",
      h.replace("scrypt", "bcrypt"),
      [parts[0], 2 ** 30, ...parts.slice(2)].join("$"),
      [parts[0], 1000, ...parts.slice(2)].join("$"),
      `${h}AA`,
    ]) {
      expect(parsePasswordHash(bad)).toBeUndefined();
      await expect(verifyPassword("pw", bad)).resolves.toBe(false);
    }
  });
});

describe("ltx hash-password", () => {
  function io(input: string) {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = "";
    let err = "";
    stdout.on("data", (c: Buffer) => (out += c.toString()));
    stderr.on("data", (c: Buffer) => (err += c.toString()));
    stdin.end(input);
    return { io: { stdin, stdout, stderr }, out: () => out, err: () => err };
  }

  test("reads the first line of a pipe and prints a hash that verifies", async () => {
    const t = io("s3cret pass\nignored\n");
    await expect(hashPasswordCommand([], t.io)).resolves.toBe(0);
    const hash = t.out().trim();
    await expect(verifyPassword("s3cret pass", hash)).resolves.toBe(true);
    expect(t.out()).not.toContain("s3cret");
  });

  test("on a terminal it reads twice in raw mode, echoing nothing, and refuses a mismatch", async () => {
    const tty = (lines: string[]) => {
      const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: jest.fn() });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = "";
      let err = "";
      stdout.on("data", (c: Buffer) => (out += c.toString()));
      stderr.on("data", (c: Buffer) => (err += c.toString()));
      // Keystrokes arrive while the prompt waits, one line per prompt, as on a real terminal.
      const feed = async (): Promise<void> => {
        for (const line of lines) {
          await new Promise((r) => setTimeout(r, 20));
          stdin.write(line);
        }
      };
      void feed();
      return { io: { stdin, stdout, stderr }, out: () => out, err: () => err, stdin };
    };
    const same = tty(["pa\u007fass\r", "pass\r"]); // with a backspace
    await expect(hashPasswordCommand([], same.io)).resolves.toBe(0);
    await expect(verifyPassword("pass", same.out().trim())).resolves.toBe(true);
    expect(same.err()).toBe("Password: \nRepeat password: \n");
    expect(same.stdin.setRawMode).toHaveBeenCalledWith(true);
    expect(same.stdin.setRawMode).toHaveBeenLastCalledWith(false);

    const differ = tty(["one\r", "two\r"]);
    await expect(hashPasswordCommand([], differ.io)).resolves.toBe(2);
    expect(differ.out()).toBe("");
    expect(differ.err()).toMatch(/differ/);
  });

  test("an empty password or an argument is a usage error", async () => {
    const empty = io("\n");
    await expect(hashPasswordCommand([], empty.io)).resolves.toBe(2);
    expect(empty.err()).toMatch(/empty password/);
    const arg = io("");
    await expect(hashPasswordCommand(["hunter2"], arg.io)).resolves.toBe(2);
    expect(arg.err()).toMatch(/never the command line/);
  });
});
