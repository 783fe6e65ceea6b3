/**
 * One notify job: announce a website's new version to its webhookUrl (websites/webhook.ts says
 * what is sent). The website is read at delivery, so a changed or removed webhook applies to
 * deliveries still queued, and the secret never sits in a job's data (Bull Board shows that).
 * A non-2xx answer or a network error fails the attempt, and the notify queue's back-off retries
 * it until MAX_ATTEMPTS; a refused (SSRF) target fails at once.
 */
import type { Job } from "bullmq";
import { coerceError } from "../lib/coerceError";
import { isLtxError } from "../lib/errors";
import type { Logger } from "../lib/logger";
import type { AddressPolicy } from "../pipeline/types";
import { JobFailure } from "../queues/failure";
import { NotifyJobData, type NotifyJobResult } from "../queues/catalog";
import type { ResultStore } from "../store/results";
import type { WebsiteStore } from "../store/websites";
import { getVersion } from "../websites/versions";
import { SIGNATURE_HEADER, signBody, versionEvent } from "../websites/webhook";
import { USER_AGENT } from "../lib/version";
import { postJson } from "./webhookPost";

export interface NotifyDeps {
  websites: WebsiteStore;
  store: ResultStore;
  /** The crawler's SSRF policy; undefined when ALLOW_PRIVATE_NETWORKS lifts it. */
  addressPolicy?: AddressPolicy;
  timeoutMs: number;
  logger: Logger;
}

export function createNotifyProcessor(deps: NotifyDeps) {
  return async function processNotify(job: Job<NotifyJobData, NotifyJobResult, "notify">): Promise<NotifyJobResult> {
    const parsed = NotifyJobData.safeParse(job.data);
    if (!parsed.success) throw new JobFailure("INVALID_INPUT", "invalid notify job payload", { final: true });
    const data = parsed.data;
    const log = deps.logger.child({ jobId: job.id, websiteId: data.websiteId, version: data.version });
    const w = await deps.websites.get(data.websiteId);
    if (!w?.webhookUrl) return { skipped: w ? "the website has no webhookUrl" : "website deleted" };

    const version = await getVersion(deps.store, data.siteKey, data.version);
    const body = JSON.stringify(versionEvent(data, version?.changes));
    const headers: Record<string, string> = { "user-agent": USER_AGENT };
    if (w.webhookSecret) headers[SIGNATURE_HEADER.toLowerCase()] = signBody(w.webhookSecret, body);
    let status: number;
    try {
      status = await postJson(w.webhookUrl, body, {
        headers,
        timeoutMs: deps.timeoutMs,
        ...(deps.addressPolicy ? { policy: deps.addressPolicy } : {}),
      });
    } catch (e) {
      const err = coerceError(e);
      const final = isLtxError(err) && !err.retryable;
      log.warn({ err, final }, "webhook delivery failed");
      throw new JobFailure(isLtxError(err) ? err.code : "FETCH_FAILED", err.message, { final, cause: err });
    }
    if (status < 200 || status >= 300) {
      log.warn({ status }, "webhook receiver answered with an error: will retry");
      throw new JobFailure("FETCH_FAILED", `the webhook receiver answered ${status}`, { final: false });
    }
    log.info({ status }, "webhook delivered");
    return { status };
  };
}
