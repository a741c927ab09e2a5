/**
 * End to end with a real SMTP client from Debian (`swaks`) against the real platform (HTTP,
 * SMTP intake, SQLite in a temporary directory): what swaks sends comes back byte for byte from
 * the evidence download.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testConfig } from '../../core/config.ts';
import { startPlatform } from '../../app/platform.ts';
import { createToken } from '../../db/tokens.ts';
import { CORPUS_DIR, hasCommand, needs, needsCorpus } from '../../core/test-env.ts';
import { SmtpIntake } from './smtp-intake.ts';

const run = promisify(execFile);

test(
  'swaks forwards corpus spam and an ARF report to the running platform; the evidence comes back byte for ' + 'byte',
  async (t) => {
    if (!needs(t, 'swaks', hasCommand('swaks'), 'apt-get install swaks')) return;
    if (!needsCorpus(t, 'spamassassin/spam') || !needsCorpus(t, 'sisimai/maildir/bsd')) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-e2e-'));
    const config = testConfig({ dataDir: dir, httpPort: 0, smtpPort: 0, smtpEnabled: true, workers: 0 });
    const platform = await startPlatform(config);
    t.after(async () => {
      await platform.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const intake = platform.services.find((s): s is SmtpIntake => s instanceof SmtpIntake);
    assert.ok(intake, 'serve starts the SMTP intake');
    const { port } = intake.address();
    const server = `127.0.0.1:${port}`;

    // 1. Forward as attachment: swaks base64-encodes the attached message.
    const spamFile = path.join(
      CORPUS_DIR,
      'spamassassin',
      'spam',
      fs
        .readdirSync(path.join(CORPUS_DIR, 'spamassassin', 'spam'))
        .filter((f) => /^\d{5}\./.test(f))
        .sort()[20],
    );
    const fwd = await run('swaks', [
      '--server',
      server,
      '--from',
      'reporter@example.org',
      '--to',
      'spam@report.test',
      '--header',
      'Subject: Fwd: spam',
      '--body',
      'Another one.',
      '--attach-type',
      'message/rfc822',
      '--attach',
      `@${spamFile}`,
    ]);
    assert.match(fwd.stdout, /<- {2}250 .*Stored 1 report/);

    // 2. An ARF feedback report, sent as is.
    const arfFile = path.join(CORPUS_DIR, 'sisimai', 'maildir', 'bsd', 'arf-02.eml');
    const arfOut = await run('swaks', [
      '--server',
      server,
      '--from',
      'fbl@yahoo.example',
      '--to',
      'fbl@report.test',
      '--data',
      `@${arfFile}`,
    ]);
    assert.match(arfOut.stdout, /<- {2}250 /);

    // 3. A mail with nothing to report is refused with the reason.
    const refused = await run('swaks', [
      '--server',
      server,
      '--from',
      'someone@example.org',
      '--to',
      'spam@report.test',
      '--body',
      'hello',
    ]).catch((e: { stdout: string }) => e);
    assert.match(refused.stdout, /<\*\* 554 No attached message found/);

    const rows = await platform.ctx.db.selectFrom('reports').selectAll().orderBy('id').execute();
    assert.deepEqual(
      rows.map((r) => r.channel),
      ['smtp', 'arf'],
    );
    assert.equal(rows[0].reporter_address, 'reporter@example.org');
    assert.equal(JSON.parse(rows[1].context ?? '{}').feedbackType, 'abuse');

    const admin = await createToken(platform.ctx.db, { role: 'admin', name: 'e2e' });
    const download = async (sha: string) => {
      const res = await fetch(`${platform.url ?? ''}/api/v1/messages/${sha}/raw`, {
        headers: { authorization: `Bearer ${admin.secret}` },
      });
      assert.equal(res.status, 200);
      return Buffer.from(await res.arrayBuffer());
    };
    assert.ok(
      (await download(rows[0].message_sha256)).equals(fs.readFileSync(spamFile)),
      'the attached spam, exactly as on disk',
    );

    // swaks sends the ARF file with CRLF line endings; the original is the message/rfc822 part.
    const arfText = fs.readFileSync(arfFile, 'latin1').replace(/\r?\n/g, '\r\n');
    const boundary = /boundary="?([^";\r\n]+)"?/i.exec(arfText)?.[1] ?? '';
    const part = arfText
      .split(`--${boundary}`)
      .find(
        (p) =>
          /^\r\nContent-Type: message\/rfc822/im.test(p) ||
          /Content-Type: message\/rfc822/i.test(p.split('\r\n\r\n')[0]),
      );
    assert.ok(part);
    const expected = part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
    assert.ok(
      (await download(rows[1].message_sha256)).equals(Buffer.from(expected, 'latin1')),
      'the ARF original part, exactly as sent',
    );
  },
);
