/**
 * The only place that knows which SQL engine is underneath (STYLE.md: "keep any dialect quirk in
 * one db/dialect module"). Everything else builds dialect-agnostic queries with Kysely.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { StatementCachingClient } from './pg-statement-cache.ts';
import { sqlProfiling, timed } from './sql-profile.ts';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type ColumnDataType,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely';
import type { Config } from '../core/config.ts';
import type { Database } from './schema.ts';

export type DB = Kysely<Database>;
export type DialectName = 'sqlite' | 'postgres';

// Return BIGINT (count(*), sums) as numbers rather than strings; our counts stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

export interface OpenOptions {
  /** SQLite `synchronous` pragma. */
  synchronous?: 'FULL' | 'NORMAL' | 'EXTRA' | 'OFF';
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** SQLite page cache of this connection, in KiB (default 64 MiB). */
  cacheKib?: number;
  /**
   * SQLite: take the write lock of a transaction by asking again every `everyMs` (blocking this thread meanwhile, as
   * SQLite's own busy handler does) for up to `timeoutMs` (default {@link SQLITE_BUSY_TIMEOUT_MS}), rather than with
   * SQLite's handler, which sleeps longer and longer (1, 2, 5 … 25, 50, 100 ms) and so wakes up to 100 ms after the
   * lock came free, or misses it when the other process takes it again meanwhile. For a worker thread only: on a
   * main thread the event loop would wait too. The intake's commit thread (`sqlite-commit-thread.ts`) uses it.
   */
  lockPoll?: { everyMs: number; timeoutMs?: number };
}

