/*
 * Change notifications: when a run of a website makes a new version and the website has a
 * webhookUrl, a notify job POSTs to it (workers/notify.ts delivers, with the notify queue's
 * retries and back-off). The body is JSON:
 *
 *   {"event":"version","site":"<site key>","websiteId":"…","version":7,"changes":{…}|null,
 *    "files":{"llmsTxt":"/sites/<site key>/llms.txt","llmsFullTxt":"/sites/<site key>/llms-full.txt"}}
 *
 * and, when the website has a webhookSecret, `X-Ltx-Signature: sha256=<hex>` is the HMAC-SHA256 of
 * the raw body bytes under that secret, so the receiver can tell the POST came from us.
 */
import { createHmac } from "node:crypto";
import type { NotifyJobData } from "../queues/catalog";
import type { NotifyQueue } from "../queues/queues";

export const SIGNATURE_HEADER = "X-Ltx-Signature";

export interface VersionEvent {
  event: "version";
  site: string;
  websiteId: string;
  version: number;
  changes: unknown;
  files: { llmsTxt: string; llmsFullTxt: string };
}

export function versionEvent(data: NotifyJobData, changes: unknown): VersionEvent {
  return {
    event: "version",
    site: data.siteKey,
    websiteId: data.websiteId,
    version: data.version,
    changes: changes ?? null,
    files: { llmsTxt: `/sites/${data.siteKey}/llms.txt`, llmsFullTxt: `/sites/${data.siteKey}/llms-full.txt` },
  };
}

/** The X-Ltx-Signature value of a raw body. */
export function signBody(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

/**
 * Adds the notify job of a new version. Its id is the website and version, so a run counted twice
 * (a retried bookkeeping step, a stalled job run again) still announces the version once.
 */
export async function enqueueNotify(queue: NotifyQueue, data: NotifyJobData): Promise<void> {
  await queue.add("notify", data, { jobId: `notify:${data.websiteId}:${data.version}` });
}
