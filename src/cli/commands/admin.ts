/** `spamdesk admin create`: an account with a one-time password (printed once) or one read from stdin. */
import type { Command } from 'commander';
import { configFrom, fail, withSettings } from '../options.ts';
import { openDatabase } from '../../db/dialect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { ROLES, isRole } from '../../core/roles.ts';
import { AppError } from '../../core/errors.ts';
import { createAccount } from '../../db/accounts.ts';

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
}
