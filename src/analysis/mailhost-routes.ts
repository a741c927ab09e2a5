/**
 * Declared mail hosts (`stages/traceback/declared.ts`): a reporter declares the forwarders, filters
 * and secondary MXes their mail passes through (`/api/v1/account/mailhosts`), an admin does the same
 * for an intake channel (`/api/v1/intakes/:channel/mailhosts`: a spam-trap feed's forwarders). The
 * trace-back of that key's reports analysed from then on looks past them. Each change is audited (in
 * the store's transaction): a declaration moves where blame lands. Each route: validate → authorise
 * (policy) → act → present.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.ts';
import { authorize } from '../core/policy.ts';
import { principalLabel, type Principal } from '../core/roles.ts';
import { CHANNELS } from '../evidence/report-input.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { declaredMailhosts, learnedMailhosts, replaceDeclaredMailhosts } from './mailhost-store.ts';
import { MAX_DECLARED, MAX_DECLARED_NOTE, parseDeclaration, showDeclaration } from './stages/traceback/declared.ts';
import { trustTableFor, type TrustTable } from './stages/traceback/trust.ts';

const HostsBody = z.object({
  hosts: z
    .array(
      z.union([
        z.string().max(300),
        z.object({ host: z.string().max(300), note: z.string().max(MAX_DECLARED_NOTE).optional() }).strict(),
      ]),
    )
    .max(MAX_DECLARED, `at most ${MAX_DECLARED} declared mail hosts`),
});

/** One line of a declaration as typed: `host  # note`. */
export interface TypedDeclaration {
  host: string;
  note?: string;
}

/** Reads typed declarations; throws a 400 naming each refused one and why. */
export function checkDeclarations(
  typed: readonly TypedDeclaration[],
  trust: TrustTable,
): { entry: string; note: string | null }[] {
  if (typed.length > MAX_DECLARED) throw new AppError('BAD_REQUEST', `At most ${MAX_DECLARED} declared mail hosts.`);
  const out = new Map<string, string | null>();
  const problems: { index: number; host: string; problem: string }[] = [];
  typed.forEach((t, index) => {
    const r = parseDeclaration(t.host, trust);
    if ('problem' in r) problems.push({ index, host: t.host.slice(0, 300), problem: r.problem });
    else out.set(r.entry, t.note?.trim().slice(0, MAX_DECLARED_NOTE) || null);
  });
  if (problems.length > 0)
    throw new AppError(
      'BAD_REQUEST',
      problems.map((p) => `${p.host || `entry ${p.index + 1}`}: ${p.problem}`).join('; '),
      { problems },
    );
  return [...out].map(([entry, note]) => ({ entry, note }));
}

/** The key a principal's own reports are learned and declared under (`mailhost-store.ts`), or null. */
export function ownMailhostKey(p: Principal): string | null {
  if (p.kind === 'anonymous') return null;
  if (p.userId) return `user:${p.userId}`;
  return p.kind === 'token' ? `token:${p.tokenId}` : null;
}

/** What GET answers for one key: the declarations as typed back, and what was learned. */
export async function mailhostsView(db: Kysely<Database>, key: string) {
  const declared = await declaredMailhosts(db, key);
  const learned = await learnedMailhosts(db, key);
  return {
    declared: declared.map((d) => ({
      host: showDeclaration(d.entry),
      note: d.note,
      declaredAt: d.declaredAt,
    })),
    learned: learned.map((e) => (e.startsWith('=') ? e.slice(1) : e)),
    limit: MAX_DECLARED,
  };
}

/** Replaces a key's declarations, audits the change, answers the new view. */
export async function declareMailhosts(
  db: Kysely<Database>,
  key: string,
  typed: readonly TypedDeclaration[],
  trust: TrustTable,
  p: Principal,
  ip: string | null,
) {
  const entries = checkDeclarations(typed, trust);
  const change = await replaceDeclaredMailhosts(db, key, entries, principalLabel(p), new Date(), ip);
  return {
    ...(await mailhostsView(db, key)),
    added: change.added.map(showDeclaration),
    removed: change.removed.map(showDeclaration),
    noted: change.noted.map(showDeclaration),
  };
}

function typedOf(body: unknown): TypedDeclaration[] {
  const b = HostsBody.safeParse(body ?? {});
  if (!b.success)
    throw new AppError(
      'BAD_REQUEST',
      b.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  return b.data.hosts.map((h) => (typeof h === 'string' ? { host: h } : h));
}

export async function mailhostRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app.ctx;
  const tags = ['mail hosts'];
  const trust = () => trustTableFor(config.intakeHosts, config.trustedRelaysFile ?? null);
  const ownKey = (p: Principal): string => {
    const key = ownMailhostKey(p);
    if (key === null) throw new AppError('UNAUTHENTICATED');
    return key;
  };
  const channelKey = (channel: string): string => {
    if (!(CHANNELS as readonly string[]).includes(channel))
      throw new AppError('NOT_FOUND', `No intake channel "${channel.slice(0, 40)}": one of ${CHANNELS.join(', ')}.`);
    return `intake:${channel}`;
  };

  app.get(
    '/api/v1/account/mailhosts',
    { schema: { summary: 'My declared mail hosts, and those the trace-back learned from my reports', tags } },
    async (req) => {
      authorize(req.principal, 'account:self');
      return mailhostsView(db, ownKey(req.principal));
    },
  );

  app.put(
    '/api/v1/account/mailhosts',
    {
      schema: {
        summary: 'Declare my own mail hosts (forwarders, filters, secondary MXes): the trace-back looks past them',
        description:
          'Send `{"hosts": ["mx2.example.org", "*.forwarder.example", "192.0.2.7", {"host": "198.51.100.0/24", ' +
          '"note": "my filter"}]}`: the whole list, replacing the one before (`[]` clears it). A host name matches ' +
          'a reverse name the receiver checked, never a greeting; a bare registered domain or `*.domain` every ' +
          `host in it; an address or a network of at most /16. At most ${MAX_DECLARED}. Each refused entry is ` +
          'named with its reason (`details.problems`). Applies to reports analysed from now on.',
        tags,
      },
    },
    async (req) => {
      authorize(req.principal, 'account:self');
      return declareMailhosts(db, ownKey(req.principal), typedOf(req.body), trust(), req.principal, req.ip);
    },
  );

  app.get<{ Params: { channel: string } }>(
    '/api/v1/intakes/:channel/mailhosts',
    { schema: { summary: 'An intake channel’s declared and learned mail hosts', tags } },
    async (req) => {
      authorize(req.principal, 'mailhosts:manage-intake');
      return mailhostsView(db, channelKey(req.params.channel));
    },
  );

  app.put<{ Params: { channel: string } }>(
    '/api/v1/intakes/:channel/mailhosts',
    {
      schema: {
        summary: 'Declare the mail hosts every report of an intake channel passes (a trap feed’s forwarders)',
        description: 'The same body as `PUT /api/v1/account/mailhosts`; applies to every reporter of the channel.',
        tags,
      },
    },
    async (req) => {
      authorize(req.principal, 'mailhosts:manage-intake');
      const key = channelKey(req.params.channel);
      return declareMailhosts(db, key, typedOf(req.body), trust(), req.principal, req.ip);
    },
  );
}
