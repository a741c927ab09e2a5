/**
 * Test support for the leak test: every artefact that leaves the platform or that a non-analyst
 * role can see, collected after the whole pipeline has run. One entry per source in
 * {@link ARTEFACT_SOURCES}; a new outbound channel or a new view adds one entry here (feeds, when
 * they exist, belong here: a source that returns the feed files or responses).
 *
 * - outbox: every mail and webhook body queued (referrals to authorities in both evidence modes,
 *   partner exchanges, ISP digests in X-ARF, ARF and CSV, sender feedback ARF); ZIPs inside are
 *   opened; only the originals an authority is entitled to are exempt;
 * - downloads: each referral's package as its authority downloads it;
 * - views: every GET route (and the fuzzy look-up) that an authority, network-operator, sender
 *   or partner account may call, with every id it can name, answered by the real app;
 * - feeds: none exist yet.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.ts';
import { ROUTE_RULES, passesRule } from '../core/policy.ts';
import type { Principal, Role } from '../core/roles.ts';
import { evidenceModeOf } from '../actions/cases/authorities.ts';
import type { Artefact } from './test-leak-scan.ts';

export type OutsideRole = Extract<Role, 'authority' | 'network_operator' | 'sender' | 'partner'>;
export const OUTSIDE_ROLES: readonly OutsideRole[] = ['authority', 'network_operator', 'sender', 'partner'];

export interface LeakEnv {
  ctx: AppContext;
  app: FastifyInstance;
  /** A signed-in account of each outside role (`Cookie` header value and user id). */
  accounts: Record<OutsideRole, { cookie: string; id: string }>;
  /** A message to submit to the fuzzy look-up (a planted one). */
  lookupMessage: Buffer;
}

export interface ArtefactSource {
  name: string;
  collect(env: LeakEnv): Promise<Artefact[]>;
}

const ORIGINALS = (path: string): boolean => path.startsWith('messages/original/');

/** Everything queued to leave, as the bytes that are sent. */
const outbox: ArtefactSource = {
  name: 'outbox (mail and webhooks)',
  async collect({ ctx }) {
    const { db } = ctx;
    const rows = await db.selectFrom('action_outbox').selectAll().orderBy('id').execute();
    const referrals = new Map(
      (
        await db
          .selectFrom('action_referrals as r')
          .innerJoin('action_authorities as a', 'a.id', 'r.authority_id')
          .select(['r.id', 'a.name', 'a.contact_kind', 'a.evidence_mode', 'a.legal_basis'])
          .execute()
      ).map((r) => [r.id, r]),
    );
    return rows.map((r): Artefact => {
      const ref = r.purpose === 'referral' && r.subject_id ? referrals.get(r.subject_id) : undefined;
      const audience = ref
        ? `${ref.contact_kind} ${ref.name}, ${evidenceModeOf(ref)}`
        : r.purpose === 'isp-digest'
          ? 'network operator'
          : r.purpose === 'fbl'
            ? 'sender'
            : r.purpose;
      return {
        name: `outbox ${r.purpose} ${r.channel} → ${r.destination}`,
        audience,
        kind: r.channel === 'smtp' ? 'mail' : 'json',
        bytes: r.body,
        ...(ref && evidenceModeOf(ref) === 'original-and-redacted' ? { exempt: ORIGINALS } : {}),
      };
    });
  },
};

