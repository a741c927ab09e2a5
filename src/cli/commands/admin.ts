/**
 * `spamdesk admin create`: an account with a one-time password (printed once) or one read from
 * stdin; `admin reset`, `admin disable`, `admin enable`, `admin role`: the services the `/admin`
 * pages call, audited the same way.
 */
import type { Command } from 'commander';
import { configFrom, fail, withSettings } from '../options.ts';
import { openDatabase } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { ROLES, isRole } from '../../core/roles.ts';
import { AppError } from '../../core/errors.ts';
import {
  accountsDb,
  createAccount,
  normaliseEmail,
  resetPassword,
  setAccountDisabled,
  setAccountRole,
} from '../../db/accounts.ts';
import { writeAudit } from '../../evidence/audit.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { cliActor } from '../options.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('Manage web accounts.');
  withSettings(
    admin
      .command('create')
      .description(
        'Create an account (default role admin). Prints a one-time password unless --password-stdin is given.',
      ),
  )
    .requiredOption('--email <address>', 'e-mail address used to sign in')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'admin')
    .option('--name <name>', 'display name')
    .option('--password-stdin', 'read the password from standard input (at least 12 characters)')
    .option('--authority <id>', 'authority id (authority accounts)')
    .option('--networks <asns>', 'comma-separated AS numbers (network-operator accounts)')
    .action(
      async (
        o: {
          email: string;
          role: string;
          name?: string;
          passwordStdin?: boolean;
          authority?: string;
          networks?: string;
        },
        cmd: Command,
      ) => {
        if (!isRole(o.role)) fail(`unknown role "${o.role}"; choose one of ${ROLES.join(', ')}`, 2);
        const networks = (o.networks ?? '')
          .split(',')
          .map((s) => s.trim().replace(/^AS/i, ''))
          .filter(Boolean);
        if (networks.some((n) => !/^\d{1,10}$/.test(n))) fail(`--networks must be AS numbers, got "${o.networks}"`, 2);
        const password = o.passwordStdin ? await readStdin() : undefined;
        const config = configFrom(cmd);
        const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
        try {
          await migrateToLatest(db);
          const { id, generatedPassword } = await createAccount(db, {
            email: o.email,
            role: o.role,
            name: o.name ?? null,
            password,
            authorityId: o.authority ?? null,
            networks: networks.map(Number),
          });
          process.stderr.write(`Created ${o.role} account ${id} <${o.email.trim().toLowerCase()}>.\n`);
          if (generatedPassword) {
            process.stderr.write('One-time password (shown only now; it must be changed at first sign-in):\n');
            process.stdout.write(`${generatedPassword}\n`);
          }
        } catch (e) {
          if (e instanceof AppError) fail(e.message);
          throw e;
        } finally {
          await db.destroy();
        }
      },
    );

  const byEmail = async (db: Kysely<Database>, email: string): Promise<string> => {
    const u = await accountsDb(db)
      .selectFrom('users')
      .select('id')
      .where('email', '=', normaliseEmail(email))
      .executeTakeFirst();
    if (!u) fail(`no account ${email}`);
    return u.id;
  };
  const withDb = async (cmd: Command, fn: (db: Kysely<Database>) => Promise<void>) => {
    const config = configFrom(cmd);
    const db = openDatabase(config.database, { synchronous: config.sqliteSynchronous });
    try {
      await migrateToLatest(db);
      await fn(db);
    } catch (e) {
      if (e instanceof AppError) fail(e.message);
      throw e;
    } finally {
      await db.destroy();
    }
  };
  const audit = (db: Kysely<Database>, action: string, id: string, detail?: Record<string, unknown>) =>
    writeAudit(db, { actor: cliActor(), action, subject: `user:${id}`, ip: null, ...(detail ? { detail } : {}) });
  withSettings(
    admin
      .command('reset')
      .description('Give an account a new one-time password (printed once; it must be changed at the next sign-in).'),
  )
    .requiredOption('--email <address>')
    .action(async (o: { email: string }, cmd: Command) =>
      withDb(cmd, async (db) => {
        const id = await byEmail(db, o.email);
        const password = await resetPassword(db, id);
        await audit(db, 'account.reset-password', id);
        process.stderr.write('One-time password (shown only now; it must be changed at the next sign-in):\n');
        process.stdout.write(`${password}\n`);
      }),
    );
  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    withSettings(admin.command(name).description(`${disabled ? 'Disable' : 'Enable'} an account.`))
      .requiredOption('--email <address>')
      .action(async (o: { email: string }, cmd: Command) =>
        withDb(cmd, async (db) => {
          const id = await byEmail(db, o.email);
          if (await setAccountDisabled(db, id, disabled)) await audit(db, `account.${name}`, id);
          process.stdout.write(`${name}d ${normaliseEmail(o.email)}\n`);
        }),
      );
  }
  withSettings(
    admin.command('role').description("Change an account's role (its sessions end, its tokens are revoked)."),
  )
    .requiredOption('--email <address>')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--authority <id>', 'authority id (authority accounts)')
    .option('--networks <asns>', 'comma-separated AS numbers (network-operator accounts)')
    .action(async (o: { email: string; role: string; authority?: string; networks?: string }, cmd: Command) => {
      if (!isRole(o.role)) fail(`unknown role "${o.role}"; choose one of ${ROLES.join(', ')}`, 2);
      const role = o.role;
      const networks = (o.networks ?? '')
        .split(',')
        .map((s) => s.trim().replace(/^AS/i, ''))
        .filter(Boolean);
      if (networks.some((n) => !/^\d{1,10}$/.test(n))) fail(`--networks must be AS numbers, got "${o.networks}"`, 2);
      await withDb(cmd, async (db) => {
        const id = await byEmail(db, o.email);
        await setAccountRole(db, id, { role, authorityId: o.authority ?? null, networks: networks.map(Number) });
        await audit(db, 'account.role', id, { role, authorityId: o.authority ?? null, networks });
        process.stdout.write(`${normaliseEmail(o.email)} is now ${role}\n`);
      });
    });
}
