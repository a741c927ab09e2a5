import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stageTimes, stageTimesSince } from './stage-times.ts';

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

test('the stage times of a timed run leave out what a warm-up did before it', () => {
  const before = [
    { kind: 'analyse-report', seconds: 20, batches: 12, done: 3000, failed: 0 },
    { kind: 'campaign-report', seconds: 7, batches: 60, done: 3000, failed: 0 },
    { kind: 'retrace-report', seconds: 1, batches: 2, done: 10, failed: 0 },
  ];
  const after = [
    { kind: 'campaign-report', seconds: 13.5, batches: 121, done: 6000, failed: 0 },
    { kind: 'analyse-report', seconds: 45, batches: 25, done: 5999, failed: 1 },
    { kind: 'retrace-report', seconds: 1, batches: 2, done: 10, failed: 0 },
    { kind: 'actions-report', seconds: 3, batches: 61, done: 3000, failed: 0 },
  ];
  assert.deepEqual(stageTimesSince(before, after), [
    { kind: 'analyse-report', seconds: 25, batches: 13, done: 2999, failed: 1 },
    { kind: 'campaign-report', seconds: 6.5, batches: 61, done: 3000, failed: 0 },
    { kind: 'actions-report', seconds: 3, batches: 61, done: 3000, failed: 0 },
  ]);
  assert.deepEqual(stageTimesSince([], after.slice(0, 1)), after.slice(0, 1));
});
