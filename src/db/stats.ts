/** Counts for `spamdesk stats` and the health view. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface Stats {
  messages: number;
  rawBytes: number;
  storedBytes: number;
  reports: number;
  reportsByChannel: Record<string, number>;
  jobs: Record<string, number>;
  deadLetters: number;
  tokens: number;
}

export async function collectStats(db: Kysely<Database>): Promise<Stats> {
  const m = await db
    .selectFrom('messages')
    .select((eb) => [
      eb.fn.countAll<number>().as('n'),
      eb.fn.sum<number>('size').as('raw'),
      eb.fn.sum<number>(eb.fn('length', ['content'])).as('stored'),
    ])
    .executeTakeFirstOrThrow();
  const byChannel = await db
    .selectFrom('reports')
    .select(['channel', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('channel')
    .execute();
  const jobs = await db
    .selectFrom('jobs')
    .select(['kind', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['kind', 'state'])
    .execute();
  const dl = await db
    .selectFrom('dead_letters')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const tk = await db
    .selectFrom('api_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  const reportsByChannel: Record<string, number> = {};
  let reports = 0;
  for (const r of byChannel) {
    reportsByChannel[r.channel] = Number(r.n);
    reports += Number(r.n);
  }
  return {
    messages: Number(m.n),
    rawBytes: Number(m.raw ?? 0),
    storedBytes: Number(m.stored ?? 0),
    reports,
    reportsByChannel,
    jobs: Object.fromEntries(jobs.map((j) => [`${j.kind}/${j.state}`, Number(j.n)])),
    deadLetters: Number(dl.n),
    tokens: Number(tk.n),
  };
}
