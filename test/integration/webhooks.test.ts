/**
 * Change notifications: a run that makes a new version of a website with a webhookUrl POSTs the
 * version event to it, signed with X-Ltx-Signature (HMAC-SHA256 of the raw body under the
 * website's webhookSecret); a 500 from the receiver is retried with back-off; an unchanged run
 * announces nothing; the SSRF guard refuses private targets; the API never shows the secret.
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { sleep } from "../../src/lib/time";
import { readFailure } from "../../src/queues/failure";
import { createAddressPolicy } from "../../src/security/addressPolicy";
import { request, startTestApi } from "../support/apiHarness";
import { startRedis, type RedisServer } from "../support/redisServer";
import { createScheduleHarness, type ScheduleHarness } from "../support/scheduleHarness";
import { waitFor } from "../support/workerHarness";

interface Delivery {
  headers: http.IncomingHttpHeaders;
  raw: string;
}

let server: RedisServer;
let receiver: http.Server;
let receiverUrl: string;
const deliveries: Delivery[] = [];
/** Answers for the next deliveries, in order; 200 once they run out. */
const answers: number[] = [];

const SECRET = "a-webhook-secret-of-the-test";

beforeAll(async () => {
  server = await startRedis();
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      deliveries.push({ headers: req.headers, raw: Buffer.concat(chunks).toString("utf8") });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await server.stop();
});

function verified(d: Delivery): boolean {
  const expected = `sha256=${createHmac("sha256", SECRET).update(d.raw).digest("hex")}`;
  return d.headers["x-ltx-signature"] === expected;
}

describe("delivery", () => {
  let h: ScheduleHarness;
  beforeAll(async () => {
    h = await createScheduleHarness(server.url, 86_400_000, { maxAttempts: 3 });
    await h.startWorker({ notify: {} });
  });
  afterAll(() => h.close());

  test("once per new version, retried after a 500, never for an unchanged run, signed", async () => {
    deliveries.length = 0;
    answers.push(500);
    const w = await h.service.create({
      url: "http://127.0.0.1:9/hooked/",
      every: "1h",
      webhookUrl: receiverUrl,
      webhookSecret: SECRET,
    });
    // The first scheduled run makes version 1: the 500 is retried, then delivered.
    await waitFor(() => deliveries.length >= 2, 10_000, "the retried delivery");
    expect(deliveries.every(verified)).toBe(true);
    const first = JSON.parse(deliveries[0]?.raw ?? "{}");
    expect(first).toEqual({
      event: "version",
      site: w.siteKey,
      websiteId: w.id,
      version: 1,
      changes: null,
      files: { llmsTxt: `/sites/${w.siteKey}/llms.txt`, llmsFullTxt: `/sites/${w.siteKey}/llms-full.txt` },
    });
    expect(deliveries[1]?.raw).toBe(deliveries[0]?.raw);
    expect(deliveries[0]?.headers["content-type"]).toBe("application/json");

    // An unchanged run announces nothing.
    h.unchanged.add(w.id);
    const runs = h.runs.length;
    await h.service.refresh(w.id);
    await waitFor(() => h.runs.length > runs, 5000, "the unchanged run");
    await sleep(500);
    expect(deliveries).toHaveLength(2);

    // The next new version is announced once.
    h.unchanged.delete(w.id);
    await h.service.refresh(w.id);
    await waitFor(() => deliveries.length >= 3, 5000, "version 2's delivery");
    await sleep(300);
    expect(deliveries).toHaveLength(3);
    expect(JSON.parse(deliveries[2]?.raw ?? "{}")).toMatchObject({ version: 2, websiteId: w.id });
    expect(verified(deliveries[2] as Delivery)).toBe(true);
    expect(await h.queues.notify.getCompletedCount()).toBe(2);
  });

  test("the receiver failing every time: failed for good after MAX_ATTEMPTS (3 here)", async () => {
    deliveries.length = 0;
    answers.push(500, 500, 500);
    const w = await h.service.create({ url: "http://127.0.0.1:9/down/", every: "1h", webhookUrl: receiverUrl });
    const failed = await waitFor(
      async () => (await h.queues.notify.getFailed()).find((j) => j.data.websiteId === w.id),
      10_000,
      "the notify job to fail",
    );
    expect(failed.attemptsMade).toBe(3);
    expect(deliveries).toHaveLength(3);
    expect(deliveries[0]?.headers["x-ltx-signature"]).toBeUndefined(); // no secret, no signature
  });
});

test("the SSRF guard applies to the webhook target: a private address fails at once, nothing is sent", async () => {
  const h = await createScheduleHarness(server.url, 86_400_000, { maxAttempts: 3 });
  try {
    await h.startWorker({ notify: { addressPolicy: createAddressPolicy({ allowPrivate: false, allowHosts: [] }) } });
    deliveries.length = 0;
    const w = await h.service.create({ url: "http://127.0.0.1:9/guarded/", every: "1h", webhookUrl: receiverUrl });
    const failed = await waitFor(
      async () => (await h.queues.notify.getFailed()).find((j) => j.data.websiteId === w.id),
      10_000,
      "the notify job to fail",
    );
    expect(readFailure(failed.failedReason).code).toBe("BLOCKED_ADDRESS");
    expect(failed.attemptsMade).toBe(1);
    expect(deliveries).toHaveLength(0);
  } finally {
    await h.close();
  }
});

test("the API takes webhookUrl and webhookSecret, never shows the secret, and guards the URL", async () => {
  const t = await startTestApi(server.url);
  try {
    const created = await request(t.url, "POST", "/api/websites", {
      url: "http://127.0.0.1:9/api-hooked/",
      every: "1h",
      webhookUrl: receiverUrl,
      webhookSecret: SECRET,
    });
    expect(created.status).toBe(201);
    expect(created.body.webhookUrl).toBe(receiverUrl);
    const id = created.body.id as string;
    for (const res of [
      created,
      await request(t.url, "GET", `/api/websites/${id}`),
      await request(t.url, "GET", "/api/websites"),
    ])
      expect(JSON.stringify(res.body)).not.toContain(SECRET);
    const patched = await request(t.url, "PATCH", `/api/websites/${id}`, { webhookUrl: null, webhookSecret: null });
    expect(patched.body.webhookUrl).toBeNull();
    expect((await request(t.url, "PATCH", `/api/websites/${id}`, { webhookSecret: "short" })).status).toBe(400);
  } finally {
    await t.close();
  }
  // With the guard on, a website on an allowed host can't point its webhook at a private address.
  const guarded = await startTestApi(server.url, { ALLOW_PRIVATE_NETWORKS: "0", CRAWL_ALLOW_HOSTS: "127.0.0.2" });
  try {
    const refused = await request(guarded.url, "POST", "/api/websites", {
      url: "http://127.0.0.2:9/site/",
      webhookUrl: receiverUrl,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("BLOCKED_ADDRESS");
    expect((await request(guarded.url, "GET", "/api/websites")).body.items).toEqual([]);
  } finally {
    await guarded.close();
  }
});
