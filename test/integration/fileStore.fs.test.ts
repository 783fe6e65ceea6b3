import fs from "node:fs";
import path from "node:path";
import { fileStoreContract } from "../support/fileStoreContract";
import { testFileStore, testFilesDir } from "../support/fileStore";

const dir = testFilesDir();
fileStoreContract("fs", async () => testFileStore(dir));

test("fs: a put leaves no temp file behind, and deleting a key removes its empty directories", async () => {
  const store = testFileStore();
  await store.put("p/sites/s/save1/llms.txt.gz", Buffer.from("x"));
  expect(fs.readdirSync(path.join(store.dir, "p", "sites", "s", "save1"))).toEqual(["llms.txt.gz"]);
  await store.delete(["p/sites/s/save1/llms.txt.gz"]);
  expect(fs.readdirSync(store.dir)).toEqual([]);
});
