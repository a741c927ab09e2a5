/**
 * Prometheus metrics (prom-client). One registry per running instance, so tests can start several.
 * A `serve` that runs its background roles in a child process (cli/background-child.ts) serves the
 * child's metrics too: at each scrape it asks the child for its registry over the IPC channel and
 * merges both, each series labelled with the process it comes from ({@link exposition}).
 */
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

/** One process's metrics as `Registry.getMetricsAsJSON()` gives them. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Another process's metrics, merged into this one's at each scrape. */
export interface RemoteMetrics {
  /** The `process` label its series get (this process's get {@link LOCAL_PROCESS}). */
  process: string;
  /** Its registry, or null when it did not answer in time (it is restarting, or busy past the wait). */
  read(): Promise<MetricsJson | null>;
}

/** The `process` label of this process's own series when others are merged in. */
export const LOCAL_PROCESS = 'web';

export interface Metrics {
  registry: Registry;
  reportsReceived: Counter<'channel'>;
  analysisDuration: Histogram<'outcome'>;
  queueDepth: Gauge<'kind' | 'state'>;
  errors: Counter<'kind'>;
  httpRequests: Counter<'route' | 'status'>;
  /** Wall time of each background batch by job kind (claim excluded): which stage the pipeline waits on. */
  jobBatchSeconds: Histogram<'kind'>;
  /** Background jobs finished, by kind and outcome (`done`, `failed`: retried later or parked). */
  jobs: Counter<'kind' | 'outcome'>;
  /** Whether each other process answered the last scrape (1) or not (0), by its `process` label. */
  remoteUp: Gauge<'process'>;
  /** Other processes whose metrics a scrape merges in (the background child). */
  remote: RemoteMetrics[];
}

export function createMetrics(opts: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'spamdesk_' });
  return {
    registry,
    reportsReceived: new Counter({
      name: 'spamdesk_reports_received_total',
      help: 'Reports durably accepted, by intake channel.',
      labelNames: ['channel'],
      registers: [registry],
    }),
    analysisDuration: new Histogram({
      name: 'spamdesk_analysis_duration_seconds',
      help: 'Time to analyse one message.',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'spamdesk_queue_depth',
      help: 'Background jobs by kind and state.',
      labelNames: ['kind', 'state'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'spamdesk_errors_total',
      help: 'Errors by kind (http_4xx, http_5xx, analysis, job, smtp, …).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'spamdesk_http_requests_total',
      help: 'HTTP requests by route and status.',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    jobBatchSeconds: new Histogram({
      name: 'spamdesk_job_batch_seconds',
      help:
        'Wall time of one batch of background jobs, by job kind: its run and the removal of its finished jobs ' +
        '(not the retry bookkeeping of its failed ones).',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'spamdesk_jobs_total',
      help: 'Background jobs finished, by kind and outcome (done, failed).',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    remoteUp: new Gauge({
      name: 'spamdesk_process_metrics_up',
      help: 'Whether another process of this serve (the background child) answered the last scrape with its metrics.',
      labelNames: ['process'],
      registers: [registry],
    }),
    remote: [],
  };
}

/**
 * Every series labelled with its process, unless it names one itself (`spamdesk_process_metrics_up`).
 * No two processes then share a series, so each family is merged as a plain union (`sum` over one
 * series each): prom-client's own aggregators would drop some (`process_start_time_seconds`) and
 * average others across processes.
 */
function labelled(json: MetricsJson, process: string): MetricsJson {
  return json.map((m) => ({
    ...m,
    aggregator: 'sum' as const,
    // A value that crossed the JSON channel as null was NaN (an event-loop lag with no samples yet).
    values: m.values.map((v) => ({ ...v, value: v.value ?? Number.NaN, labels: { process, ...v.labels } })),
  }));
}

/**
 * The scrape's text: this registry's, and, when other processes are attached, every process's merged
 * family by family (the exposition format allows each family once), each series labelled `process`
 * ({@link LOCAL_PROCESS} for this one) so none is summed into another's. A process that does not
 * answer leaves its series out and `spamdesk_process_metrics_up` at 0 for it: the scrape still answers.
 */
export async function exposition(metrics: Metrics): Promise<string> {
  if (metrics.remote.length === 0) return metrics.registry.metrics();
  const others = await Promise.all(metrics.remote.map(async (r) => ({ r, json: await r.read().catch(() => null) })));
  for (const { r, json } of others) metrics.remoteUp.set({ process: r.process }, json === null ? 0 : 1);
  const all = [labelled(await metrics.registry.getMetricsAsJSON(), LOCAL_PROCESS)];
  for (const { r, json } of others) if (json !== null) all.push(labelled(json, r.process));
  return AggregatorRegistry.aggregate(all).metrics();
}
