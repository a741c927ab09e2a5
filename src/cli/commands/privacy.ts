/**
 * Commands of the evidence area's chain of custody and privacy:
 * `spamdesk audit verify [--anchor SEQ:HASH]…`, `spamdesk audit list`,
 * `spamdesk keys list | rotate`, `spamdesk privacy erase --user|--email|--number`,
 * `spamdesk privacy retention`.
 */
import type { Command } from 'commander';
import { cliActor, configFrom, fail, withSettings } from '../options.ts';
import { openDatabase, type DB } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import type { Config } from '../../core/config.ts';
import { listAudit, verifyAuditChain, writeAudit } from '../../evidence/audit.ts';
import { applyRetention, eraseReporter } from '../../evidence/retention.ts';
import { loadInstanceKey, publishedKeys, rotateInstanceKey } from '../../actions/referrals/instance-key.ts';

async function withDb(cmd: Command, fn: (db: DB, config: Config) => Promise<void>): Promise<void> {
  const config = configFrom(cmd);
  const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
  try {
    await migrateToLatest(db);
    await fn(db, config);
  } finally {
    await db.destroy();
  }
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function parseAnchor(v: string, prev: { seq: number; hash: string }[] = []): { seq: number; hash: string }[] {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(v.trim());
  if (!m) fail(`--anchor ${v}: expected SEQ:HASH (as printed by a previous \`spamdesk audit verify\`)`, 2);
  return [...prev, { seq: Number(m[1]), hash: m[2] }];
}

export function registerPrivacy(program: Command): void {
  const audit = program
    .command('audit')
    .description('The audit log: an append-only hash chain of every access to evidence.');
  withSettings(
    audit.command('verify').description('Re-hash the whole chain; exit 1 on any edit, gap, insertion or cut tail.'),
  )
    .option(
      '--anchor <seq:hash>',
      'a head printed earlier (kept outside the database): the chain must still hold it; repeatable',
      parseAnchor,
    )
    .action(async (o: { anchor?: { seq: number; hash: string }[] }, cmd: Command) => {
      await withDb(cmd, async (db) => {
        const v = await verifyAuditChain(db, {
          anchors: o.anchor,
          onProgress: (n) => process.stderr.isTTY && process.stderr.write(`\rchecked ${n}`),
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        for (const p of v.problems) out(`PROBLEM ${p}`);
        out(
          `audit chain: ${v.ok ? 'OK' : 'BROKEN'}; ${v.checked} entries checked${
            v.startsAfter ? ` (entries up to ${v.startsAfter} pruned by retention, checkpoint verified)` : ''
          }`,
        );
        if (v.head)
          out(`head: ${v.head.seq}:${v.head.hash}   (keep this line outside the database; pass it as --anchor later)`);
        process.exitCode = v.ok ? 0 : 1;
      });
    });
  withSettings(audit.command('list').description('The latest audit entries, newest first.'))
    .option('--limit <n>', 'how many', '50')
    .action(async (o: { limit: string }, cmd: Command) => {
      await withDb(cmd, async (db) => {
        for (const r of await listAudit(db, { limit: Number(o.limit) }))
          out(
            `${String(r.seq).padStart(8)}  ${r.at}  ${r.actor}  ${r.action}  ${r.subject}${
              r.ip ? `  from ${r.ip}` : ''
            }`,
          );
      });
    });

  const keys = program
    .command('keys')
    .description('The instance’s Ed25519 signing keys (shared by every process, kept in the database).');
  withSettings(keys.command('list').description('The current key and every retired one, with their validity.')).action(
    async (_o, cmd: Command) => {
      await withDb(cmd, async (db, config) => {
        await loadInstanceKey(db, config);
        for (const k of await publishedKeys(db))
          out(
            `${k.fingerprint}  ${k.state.padEnd(7)}  valid from ${k.validFrom}${
              k.validUntil ? ` until ${k.validUntil}` : ''
            }`,
          );
      });
    },
  );
  withSettings(
    keys
      .command('rotate')
      .description(
        'Retire the current signing key and start signing with a new one (the retired key stays published).',
      ),
  ).action(async (_o, cmd: Command) => {
    await withDb(cmd, async (db, config) => {
      const r = await rotateInstanceKey(db, config);
      await writeAudit(db, { actor: cliActor(), action: 'keys.rotate', subject: `key:${r.current}`, detail: r });
      out(`retired ${r.retired} (valid until ${r.at})`);
      out(`current ${r.current}`);
      out(
        'Partners that registered the retired key: send them the new one (GET /api/v1/actions/public-key; its ' +
          'endorsement is signed by the retired key).',
      );
    });
  });

  const privacy = program.command('privacy').description('Retention and erasure of personal data.');
  withSettings(
    privacy
      .command('erase')
      .description(
        'Erase a reporter: identity and reports deleted; evidence referred to an authority stays under its case, ' +
          'without the identity.',
      ),
  )
    .option('--user <id>', 'the reporter’s account id')
    .option('--email <address>', 'the reporter’s e-mail address')
    .option('--number <phone>', 'the reporter’s phone number (SMS reports)')
    .action(async (o: { user?: string; email?: string; number?: string }, cmd: Command) => {
      if (!o.user && !o.email && !o.number) fail('name the reporter: --user, --email or --number', 2);
      await withDb(cmd, async (db) => {
        try {
          out(
            JSON.stringify(
              await eraseReporter(db, { userId: o.user, email: o.email, number: o.number }, cliActor()),
              null,
              2,
            ),
          );
        } catch (e) {
          fail(e instanceof Error ? e.message : String(e));
        }
      });
    });
  withSettings(
    privacy
      .command('retention')
      .description('Apply the retention periods now (serve does it every SPAMDESK_RETENTION_INTERVAL_MINUTES).'),
  ).action(async (_o, cmd: Command) => {
    await withDb(cmd, async (db, config) => {
      out(JSON.stringify(await applyRetention(db, config), null, 2));
    });
  });
}
