/** `token create|list|revoke`. */
import type { Command } from 'commander';
import { configFrom, fail, withSettings } from '../options.ts';
import { openDatabase } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { createToken, listTokens, revokeToken } from '../../db/tokens.ts';
import { ROLES, isRole } from '../../core/roles.ts';

export function registerToken(program: Command): void {
  const token = program.command('token').description('Manage API tokens.');
  withSettings(token.command('create').description('Create a token; it is printed once and only its hash is stored.'))
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'a label (who or what uses it)')
    .option('--user <userId>', 'tie the token to a user account')
    .action(async (o: { role: string; name?: string; user?: string }, cmd: Command) => {
      if (!isRole(o.role)) fail(`unknown role "${o.role}"; choose one of ${ROLES.join(', ')}`, 2);
      const config = configFrom(cmd);
      const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
      try {
        await migrateToLatest(db);
        const t = await createToken(db, { role: o.role, name: o.name ?? null, userId: o.user ?? null });
        process.stderr.write(
          `Created token ${t.id} (role ${t.role}${t.name ? `, name ${t.name}` : ''}). It is shown only now:\n`,
        );
        process.stdout.write(`${t.secret}\n`);
      } finally {
        await db.destroy();
      }
    });
  withSettings(token.command('list').description('List tokens (never their secrets).')).action(
    async (_o, cmd: Command) => {
      const config = configFrom(cmd);
      const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
      try {
        await migrateToLatest(db);
        for (const t of await listTokens(db)) {
          process.stdout.write(
            `${t.id}  ${t.role.padEnd(16)} ${(t.name ?? '').padEnd(20)} created ${t.created_at}${
              t.revoked_at ? `  REVOKED ${t.revoked_at}` : ''
            }\n`,
          );
        }
      } finally {
        await db.destroy();
      }
    },
  );
  withSettings(token.command('revoke').description('Revoke a token by id.'))
    .argument('<id>')
    .action(async (id: string, _o, cmd: Command) => {
      const config = configFrom(cmd);
      const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
      try {
        if (!(await revokeToken(db, id))) fail(`no live token ${id}`);
        process.stdout.write(`revoked ${id}\n`);
      } finally {
        await db.destroy();
      }
    });
}