/**
 * SQLite transactions that take the write lock when they begin (`BEGIN IMMEDIATE`). Kysely begins
 * them DEFERRED: a transaction that read first and then writes must upgrade its lock, and in WAL
 * mode an upgrade that meets another process's commit fails at once with SQLITE_BUSY(_SNAPSHOT),
 * whatever the busy timeout — `spamdesk import` beside a running server stopped so at ~60 %.
 * Taken at BEGIN, the lock waits its turn under the busy timeout like any other.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #begin: (() => void) | null;
  constructor(config: SqliteDialectConfig, begin: (() => void) | null) {
    super(config);
    this.#begin = begin;
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.#begin) this.#begin();
    else await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #begin: (() => void) | null;
  constructor(config: SqliteDialectConfig, begin: (() => void) | null = null) {
    super(config);
    this.#config = config;
    this.#begin = begin;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#begin);
  }
}

/** `BEGIN IMMEDIATE`, asking for the write lock every `everyMs` (see `OpenOptions.lockPoll`). */
export function pollingBegin(
  sqlite: BetterSqlite3.Database,
  everyMs: number,
  timeoutMs = SQLITE_BUSY_TIMEOUT_MS,
): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = performance.now() + timeoutMs;
  // SQLite's own handler off while this one asks, back on once the lock is held.
  sqlite.pragma('busy_timeout = 0');
  try {
    for (;;) {
      try {
        sqlite.exec('BEGIN IMMEDIATE');
        return;
      } catch (e) {
        // SQLITE_BUSY, or an extended form of it (another connection recovering the WAL): ask again.
        const busy = String((e as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY');
        if (!busy || performance.now() >= deadline) throw e;
      }
      Atomics.wait(sleeper, 0, 0, everyMs);
    }
  } finally {
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  }
}

/**
 * Text that both engines store as given. PostgreSQL refuses NUL in text ("invalid byte sequence
 * for encoding UTF8: 0x00") and both engines' drivers encode a lone UTF-16 surrogate as U+FFFD
 * silently, so a stored value would no longer equal the one compared later. Each becomes U+FFFD
 * here, before any write or comparison: a Subject with `\0` is stored (and searched) as `\uFFFD`.
 */
export function safeText(s: string): string {
  // The usual case answered natively: no NUL and no lone surrogate (`isWellFormed`, ES2024, in Node 20).
  // The regex scan it replaces was ~2 % of the background process's main thread (a stored analysis is
  // ~10 kB of JSON): 33–36 µs against 11 µs per 10 kB string.
  if (s.indexOf('\0') === -1 && (s as WellFormedString).isWellFormed()) return s;
  UNSAFE_TEXT.lastIndex = 0;
  return s.replace(UNSAFE_TEXT, '\uFFFD');
}

/** `String.prototype.isWellFormed` (ES2024: not in this project's `lib`, present in Node 20). */
type WellFormedString = string & { isWellFormed(): boolean };

/** NUL, a high surrogate not followed by a low one, a low surrogate not preceded by a high one. */
const UNSAFE_TEXT = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function safeParameter(v: unknown): unknown {
  if (typeof v === 'string') return safeText(v);
  if (Array.isArray(v) && v.some((x) => typeof x === 'string'))
    return v.map((x: unknown) => (typeof x === 'string' ? safeText(x) : x));
  return v;
}

/** The query with every text parameter made safe; the same object when nothing needed it (the usual case). */
export function safeQuery(q: CompiledQuery): CompiledQuery {
  let fixed: unknown[] | null = null;
  q.parameters.forEach((v, i) => {
    const w = safeParameter(v);
    if (w === v) return;
    fixed ??= [...q.parameters];
    fixed[i] = w;
  });
  return fixed ? Object.assign({}, q, { parameters: fixed }) : q;
}

/**
 * Runs every query's parameters through {@link safeQuery} at the connection, below Kysely's query
 * builder: every write of every stage (intake, analysis, indexer, campaigns, actions), raw `sql`
 * templates and `CompiledQuery.raw` included, is covered in this one place. The wrapped driver
 * gets its own connection objects back (PostgreSQL releases a client through a private method).
 */
class SafeTextDriver implements Driver {
  readonly #inner: Driver;
  readonly #own = new WeakMap<DatabaseConnection, DatabaseConnection>();
  constructor(inner: Driver) {
    this.#inner = inner;
  }
  #unwrap(c: DatabaseConnection): DatabaseConnection {
    return this.#own.get(c) ?? c;
  }
  init(): Promise<void> {
    return this.#inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#inner.acquireConnection();
    const outer: DatabaseConnection = {
      executeQuery: <R>(q: CompiledQuery): Promise<QueryResult<R>> =>
        sqlProfiling ? timed(q.sql, () => inner.executeQuery<R>(safeQuery(q))) : inner.executeQuery<R>(safeQuery(q)),
      streamQuery: <R>(q: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> =>
        inner.streamQuery<R>(safeQuery(q), chunkSize),
    };
    this.#own.set(outer, inner);
    return outer;
  }
  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(this.#unwrap(c), settings);
  }
  commitTransaction(c: DatabaseConnection): Promise<void> {
    if (sqlProfiling) return timed('commit', () => this.#inner.commitTransaction(this.#unwrap(c)));
    return this.#inner.commitTransaction(this.#unwrap(c));
  }
  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(this.#unwrap(c));
  }
  async savepoint(
    c: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['savepoint']>>[2],
  ): Promise<void> {
    await this.#inner.savepoint?.(this.#unwrap(c), name, compile);
  }
  async rollbackToSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(this.#unwrap(c), name, compile);
  }
  async releaseSavepoint(
    c: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.(this.#unwrap(c), name, compile);
  }
  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#unwrap(c));
  }
  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

/** A dialect whose driver is wrapped in {@link SafeTextDriver}. */
function withSafeText(d: Dialect): Dialect {
  return {
    createAdapter: () => d.createAdapter(),
    createDriver: () => new SafeTextDriver(d.createDriver()),
    createIntrospector: (db) => d.createIntrospector(db),
    createQueryCompiler: () => d.createQueryCompiler(),
  };
}

/** Prepared SQLite statements kept per connection (the hot queries of the pipeline are a few dozen). */
export const SQLITE_STATEMENT_CACHE = 1000;

/**
 * The connection as Kysely sees it, with each statement prepared once and reused: Kysely prepares
 * every query again (better-sqlite3 `prepare` was 9–11 % of the pipeline's main thread, issue 17).
 * Least recently used statements are dropped past {@link SQLITE_STATEMENT_CACHE}; one still being
 * iterated (`busy`) is never handed out twice — a fresh one is prepared instead.
 */
function withStatementCache(db: BetterSqlite3.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      const hit = cache.get(text);
      if (hit && !hit.busy) {
        cache.delete(text);
        cache.set(text, hit);
        return hit;
      }
      const stmt = db.prepare(text);
      if (hit) return stmt;
      cache.set(text, stmt);
      if (cache.size > SQLITE_STATEMENT_CACHE) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      return stmt;
    },
  };
}

/** How long a SQLite writer waits for another process's write lock before giving up. */
export const SQLITE_BUSY_TIMEOUT_MS = 30_000;

/** Opens the configured database. The caller owns `db.destroy()`. */
export function openDatabase(database: Config['database'], opts: OpenOptions = {}): DB {
  if (database.dialect === 'sqlite') {
    if (database.path !== ':memory:') fs.mkdirSync(path.dirname(database.path), { recursive: true });
    const sqlite = new BetterSqlite3(database.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    sqlite.pragma('foreign_keys = ON');
    // Another process (an import while the server runs) may hold the write lock for a moment.
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    sqlite.pragma(`cache_size = -${Math.max(1024, Math.round(opts.cacheKib ?? 65536))}`);
    const poll = opts.lockPoll;
    const begin = poll ? () => pollingBegin(sqlite, poll.everyMs, poll.timeoutMs) : null;
    return new Kysely<Database>({
      dialect: withSafeText(new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }, begin)),
    });
  }
  // Statements the connection runs again are kept prepared on the server (pg-statement-cache.ts).
  const pool = new pg.Pool({
    connectionString: database.url,
    max: opts.poolSize ?? 10,
    ...(database.preparedStatements === false ? {} : { Client: StatementCachingClient }),
  });
  // A client that loses its server (a PostgreSQL restart, pg_terminate_backend, the
  // idle-in-transaction timeout) must not crash the process: idle, the pool drops it; checked
  // out, its query fails with the reason and the pool drops it when it is released.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return new Kysely<Database>({ dialect: withSafeText(new PostgresDialect({ pool })) });
}

/** Which engine a Kysely instance (or transaction) talks to. */
export function dialectOf<T>(db: Kysely<T>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Column type for raw bytes. */
export function blobType<T>(db: Kysely<T>): ColumnDataType {
  return dialectOf(db) === 'postgres' ? 'bytea' : 'blob';
}

/** True when `err` is a unique-constraint violation on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * `FOR UPDATE SKIP LOCKED` where the engine has it (PostgreSQL, so several workers on several
 * machines can claim jobs); SQLite has one writer at a time, so a plain select inside the write
 * transaction is already exclusive.
 */
export function supportsSkipLocked<T>(db: Kysely<T>): boolean {
  return dialectOf(db) === 'postgres';
}

/** Checks the connection answers. */
export async function ping<T>(db: Kysely<T>): Promise<void> {
  await sql`select 1`.execute(db);
}
