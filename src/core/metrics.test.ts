import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gauge } from 'prom-client';
import { createMetrics, exposition, type MetricsJson } from './metrics.ts';

/** The series lines of a family (`name{labels} value`), without HELP and TYPE. */
function series(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

test('a scrape without other processes is the registry as it is, unlabelled', async () => {
  const m = createMetrics({ defaults: false });
  m.reportsReceived.inc({ channel: 'api' });
  const text = await exposition(m);
  assert.equal(text, await m.registry.metrics());
  assert.deepEqual(series(text, 'spamdesk_reports_received_total'), [
    'spamdesk_reports_received_total{channel="api"} 1',
  ]);
});

test("the background child's series are merged in, each labelled with its process, each family once", async () => {
  const web = createMetrics({ defaults: false });
  web.reportsReceived.inc({ channel: 'api' }, 3);
  web.errors.inc({ kind: 'http_4xx' });
  const child = createMetrics({ defaults: false });
  child.analysisDuration.observe({ outcome: 'ok' }, 0.004);
  child.analysisDuration.observe({ outcome: 'ok' }, 0.02);
  child.errors.inc({ kind: 'job' }, 2);
  // A family prom-client's cluster aggregation would drop ('omit', as its process start time).
  new Gauge({ name: 'spamdesk_started_at', help: 'start', registers: [child.registry], aggregator: 'omit' }).set(42);
  const childJson = (await child.registry.getMetricsAsJSON()) as MetricsJson;
  web.remote.push({ process: 'background', read: async () => childJson });

  const text = await exposition(web);
  assert.deepEqual(series(text, 'spamdesk_reports_received_total'), [
    'spamdesk_reports_received_total{process="web",channel="api"} 3',
  ]);
  assert.deepEqual(series(text, 'spamdesk_analysis_duration_seconds_count'), [
    'spamdesk_analysis_duration_seconds_count{process="background",outcome="ok"} 2',
  ]);
  // The same family in both processes: one series each, not summed.
  assert.deepEqual(series(text, 'spamdesk_errors_total').sort(), [
    'spamdesk_errors_total{process="background",kind="job"} 2',
    'spamdesk_errors_total{process="web",kind="http_4xx"} 1',
  ]);
  assert.deepEqual(series(text, 'spamdesk_started_at'), ['spamdesk_started_at{process="background"} 42']);
  assert.deepEqual(series(text, 'spamdesk_process_metrics_up'), [
    'spamdesk_process_metrics_up{process="background"} 1',
  ]);
  const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
  assert.equal(new Set(types).size, types.length, 'each family is declared once');
});

test('a child that does not answer, or fails, leaves its series out and its up gauge at 0', async () => {
  for (const read of [async () => null, async () => Promise.reject(new Error('channel closed'))]) {
    const web = createMetrics({ defaults: false });
    web.reportsReceived.inc({ channel: 'smtp' });
    web.remote.push({ process: 'background', read });
    const text = await exposition(web);
    assert.deepEqual(series(text, 'spamdesk_reports_received_total'), [
      'spamdesk_reports_received_total{process="web",channel="smtp"} 1',
    ]);
    assert.deepEqual(series(text, 'spamdesk_process_metrics_up'), [
      'spamdesk_process_metrics_up{process="background"} 0',
    ]);
    assert.deepEqual(series(text, 'spamdesk_analysis_duration_seconds_count'), []);
  }
});

test('a NaN the child reports (it crosses the JSON channel as null) stays NaN, not 0', async () => {
  const web = createMetrics({ defaults: false });
  const child = createMetrics({ defaults: false });
  // prom-client's event-loop lag mean has no samples right after a read: NaN.
  new Gauge({ name: 'lag_mean_seconds', help: 'lag', registers: [child.registry] }).set(Number.NaN);
  const overIpc = JSON.parse(JSON.stringify(await child.registry.getMetricsAsJSON())) as MetricsJson;
  web.remote.push({ process: 'background', read: async () => overIpc });
  assert.deepEqual(series(await exposition(web), 'lag_mean_seconds'), ['lag_mean_seconds{process="background"} Nan']);
});
