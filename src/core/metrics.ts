/**
 * Prometheus metrics (prom-client). One registry per running instance, so tests can start several.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  reportsReceived: Counter<'channel'>;
  analysisDuration: Histogram<'outcome'>;
  queueDepth: Gauge<'kind' | 'state'>;
  errors: Counter<'kind'>;
  httpRequests: Counter<'route' | 'status'>;
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
  };
}
