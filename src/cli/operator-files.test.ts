/**
 * Operator files checked at start: each file's problems listed with file and line or path, and the
 * real CLI (`serve`, `check-config`) exiting 2 before "ready" on an invalid actions policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../core/test-env.ts';
import { testConfig } from '../core/config.ts';
import { checkOperatorFiles } from './operator-files.ts';
import { actionPolicyProblems } from '../actions/action-policy.ts';
import { scoresFileProblems } from '../analysis/classify/scores.ts';
import { trustedRelaysProblems } from '../analysis/stages/traceback/trust.ts';
import { abuseContactsProblems } from '../analysis/ports/abuse-contacts.ts';

function tmpDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-opfiles-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An actions policy with three problems in three sections. */
const BAD_POLICY = `{
  "cases": { "autoRefer": "yes", "rules": [{ "name": "CAMPAIGN_VOLUME", "kind": "campaign-volume", "minReports": 0, \
"windowDays": 7 }] },
  "isp": { "defaultFormat": "pdf" }
}
`;

const where = (ps: { where: string | null }[]) => ps.map((p) => p.where);

test('an actions policy: every problem at its path in the document, a syntax error at its line', (t) => {
  const dir = tmpDir(t);
  const bad = path.join(dir, 'policy.json');
  fs.writeFileSync(bad, BAD_POLICY);
  const problems = actionPolicyProblems(bad);
  assert.deepEqual(where(problems).sort(), ['cases.autoRefer', 'cases.rules.0.minReports', 'isp.defaultFormat']);
  assert.ok(problems.every((p) => p.file === bad));
  const regex = path.join(dir, 'regex.json');
  fs.writeFileSync(regex, JSON.stringify({ isp: { dynamicRdnsPatterns: ['ok', '(unclosed'] } }));
  assert.deepEqual(where(actionPolicyProblems(regex)), ['isp.dynamicRdnsPatterns.1']);
  const syntax = path.join(dir, 'syntax.json');
  fs.writeFileSync(syntax, '{\n  "cases": {\n    "autoRefer": true,,\n  }\n}\n');
  const [p] = actionPolicyProblems(syntax);
  assert.match(p?.where ?? '', /^line 3 column \d+$/);
  assert.match(p?.message ?? '', /^not JSON/);
  const good = path.join(dir, 'good.json');
  fs.writeFileSync(good, JSON.stringify({ cases: { autoRefer: false } }));
  assert.deepEqual(actionPolicyProblems(good), []);
});

test('classifier scores, trusted relays and abuse contacts: every problem listed, with its path or line', (t) => {
  const dir = tmpDir(t);
  const scores = path.join(dir, 'scores.json');
  fs.writeFileSync(scores, JSON.stringify({ rules: { NOT_A_RULE: 1 }, priors: { not_a_category: 2 } }));
  assert.deepEqual(where(scoresFileProblems(scores)).sort(), ['priors.not_a_category', 'rules.NOT_A_RULE']);
  const relays = path.join(dir, 'relays.json');
  fs.writeFileSync(
    relays,
    JSON.stringify([
      { name: 'A', networks: ['192.0.2.0/24', 'nope'] },
      { name: 'B', internalNetworks: ['10.0.0.0/33'] },
      { names: [] },
    ]),
  );
  assert.deepEqual(where(trustedRelaysProblems(relays)).sort(), ['2.name']);
  fs.writeFileSync(
    relays,
    JSON.stringify([
      { name: 'A', networks: ['192.0.2.0/24', 'nope'] },
      { name: 'B', internalNetworks: ['10.0.0.0/33'] },
    ]),
  );
  assert.deepEqual(where(trustedRelaysProblems(relays)), ['0.networks.1', '1.internalNetworks.0']);
  const contacts = path.join(dir, 'contacts.csv');
  fs.writeFileSync(
    contacts,
    'network,address\n192.0.2.0/24,abuse@example.net\nnot-a-net,abuse@example.org\n# comment\nAS64500,nobody\n',
  );
  assert.deepEqual(where(abuseContactsProblems(contacts)), ['line 3', 'line 5']);
  assert.deepEqual(where(abuseContactsProblems(path.join(dir, 'missing.csv'))), [null]);
});

test('the configuration names which files are checked; unset files are not', (t) => {
  const dir = tmpDir(t);
  const bad = path.join(dir, 'policy.json');
  fs.writeFileSync(bad, BAD_POLICY);
  const reports = checkOperatorFiles(
    testConfig({ actionsPolicyFile: bad, abuseContactsFile: path.join(dir, 'none.csv') }),
  );
  const byWhat = Object.fromEntries(reports.map((r) => [r.file.what, r]));
  assert.equal(byWhat['actions policy']?.problems.length, 3);
  assert.equal(byWhat['abuse contacts']?.problems.length, 1);
  assert.equal(byWhat['classifier scores']?.path, null);
  assert.deepEqual(byWhat['trusted relays']?.problems, []);
});

/** Runs the real CLI through tsx; resolves with its exit code and output. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // A server that started despite the bad file: stop it, the test fails on its exit code.
    if (stdout.includes('"spamdesk ready"')) proc.kill('SIGKILL');
  });
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
}

test('serve with an invalid actions policy exits 2 before ready, naming the file and each problem', async (t) => {
  const dir = tmpDir(t);
  const bad = path.join(dir, 'policy.json');
  fs.writeFileSync(bad, BAD_POLICY);
  const r = await run(
    ['serve', '--data-dir', path.join(dir, 'data'), '--http-port', '0', '--workers', '0', '--smtp-enabled', 'false'],
    { SPAMDESK_ACTIONS_POLICY: bad },
  );
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stdout, /ready/);
  for (const p of ['cases.autoRefer', 'cases.rules.0.minReports', 'isp.defaultFormat']) {
    assert.match(
      r.stderr,
      new RegExp(
        `actions policy \\(SPAMDESK_ACTIONS_POLICY\\) ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \
${p.replace(/\./g, '\\.')}: `,
      ),
      p,
    );
  }
  assert.equal(fs.existsSync(path.join(dir, 'data', 'spamdesk.db')), false, 'nothing started: no database created');
});

test('check-config exits 0 on valid files and 2 listing the problems of every invalid one', async (t) => {
  const dir = tmpDir(t);
  const contacts = path.join(dir, 'contacts.csv');
  fs.writeFileSync(contacts, '192.0.2.0/24,abuse@example.net\n');
  const ok = await run(['check-config', '--data-dir', dir, '--abuse-contacts-file', contacts], {});
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`abuse contacts: ${contacts.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} valid`));
  fs.writeFileSync(contacts, '192.0.2.0/24,nobody\n');
  const scores = path.join(dir, 'scores.json');
  fs.writeFileSync(scores, '{"rules": {"NOT_A_RULE": 1}}');
  const bad = await run(
    ['check-config', '--data-dir', dir, '--abuse-contacts-file', contacts, '--classify-scores-file', scores],
    {},
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /contacts\.csv: line 1: "nobody" is not an e-mail address/);
  assert.match(bad.stderr, /scores\.json: rules\.NOT_A_RULE: unknown rule NOT_A_RULE/);
});
