/**
 * Test support for the leak test: every artefact that leaves the platform or that a non-analyst
 * role can see, collected after the whole pipeline has run. One entry per source in
 * {@link ARTEFACT_SOURCES}; a new outbound channel or a new view adds one entry here.
 *
 * - outbox: every mail and webhook body queued (referrals to authorities in both evidence modes,
 *   partner exchanges, ISP digests in X-ARF, ARF and CSV, sender feedback ARF); ZIPs inside are
 *   opened; only the originals an authority is entitled to are exempt;
 * - downloads: each referral's package as its authority downloads it;
 * - views: every GET route (and the fuzzy look-up) that an authority, network-operator, sender
 *   or partner account may call, with every id it can name, answered by the real app;
 * - feeds: the listing pass at thresholds of one report, the DNS blocklist zones, the plain lists,
 *   each listed value's public look-up page, every TAXII object page and the MISP feed.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './context.ts';
import { ROUTE_RULES, passesRule } from '../core/policy.ts';
import type { Principal, Role } from '../core/roles.ts';
import { evidenceModeOf } from '../actions/cases/authorities.ts';
import type { Artefact } from './test-leak-scan.ts';
import { policyFor } from '../actions/action-policy.ts';
import { runListingPass } from '../feeds/lists/pass.ts';
import { renderZones } from '../feeds/lists/zones.ts';
import { buildIntel } from '../feeds/intel/build.ts';
import { grantAccess, listCollections } from '../feeds/intel/collections.ts';

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

/**
 * The feeds, published as a filter operator, a partner or the public would read them: the listing
 * pass run at thresholds of one report (so every planted message's values are candidates), the
 * rbldnsd zone files, the plain lists, the public look-up page of each listed value, every TAXII
 * object page of every collection (walked with `next`) and the MISP feed's manifest and events.
 */
const feeds: ArtefactSource = {
  name: 'feeds (zones, plain lists, look-up pages, TAXII, MISP)',
  async collect({ ctx, app, accounts }) {
    const out: Artefact[] = [];
    const base = policyFor(ctx.config);
    const L = base.listing;
    const policy = {
      ...base,
      listing: {
        ...L,
        enabled: true,
        infected: { ...L.infected, enabled: true, minReports: 1, minCampaigns: 1, minSignals: 1 },
        infrastructure: { ...L.infrastructure, enabled: true, minReports: 1, minCampaigns: 1 },
        domains: { ...L.domains, enabled: true, minReports: 1, minCampaigns: 1 },
      },
    };
    await runListingPass(ctx.db, ctx.config, policy, new Date(), { full: true });
    const zones = await renderZones(ctx.db, policy, 'https://spamdesk.test');
    for (const [name, text] of Object.entries(zones))
      out.push({
        name: `DNS blocklist zone ${name}`,
        audience: 'public (DNS)',
        kind: 'text',
        bytes: Buffer.from(text),
      });
    const partner = { cookie: accounts.partner.cookie };
    const get = async (url: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'GET', url, headers });
    for (const url of ['/feeds/ips.txt', '/feeds/domains.txt', '/feeds/listings.csv']) {
      const res = await get(url, partner);
      if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
      out.push({ name: `GET ${url}`, audience: 'partner', kind: 'text', bytes: res.rawPayload });
    }
    const listed = await ctx.db.selectFrom('feed_listings').select('value').execute();
    if (listed.length === 0) throw new Error('the listing pass listed nothing: the feeds would be read empty');
    for (const { value } of listed) {
      const url = `/listings/${encodeURIComponent(value)}`;
      const res = await get(url);
      if (res.statusCode !== 200) continue;
      out.push({ name: `GET ${url}`, audience: 'public', kind: 'text', bytes: res.rawPayload });
    }
    await buildIntel(ctx.db, ctx.config);
    const taxii = { ...partner, accept: 'application/taxii+json;version=2.1' };
    for (const c of await listCollections(ctx.db)) {
      await grantAccess(ctx.db, c.id, { userId: accounts.partner.id }, 'leak-test');
      let next: string | undefined;
      do {
        const url = `/taxii2/spamdesk/collections/${c.id}/objects/?limit=500${next ? `&next=${next}` : ''}`;
        const res = await get(url, taxii);
        if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
        out.push({ name: `GET ${url}`, audience: 'partner (TAXII)', kind: 'json', bytes: res.rawPayload });
        next = (res.json() as { next?: string }).next;
      } while (next);
      const manifestUrl = `/feeds/misp/${c.id}/manifest.json`;
      const manifest = await get(manifestUrl, partner);
      if (manifest.statusCode !== 200) throw new Error(`${manifestUrl}: HTTP ${manifest.statusCode}`);
      out.push({ name: `GET ${manifestUrl}`, audience: 'partner (MISP)', kind: 'json', bytes: manifest.rawPayload });
      for (const uuid of Object.keys(manifest.json() as Record<string, unknown>)) {
        const url = `/feeds/misp/${c.id}/${uuid}.json`;
        const res = await get(url, partner);
        if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
        out.push({ name: `GET ${url}`, audience: 'partner (MISP)', kind: 'json', bytes: res.rawPayload });
      }
    }
    return out;
  },
};

export const ARTEFACT_SOURCES: readonly ArtefactSource[] = [outbox, downloads, views, feeds];
