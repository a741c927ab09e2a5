import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stageTimes } from './stage-times.ts';

test("stage times are read per job kind from the server's metrics, both processes summed, slowest first", () => {
  const text = [
    '# HELP spamdesk_job_batch_seconds Wall time of one batch of background jobs (run and completion), by job kind.',
    '# TYPE spamdesk_job_batch_seconds histogram',
    'spamdesk_job_batch_seconds_bucket{le="0.005",process="background",kind="campaign-report"} 0',
    'spamdesk_job_batch_seconds_sum{process="background",kind="campaign-report"} 6.5',
    'spamdesk_job_batch_seconds_count{process="background",kind="campaign-report"} 61',
    'spamdesk_job_batch_seconds_sum{process="background",kind="analyse-report"} 9.25',
    'spamdesk_job_batch_seconds_count{process="background",kind="analyse-report"} 12',
    'spamdesk_job_batch_seconds_sum{process="web",kind="analyse-report"} 0.75',
    'spamdesk_job_batch_seconds_count{process="web",kind="analyse-report"} 1',
    'spamdesk_jobs_total{process="background",kind="analyse-report",outcome="done"} 2999',
    'spamdesk_jobs_total{process="background",kind="analyse-report",outcome="failed"} 1',
    'spamdesk_jobs_total{process="background",kind="campaign-report",outcome="done"} 3000',
    'spamdesk_errors_total{process="background",kind="job"} 2',
    'spamdesk_reports_received_total{process="web",channel="api"} 3000',
  ].join('\n');
  assert.deepEqual(stageTimes(text), [
    { kind: 'analyse-report', seconds: 10, batches: 13, done: 2999, failed: 1 },
    { kind: 'campaign-report', seconds: 6.5, batches: 61, done: 3000, failed: 0 },
  ]);
  assert.deepEqual(stageTimes(''), []);
});
