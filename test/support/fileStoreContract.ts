/**
 * What every FileStore backend must do, as one suite each backend's test file runs against its
 * own instance (fs on a temp dir, s3 on a loopback stand-in server).
 */
import { randomBytes } from "node:crypto";
import type { FileStore } from "../../src/store/files/fileStore";
import { readAll } from "../../src/store/files/fileStore";

export function fileStoreContract(name: string, make: () => Promise<FileStore>, close?: () => Promise<void>): void {
  describe(`FileStore contract: ${name}`, () => {
    let store: FileStore;
    let n = 0;
    const key = (rest: string) => `c${++n}/sites/s%3A1/${rest}`;
    beforeAll(async () => {
      store = await make();
    });
    afterAll(async () => {
      await store.close();
      await close?.();
    });

    it("gives back the bytes it was given, with their size", async () => {
      const k = key("a/llms.txt.gz");
      const body = randomBytes(100_000);
      await store.put(k, body);
      const got = await store.get(k);
      expect(got).not.toBeNull();
      expect((await readAll(got!)).equals(body)).toBe(true);
      expect(await store.head(k)).toMatchObject({ key: k, bytes: 100_000 });
    });

    it("answers null for a key it does not have", async () => {
      expect(await store.get(key("none.gz"))).toBeNull();
      expect(await store.head(key("none.gz"))).toBeNull();
    });

    it("replaces a key's bytes on a second put", async () => {
      const k = key("b/x.gz");
      await store.put(k, Buffer.from("first"));
      await store.put(k, Buffer.from("second, longer"));
      expect((await readAll((await store.get(k))!)).toString()).toBe("second, longer");
    });

    it("lists by prefix, and only that prefix", async () => {
      const base = `c${++n}/sites/`;
      await store.put(`${base}one/s1/llms.txt.gz`, Buffer.from("1"));
      await store.put(`${base}one/s2/llms.txt.gz`, Buffer.from("22"));
      await store.put(`${base}two/s1/llms.txt.gz`, Buffer.from("333"));
      const listed = async (p: string) => {
        const out: string[] = [];
        for await (const f of store.list(p)) out.push(`${f.key}:${f.bytes}`);
        return out.sort();
      };
      expect(await listed(`${base}one/`)).toEqual([`${base}one/s1/llms.txt.gz:1`, `${base}one/s2/llms.txt.gz:2`]);
      expect(await listed(base)).toHaveLength(3);
      expect(await listed(`c${++n}/nothing/`)).toEqual([]);
    });

    it("deletes keys, missing ones included, and lists them no more", async () => {
      const k1 = key("d/1.gz");
      const k2 = key("d/2.gz");
      await store.put(k1, Buffer.from("x"));
      await store.put(k2, Buffer.from("y"));
      await store.delete([k1, k2, key("d/never.gz")]);
      expect(await store.get(k1)).toBeNull();
      expect(await store.head(k2)).toBeNull();
    });

    it("refuses keys that could leave its root", async () => {
      await expect(store.put("a/../../etc/x", Buffer.from("x"))).rejects.toThrow(/invalid file key/);
      await expect(store.get("/abs")).rejects.toThrow(/invalid file key/);
    });
  });
}