/** Each referral's package as its authority downloads it through the API. */
const downloads: ArtefactSource = {
  name: 'package downloads',
  async collect({ ctx, app, accounts }) {
    const out: Artefact[] = [];
    const refs = await ctx.db
      .selectFrom('action_referrals as r')
      .innerJoin('action_authorities as a', 'a.id', 'r.authority_id')
      .select(['r.id', 'a.name', 'a.contact_kind', 'a.evidence_mode', 'a.legal_basis', 'a.user_id'])
      .execute();
    for (const r of refs) {
      if (r.user_id !== accounts.authority.id) continue;
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/actions/referrals/${r.id}/package`,
        headers: { cookie: accounts.authority.cookie },
      });
      if (res.statusCode !== 200) throw new Error(`package ${r.id}: HTTP ${res.statusCode}`);
      out.push({
        name: `GET /api/v1/actions/referrals/${r.id}/package`,
        audience: `authority ${r.name}`,
        kind: 'zip',
        bytes: res.rawPayload,
        ...(evidenceModeOf(r) === 'original-and-redacted' ? { exempt: ORIGINALS } : {}),
      });
    }
    return out;
  },
};

/** Values for the path parameters of the routes an outside role can call. */
async function paramValues(ctx: AppContext, route: string): Promise<string[][] | null> {
  const { db } = ctx;
  const params = route.match(/:[a-z0-9]+/gi) ?? [];
  if (params.length === 0) return [[]];
  if (params.length > 1) return null;
  if (route.startsWith('/api/v1/actions/cases/') || route === '/cases/:id')
    return (await db.selectFrom('action_cases').select('id').execute()).map((r) => [r.id]);
  if (route.startsWith('/api/v1/actions/referrals/') || route === '/referrals/:id')
    return (await db.selectFrom('action_referrals').select('id').execute()).map((r) => [r.id]);
  if (route.startsWith('/api/v1/campaigns/'))
    return (await db.selectFrom('campaigns').select('id').execute()).map((r) => [r.id]);
  if (route.includes('/reports/:id')) return (await db.selectFrom('reports').select('id').execute()).map((r) => [r.id]);
  if (
    route.includes('/alerts/:id') ||
    route.includes('/outbox/:id') ||
    route.includes('/senders/') ||
    route.includes('/tokens/:id') ||
    route.includes('/users/:id') ||
    route.includes('/dead-letters/')
  )
    return null;
  if (route === '/track/:token') return null;
  if (route === '/api/v1/messages/:sha256/raw')
    return (await db.selectFrom('messages').select('sha256').execute()).map((r) => [r.sha256]);
  return null;
}

/** Every GET route (and the look-up) an outside role may call, with every id it can name. */
const views: ArtefactSource = {
  name: 'API views and pages of outside roles',
  async collect(env) {
    const out: Artefact[] = [];
    for (const role of OUTSIDE_ROLES) {
      const account = env.accounts[role];
      const principal: Principal = { kind: 'session', userId: account.id, role, email: `${role}@example.org` };
      for (const [key, rule] of Object.entries(ROUTE_RULES)) {
        const [method, route] = key.split(' ');
        if (!passesRule(principal, rule)) continue;
        if (method === 'POST' && route === '/api/v1/lookup') {
          const res = await env.app.inject({
            method: 'POST',
            url: route,
            headers: { cookie: account.cookie, 'content-type': 'message/rfc822' },
            payload: env.lookupMessage,
          });
          out.push({ name: `POST ${route} → ${res.statusCode}`, audience: role, kind: 'json', bytes: res.rawPayload });
          continue;
        }
        // Packages: read by the downloads source, which knows which originals are the authority's.
        if (method !== 'GET' || route === '/api/v1/actions/referrals/:id/package') continue;
        const values = await paramValues(env.ctx, route);
        if (!values) continue;
        for (const v of values) {
          let i = 0;
          const url = route.replace(/:[a-z0-9]+/gi, () => v[i++] ?? '');
          const res = await env.app.inject({ method: 'GET', url, headers: { cookie: account.cookie } });
          if (res.statusCode >= 300) continue;
          const type = String(res.headers['content-type'] ?? '');
          out.push({
            name: `GET ${url}`,
            audience: role,
            kind: type.includes('json') ? 'json' : type.includes('zip') ? 'zip' : 'text',
            bytes: res.rawPayload,
          });
        }
      }
    }
    return out;
  },
};

/** Feeds for filters and partners (DNSBL, STIX, MISP): none exist yet; add their outputs here. */
const feeds: ArtefactSource = {
  name: 'feeds',
  collect: () => Promise.resolve([]),
};

export const ARTEFACT_SOURCES: readonly ArtefactSource[] = [outbox, downloads, views, feeds];
