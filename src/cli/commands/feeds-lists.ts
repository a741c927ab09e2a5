/**
 * `spamdesk feeds dnsbl --out DIR`: writes the DNS blocklist's rbldnsd zones and `DIR/rbldnsd.zones`
 * (one `zone:type:file` argument per line), so `rbldnsd -r DIR -b 127.0.0.1/5353 $(cat
 * DIR/rbldnsd.zones)` serves them, plus the SpamAssassin and Postfix snippets for the instance's
 * zones. With `--refresh` it first runs a listing pass (when no `serve` holds the listing lease).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { configFrom, withSettings } from '../options.ts';
import { openDatabase } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { newId } from '../../core/ids.ts';
import { publicBaseUrl } from '../../core/config.ts';
import { policyFor } from '../../actions/action-policy.ts';
import { runListingPass } from '../../feeds/lists/pass.ts';
import { releaseLease, takeLease } from '../../feeds/lists/store.ts';
import { renderZones, writeFileAtomic, writeZones } from '../../feeds/lists/zones.ts';
import {
  POSTFIX_FILE,
  SPAMASSASSIN_FILE,
  postfixConfig,
  spamAssassinConfig,
} from '../../feeds/lists/consumer-config.ts';

/** How long `--refresh` holds the listing lease (a pass over a large backlog can take a while). */
const CLI_LEASE_MS = 10 * 60_000;

export function registerFeedsLists(program: Command): void {
  const feeds =
    program.commands.find((c) => c.name() === 'feeds') ??
    program.command('feeds').description('Feeds for filters: the DNS blocklist zones and the plain lists.');
  withSettings(
    feeds
      .command('dnsbl')
      .description(
        'Write the DNS blocklist as rbldnsd zones (ip4trie, ip6trie, dnset) and DIR/rbldnsd.zones, plus ' +
          'SpamAssassin and Postfix snippets; files are replaced atomically and only when they changed.',
      )
      .requiredOption('--out <dir>', 'directory to write the zones to')
      .option('--refresh', 'run a listing pass first (skipped while a running serve holds the listing lease)'),
  ).action(async (o: { out: string; refresh?: boolean }, cmd: Command) => {
    const config = configFrom(cmd);
    const policy = policyFor(config);
    const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
    try {
      await migrateToLatest(db);
      if (o.refresh) {
        const owner = `cli-${process.pid}-${newId()}`;
        if (await takeLease(db, owner, CLI_LEASE_MS)) {
          try {
            const r = await runListingPass(db, config, policy, new Date());
            process.stderr.write(`listing pass: ${r.facts} fact(s) read, ${r.judged} judged, ${r.changed} changed\n`);
          } finally {
            await releaseLease(db, owner);
          }
        } else {
          process.stderr.write('a running serve holds the listing lease: writing the listings it keeps\n');
        }
      }
      const dir = path.resolve(o.out);
      const written = writeZones(dir, await renderZones(db, policy, publicBaseUrl(config)));
      writeFileAtomic(path.join(dir, SPAMASSASSIN_FILE), spamAssassinConfig(policy));
      writeFileAtomic(path.join(dir, POSTFIX_FILE), postfixConfig(policy));
      process.stdout.write(
        `${written.length ? `wrote ${written.join(', ')}` : 'zones unchanged'} in ${dir}\n` +
          `serve them with: rbldnsd -r ${dir} -b 127.0.0.1/5353 $(cat ${path.join(dir, 'rbldnsd.zones')})\n`,
      );
    } finally {
      await db.destroy();
    }
  });
}
