/**
 * Job name → handler. Typed over the catalog: a job name added to jobCatalog without a handler
 * here does not compile, and each handler sees its own payload and result types.
 */
import type { Job } from "bullmq";
import type { JobData, JobName, JobResult } from "../queues/catalog";
import { createNotifyProcessor, type NotifyDeps } from "./notify";
import { createGenerateProcessor, type GenerateDeps } from "./processor";

export type Handler<K extends JobName> = (
  job: Job<JobData<K>, JobResult<K>, K>,
  token: string | undefined,
  signal: AbortSignal | undefined,
) => Promise<JobResult<K>>;

export type Handlers = { [K in JobName]: Handler<K> };

export interface HandlerDeps {
  generate: GenerateDeps;
  notify: NotifyDeps;
}

export function createHandlers(deps: HandlerDeps): Handlers {
  return {
    generate: createGenerateProcessor(deps.generate),
    notify: createNotifyProcessor(deps.notify),
  };
}
