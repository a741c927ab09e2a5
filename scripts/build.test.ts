/**
 * The compiled CLI (`npm run build`, what `spamdesk` runs): built into a folder of its own, then run
 * as plain JavaScript without tsx — the listing, an import (its preparation thread), a
 * re-analysis (the analysis worker threads, which must load the compiled trace-back ports) and a
 * `serve` with the SQLite commit thread up to its ready line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { REPO_ROOT } from '../src/core/test-env.ts';
import { sampleEmail } from '../src/app/test-context.ts';
import { COMMANDS } from '../src/cli/command-index.ts';

const OUT = `.build-test-${process.pid}`;

function cli(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, [path.join(REPO_ROOT, OUT, 'cli', 'main.js'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, SPAMDESK_LOG_LEVEL: 'warn', ...env },
  });
}

test(
  'the compiled CLI runs without tsx: help, import, re-analysis in worker threads, serve with the commit ' + 'thread',
  async (t) => {
    t.after(() => fs.rmSync(path.join(REPO_ROOT, OUT), { recursive: true, force: true }));
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/build.mjs'), '--out', OUT], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
    const out = path.join(REPO_ROOT, OUT);
    assert.ok(fs.existsSync(path.join(out, 'BUILD.json')));
    assert.deepEqual(
      fs.readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.ts')),
      [],
      'no TypeScript in the build',
    );
    // Not one import of a .ts file is left: every relative import points at a compiled neighbour.
    const main = fs.readFileSync(path.join(out, 'cli', 'command-index.js'), 'utf8');
    assert.match(main, /import\("\.\/commands\/serve\.js"\)/);

    const help = cli(['--help']);
    for (const c of COMMANDS) assert.match(help, new RegExp(`^  ${c.name}\\b`, 'm'), c.name);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-build-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const mails = path.join(dir, 'mails');
    fs.mkdirSync(mails);
    // Sent from 8.8.8.8 (AS15169 in the shipped ip-location-db copy): only the compiled ports module
    // knows the AS; the offline fallback a worker uses when that module fails to load does not.
    for (let i = 0; i < 3; i++)
      fs.writeFileSync(path.join(mails, `${i}.eml`), sampleEmail(i).toString().replace('192.0.2.7', '8.8.8.8'));
    const dataDir = path.join(dir, 'data');
    assert.match(cli(['import', '--data-dir', dataDir, mails]), /imported 3 new/);
    // --workers 2: the pool starts compiled analysis worker threads.
    assert.match(
      cli(['reanalyze', '--data-dir', dataDir, '--workers', '2', '--dns-mode', 'offline']),
      /re-analysed 3 of 3 message\(s\).* 0 analysis error\(s\)/,
    );
    const shown = cli(['show', '--json', '--data-dir', dataDir, firstReportId(dataDir)]);
    assert.match(shown, /15169/, 'the compiled worker loaded the compiled ports module (ASN data)');

    const proc = spawn(
      process.execPath,
      [
        path.join(out, 'cli', 'main.js'),
        'serve',
        '--data-dir',
        dataDir,
        '--http-port',
        '0',
        '--workers',
        '1',
        '--smtp-enabled',
        'false',
        '--sqlite-commit-thread',
        'true',
        '--log-level',
        'warn',
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.after(() => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = await new Promise<string>((resolve, reject) => {
      proc.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('"spamdesk ready"')) resolve(stdout);
      });
      proc.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${stderr}`)));
    });
    const { url } = JSON.parse(ready.split('\n').find((l) => l.includes('"spamdesk ready"')) ?? '{}') as {
      url: string;
    };
    const res = await fetch(`${url}/api/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822' },
      body: sampleEmail('compiled').toString(),
    });
    assert.equal(res.status, 202, 'a report is accepted through the commit thread');
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
  },
);

/** The id of a report in the SQLite database (through the compiled `stats`-free path: the CLI's JSON). */
function firstReportId(dataDir: string): string {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `const D=require('better-sqlite3');const d=new D(${JSON.stringify(path.join(dataDir, 'spamdesk.db'))},{readonly:t\
rue});process.stdout.write(d.prepare('select id from reports limit 1').get().id)`,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  return out.trim();
}
