/**
 * PostgreSQL connections that keep the statements the pipeline runs again and again prepared, as the
 * SQLite side keeps its statements prepared (`withStatementCache` in dialect.ts). Kysely sends every
 * query through node-postgres as an unnamed statement, so the server parses, analyses and plans it
 * each time: on the end-to-end bench PostgreSQL's backends spent 8.9 ms of CPU per report, a third of
 * the whole (issue 17). A statement text seen a second time on a connection is sent as a named
 * prepared statement (the extended protocol's Parse with a name, once per connection; then only Bind
 * and Execute), and the server keeps its parse tree and, once it finds one as good as the custom
 * plans, its generic plan (PostgreSQL's plan cache).
 *
 * Only queries and data changes (`select`, `insert`, `update`, `delete`, `with`) with parameters, at
 * most {@link MAX_NAMED} texts per connection: a statement whose text varies with its data (an `in`
 * list of as many placeholders as values, a multi-row insert) gives one text per length, and the
 * first-seen, most-repeated texts of a connection take the names. A name is never reused for another
 * text. The server invalidates a prepared plan itself when a table it reads changes (a migration, a
 * new partition); the one change it refuses to absorb is a result of other columns ("cached plan must
 * not change result type", SQLSTATE 0A000, after a column was added under a `select *`): that query
 * fails once, as any query may, its name is dropped and the statement prepared again under a new one.
 */
import pg from 'pg';

/** Named statements one connection keeps at most. */
export const MAX_NAMED = 400;
/** Texts counted at most before the counts start again (a connection's distinct texts are unbounded). */
const MAX_COUNTED = 5000;
const CACHEABLE = /^\s*(?:select|insert|update|delete|with)\b/i;
/** "cached plan must not change result type", "prepared statement does not exist". */
const STALE_CODES: ReadonlySet<string> = new Set(['0A000', '26000']);

/** How many texts a connection has sent as named statements (tests, metrics). */
export function namedStatementCount(client: pg.Client): number {
  return client instanceof StatementCachingClient ? client.namedCount : 0;
}

export class StatementCachingClient extends pg.Client {
  readonly #names = new Map<string, string>();
  readonly #seen = new Map<string, number>();
  #next = 0;

  get namedCount(): number {
    return this.#names.size;
  }

  #nameFor(text: string): string | undefined {
    const named = this.#names.get(text);
    if (named !== undefined) return named;
    if (this.#names.size >= MAX_NAMED || !CACHEABLE.test(text)) return undefined;
    const seen = (this.#seen.get(text) ?? 0) + 1;
    if (seen < 2) {
      if (this.#seen.size >= MAX_COUNTED) this.#seen.clear();
      this.#seen.set(text, seen);
      return undefined;
    }
    this.#seen.delete(text);
    const name = `spamdesk_${this.#next++}`;
    this.#names.set(text, name);
    return name;
  }

  // biome-ignore lint/suspicious/noExplicitAny: node-postgres overloads `query`; Kysely calls query(text, values).
  override query(...args: any[]): any {
    const [text, values, callback] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined)
      return super.query(...(args as Parameters<pg.Client['query']>));
    const name = this.#nameFor(text);
    if (name === undefined) return super.query(text, values);
    return super.query({ name, text, values }).catch((e: unknown) => {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && STALE_CODES.has(code)) {
        // Prepared again under a new name the next time it runs (the old one stays on the server, unused).
        this.#names.delete(text);
        this.#seen.set(text, 1);
      }
      throw e;
    });
  }
}
