/**
 * `intel collections|collection-add|collection-set|grant|grants|revoke|build|stix`: the
 * threat-intelligence collections (STIX 2.1 over TAXII 2.1, MISP feed) and who may read them.
 * Every change is audited as the CLI's operator.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Command } from 'commander';
import { configFrom, fail, withSettings } from '../options.ts';
import { openDatabase, type DB } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import type { Config } from '../../core/config.ts';
import { isAppError } from '../../core/errors.ts';
import { writeAudit } from '../../evidence/audit.ts';
import {
  createCollection,
  findCollection,
  grantAccess,
  INDICATOR_KINDS,
  listCollections,
  listGrants,
  revokeGrant,
  updateCollection,
} from '../../feeds/intel/collections.ts';
import { buildIntel } from '../../feeds/intel/build.ts';
import { currentObjects } from '../../feeds/intel/bundle.ts';
import { stixProblems } from '../../feeds/intel/stix-validate.ts';

const ACTOR = `cli:${os.userInfo().username}`;

async function withDb(cmd: Command, run: (db: DB, config: Config) => Promise<void>): Promise<void> {
  const config = configFrom(cmd);
  const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
  try {
    await migrateToLatest(db);
    await run(db, config);
  } catch (e) {
    if (isAppError(e)) fail(e.message, 2);
    throw e;
  } finally {
    await db.destroy();
  }
}

function csv(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
}

interface CollectionOpts {
  title?: string;
  description?: string;
  tlp?: string;
  categories?: string;
  kinds?: string;
  minReports?: string;
}

function collectionBody(o: CollectionOpts): Record<string, unknown> {
  return {
    ...(o.title !== undefined ? { title: o.title } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    ...(o.tlp !== undefined ? { tlp: o.tlp } : {}),
    ...(o.categories !== undefined ? { categories: csv(o.categories) } : {}),
    ...(o.kinds !== undefined ? { kinds: csv(o.kinds) } : {}),
    ...(o.minReports !== undefined ? { minReports: Number(o.minReports) } : {}),
  };
}

function collectionOptions(c: Command): Command {
  return c
    .option('--description <text>', 'what the collection holds, for its readers')
    .option('--tlp <level>', 'white, green, amber (default) or red')
    .option('--categories <list>', 'comma-separated abusive categories (phishing,malware,scam,commercial); none: all')
    .option('--kinds <list>', `comma-separated indicator kinds (${INDICATOR_KINDS.join(',')})`)
    .option('--min-reports <n>', 'publish a campaign once it has this many reports');
}

export function registerIntel(program: Command): void {
  const intel = program
    .command('intel')
    .description('Threat-intelligence collections (STIX 2.1 over TAXII 2.1, MISP feed) and who may read them.');

  withSettings(intel.command('collections').description('List the collections.')).action(async (_o, cmd: Command) => {
    await withDb(cmd, async (db) => {
      for (const c of await listCollections(db))
        process.stdout.write(
          `${c.id}  ${c.alias.padEnd(24)} TLP:${c.tlp.toUpperCase().padEnd(6)} kinds ${c.kinds.join(',')}  categories ${
            c.categories.join(',') || 'all abusive'
          }  min ${c.minReports} report(s)\n`,
        );
    });
  });

  withSettings(collectionOptions(intel.command('collection-add').description('Create a collection.')))
    .argument('<alias>', 'short name (lower case, digits, dashes)')
    .requiredOption('--title <title>', 'title shown to TAXII clients')
    .action(async (alias: string, o: CollectionOpts, cmd: Command) => {
      await withDb(cmd, async (db) => {
        const c = await createCollection(db, { alias, ...collectionBody(o) });
        await writeAudit(db, {
          actor: ACTOR,
          action: 'intel.collection.create',
          subject: `intel-collection:${c.id}`,
          detail: { alias: c.alias, tlp: c.tlp, categories: c.categories, kinds: c.kinds, minReports: c.minReports },
        });
        process.stdout.write(`${c.id}\n`);
      });
    });

  withSettings(collectionOptions(intel.command('collection-set').description('Change a collection.')))
    .argument('<collection>', 'id or alias')
    .option('--title <title>', 'title shown to TAXII clients')
    .action(async (ref: string, o: CollectionOpts, cmd: Command) => {
      await withDb(cmd, async (db) => {
        const before = await findCollection(db, ref);
        const c = await updateCollection(db, ref, collectionBody(o));
        await writeAudit(db, {
          actor: ACTOR,
          action: 'intel.collection.update',
          subject: `intel-collection:${c.id}`,
          detail: { before, after: c },
        });
        process.stdout.write(`updated ${c.alias}\n`);
      });
    });

  withSettings(intel.command('grant').description('Grant an API token or an account read access to a collection.'))
    .argument('<collection>', 'id or alias')
    .option('--token <tokenId>', 'the token (id, as `spamdesk token list` shows it)')
    .option('--user <userId>', 'the account (all its tokens and its session)')
    .action(async (ref: string, o: { token?: string; user?: string }, cmd: Command) => {
      await withDb(cmd, async (db) => {
        const c = await findCollection(db, ref);
        if (!c) fail(`no collection ${ref}`, 2);
        const g = await grantAccess(db, c.id, { tokenId: o.token ?? null, userId: o.user ?? null }, ACTOR);
        await writeAudit(db, {
          actor: ACTOR,
          action: 'intel.grant',
          subject: `intel-collection:${c.id}`,
          detail: { grant: g.id, tokenId: g.token_id, userId: g.user_id },
        });
        process.stdout.write(`${g.id}\n`);
      });
    });

  withSettings(intel.command('grants').description('List the grants of a collection.'))
    .argument('<collection>', 'id or alias')
    .action(async (ref: string, _o, cmd: Command) => {
      await withDb(cmd, async (db) => {
        const c = await findCollection(db, ref);
        if (!c) fail(`no collection ${ref}`, 2);
        let after: string | undefined;
        for (;;) {
          const page = await listGrants(db, c.id, { after, limit: 500 });
          for (const g of page)
            process.stdout.write(
              `${g.id}  ${g.token_id ? `token ${g.token_id}` : `user ${g.user_id}`}  granted ${g.granted_at} by ${
                g.granted_by
              }${g.revoked_at ? `  REVOKED ${g.revoked_at}` : ''}\n`,
            );
          const last = page[page.length - 1];
          if (!last || page.length < 500) break;
          after = last.id;
        }
      });
    });

  withSettings(intel.command('revoke').description('Revoke a grant by id.'))
    .argument('<grantId>')
    .action(async (id: string, _o, cmd: Command) => {
      await withDb(cmd, async (db) => {
        const g = await revokeGrant(db, id);
        await writeAudit(db, {
          actor: ACTOR,
          action: 'intel.grant.revoke',
          subject: `intel-collection:${g.collection_id}`,
          detail: { grant: g.id, tokenId: g.token_id, userId: g.user_id },
        });
        process.stdout.write(`revoked ${g.id}\n`);
      });
    });

  withSettings(
    intel.command('build').description('Rebuild every collection now (what `serve` does periodically).'),
  ).action(async (_o, cmd: Command) => {
    await withDb(cmd, async (db, config) => {
      process.stdout.write(`${JSON.stringify(await buildIntel(db, config), null, 2)}\n`);
    });
  });

  withSettings(intel.command('stix').description('Write the current content of a collection as one STIX 2.1 bundle.'))
    .argument('<collection>', 'id or alias')
    .option('--out <file>', 'write to this file instead of standard output')
    .option('--validate', 'check the bundle against the OASIS STIX 2.1 JSON schemas; exit 1 on a problem')
    .action(async (ref: string, o: { out?: string; validate?: boolean }, cmd: Command) => {
      await withDb(cmd, async (db) => {
        const c = await findCollection(db, ref);
        if (!c) fail(`no collection ${ref}`, 2);
        const { body, count } = await currentObjects(db, c.id);
        if (o.validate) {
          const problems = stixProblems(JSON.parse(body));
          if (problems.length > 0) fail(`the bundle does not validate:\n${problems.slice(0, 50).join('\n')}`, 1);
        }
        if (o.out) {
          fs.writeFileSync(o.out, body);
          process.stderr.write(`wrote ${count} objects to ${o.out}\n`);
        } else process.stdout.write(`${body}\n`);
      });
    });
}
