/**
 * Locks for the work that must run in one process at a time however many run (`spamdesk serve`
 * on several machines): the roll-ups of the workbench index, the ISP-digest scheduler, the
 * retention runs. A process asks for a name; while it holds it, it runs that work; when it dies,
 * another process that asked takes it over within {@link SINGLETON_POLL_MS} or so.
 *
 * - PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own,
 *   outside the pool. The server releases it when that session ends, so a process killed with
 *   SIGKILL (or a machine that drops off: TCP keep-alive) frees it. The holder checks its session
 *   on every poll; a lost session means every lock of this process is given up at once.
 * - SQLite (one machine): an exclusive lock on a small SQLite file beside the database
 *   (`<database>.locks/<name>`), held by an open connection. It is a POSIX record lock: the kernel
 *   releases it when the process exits, however it exits, so a stale lock file never blocks.
 * - `:memory:` has one process by definition: every lock is held.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { Config } from '../core/config.ts';

/** How often a process that wants a lock it does not hold tries again (and a holder checks it still holds). */
export const SINGLETON_POLL_MS = 1000;

/** Advisory-lock key space of Spamdesk's singletons (the first half of the two-int key). */
const ADVISORY_CLASS = 0x5d5d;

/** A stable 31-bit key for a name (FNV-1a), the second half of the advisory-lock key. */
export function singletonKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x7fffffff;
}

export interface SingletonLocks {
  /** Starts wanting `name`: tried at once and on every poll until held; resolves once tried (true: held). */
  want(name: string): Promise<boolean>;
  /** True while this process holds `name`. */
  held(name: string): boolean;
  /** Tries now for every wanted lock not held (the poll calls it); resolves once done. */
  poll(): Promise<void>;
  /** Releases every lock and the connection. */
  close(): Promise<void>;
}

export interface SingletonLockOptions {
  /** Called when a lock is taken or lost (for the log). */
  onChange?: (name: string, held: boolean, reason?: string) => void;
  /** Poll interval (tests shorten it). */
  pollMs?: number;
}

interface Backend {
  tryTake(name: string): Promise<boolean>;
  /** Whether the held locks are still held (the session lives); false gives all of them up. */
  alive(): Promise<boolean>;
  release(name: string): Promise<void>;
  close(): Promise<void>;
}

function postgresBackend(url: string): Backend {
  let client: pg.Client | null = null;
  let broken = false;
  const connect = async (): Promise<pg.Client> => {
    if (client && !broken) return client;
    if (client) await client.end().catch(() => undefined);
    broken = false;
    const c = new pg.Client({
      connectionString: url,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      application_name: 'spamdesk-singletons',
    });
    c.on('error', () => {
      broken = true;
    });
    c.on('end', () => {
      broken = true;
    });
    await c.connect();
    client = c;
    return c;
  };
  return {
    async tryTake(name) {
      const c = await connect();
      const r = await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [
        ADVISORY_CLASS,
        singletonKey(name),
      ]);
      return r.rows[0]?.ok === true;
    },
    async alive() {
      if (!client || broken) return false;
      try {
        await client.query('select 1');
        return true;
      } catch {
        broken = true;
        return false;
      }
    },
    async release(name) {
      if (!client || broken) return;
      await client.query('select pg_advisory_unlock($1, $2)', [ADVISORY_CLASS, singletonKey(name)]).catch(() => {
        broken = true;
      });
    },
    async close() {
      const c = client;
      client = null;
      if (c) await c.end().catch(() => undefined);
    },
  };
}

function sqliteBackend(dbPath: string): Backend {
  const dir = `${dbPath}.locks`;
  const open = new Map<string, BetterSqlite3.Database>();
  return {
    async tryTake(name) {
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${name.replace(/[^a-z0-9-]/gi, '_')}.lock`);
      const conn = new BetterSqlite3(file, { timeout: 0 });
      try {
        conn.pragma('locking_mode = EXCLUSIVE');
        // A write takes the exclusive lock, and locking_mode EXCLUSIVE keeps it after COMMIT.
        conn.exec('begin exclusive; create table if not exists holder (pid integer); delete from holder;');
        conn.prepare('insert into holder (pid) values (?)').run(process.pid);
        conn.exec('commit');
        open.set(name, conn);
        return true;
      } catch {
        conn.close();
        return false;
      }
    },
    async alive() {
      return true;
    },
    async release(name) {
      open.get(name)?.close();
      open.delete(name);
    },
    async close() {
      for (const c of open.values()) c.close();
      open.clear();
    },
  };
}

function memoryBackend(): Backend {
  return {
    tryTake: async () => true,
    alive: async () => true,
    release: async () => undefined,
    close: async () => undefined,
  };
}

/** The locks of this process for `database`; polls until closed. */
export function openSingletonLocks(database: Config['database'], opts: SingletonLockOptions = {}): SingletonLocks {
  const backend =
    database.dialect === 'postgres'
      ? postgresBackend(database.url)
      : database.path === ':memory:'
        ? memoryBackend()
        : sqliteBackend(database.path);
  const wanted = new Set<string>();
  const holding = new Set<string>();
  /** Names tried at least once (`want` resolves after the first try). */
  const tried = new Set<string>();
  let closed = false;
  let running: Promise<void> | null = null;

  const round = async (): Promise<void> => {
    if (holding.size > 0 && !(await backend.alive())) {
      for (const n of holding) opts.onChange?.(n, false, 'lock session lost');
      holding.clear();
    }
    for (const name of wanted) {
      if (closed || holding.has(name)) continue;
      tried.add(name);
      try {
        if (await backend.tryTake(name)) {
          if (closed) {
            await backend.release(name);
            continue;
          }
          holding.add(name);
          opts.onChange?.(name, true);
        }
      } catch (e) {
        // The database is away: try again on the next poll.
        opts.onChange?.(name, false, e instanceof Error ? e.message : String(e));
        break;
      }
    }
  };
  const poll = (): Promise<void> => {
    running ??= round().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => void poll(), opts.pollMs ?? SINGLETON_POLL_MS);
  timer.unref();

  return {
    async want(name) {
      wanted.add(name);
      // A round already under way may have passed the name: the next one tries it.
      for (let i = 0; i < 2 && !tried.has(name) && !closed; i++) await poll();
      return holding.has(name);
    },
    held: (name) => holding.has(name),
    poll,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
      for (const n of holding) await backend.release(n);
      holding.clear();
      await backend.close();
    },
  };
}
