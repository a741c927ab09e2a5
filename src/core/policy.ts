/**
 * The one place that decides who may do what. Routes call {@link authorize} (and the scope
 * functions below for row-level filtering); the web layer's gate checks {@link ROUTE_RULES} before a
 * request body is even read; templates never decide. Every route × role pair is covered by the
 * authorisation-matrix test (src/web/authz-matrix.test.ts), which fails for a route with no rule.
 */
import { AppError } from './errors.ts';
import type { Principal, Role } from './roles.ts';

/** Actions and the roles allowed to perform them. `anonymous` means no credential needed. */
export const PERMISSIONS = {
  'report:submit': ['anonymous', 'admin', 'analyst', 'reporter', 'partner'],
  /** Read any report's metadata and analysis. */
  'report:read-any': ['admin', 'analyst'],
  /** Read one's own reports. */
  'report:read-own': ['reporter', 'admin', 'analyst'],
  /** Read reports whose origin is in one's own networks (scoped by {@link reportScope}). */
  'report:read-network': ['network_operator'],
  /** Download the raw evidence of any message (audited). */
  'evidence:read-raw': ['admin', 'analyst'],
  'stats:read': ['admin', 'analyst', 'authority'],
  /** Public statistics and awareness pages. */
  'stats:read-public': [
    'anonymous',
    'admin',
    'analyst',
    'authority',
    'network_operator',
    'sender',
    'partner',
    'reporter',
  ],
  /** The analyst workbench: dashboard, report list and detail, campaigns, CSV exports. */
  'workbench:use': ['admin', 'analyst'],
  /** Change a report's category (stored with who and when). */
  'report:relabel': ['admin', 'analyst'],
  /** Mark a report as a false report (legitimate mail) or undo it. */
  'report:mark-false': ['admin', 'analyst'],
  /** Cases: analysts see all; authorities only those referred to them ({@link caseScope}). */
  'case:read': ['admin', 'analyst', 'authority'],
  /** One's own account page, password and API tokens. */
  'account:self': ['admin', 'analyst', 'authority', 'network_operator', 'sender', 'partner', 'reporter'],
  /** Cases: open, merge, annotate, refer (actions area). */
  'case:manage': ['admin', 'analyst'],
  /** Referrals: download packages and answer (authorities: their own). */
  'referral:answer': ['admin', 'analyst', 'authority'],
  'authority:manage': ['admin'],
  /** The outbox and its dead letters. */
  'outbox:read': ['admin', 'analyst'],
  'outbox:retry': ['admin'],
  /** Intake dead letters (what intake could not store, with the reason). */
  'dead-letter:read': ['admin', 'analyst'],
  /** Retry a dead letter's kept copy or dismiss it. */
  'dead-letter:handle': ['admin', 'analyst'],
  /** ISP alerts (network operators: their own networks). */
  'isp-alert:read': ['admin', 'analyst', 'network_operator'],
  'isp-alert:handle': ['admin', 'analyst', 'network_operator'],
  'operator:manage': ['admin'],
  /** Sender feedback loop: register domains and IPs (senders: their own). */
  'sender:register': ['admin', 'sender'],
  'token:manage': ['admin'],
  'user:manage': ['admin'],
  'audit:read': ['admin'],
  /** Erase a reporter's identity and reports on request (evidence referred to an authority stays). */
  'privacy:erase': ['admin'],
  /** A reporter erases their own identity and reports. */
  'account:erase-self': ['reporter'],
  /** Fuzzy campaign look-up for mail filters (POST /api/v1/lookup): campaign figures, never reporters. */
  'lookup:query': ['admin', 'analyst', 'partner', 'network_operator', 'sender'],
  /**
   * Partner referrals and status messages (POST /api/v1/exchange/referrals, /status): no role; a
   * registered partner's signature.
   */
  'exchange:receive': [],
  /** The regulator's monthly report (web page, CSV, JSON, PDF). */
  'monthly-report:read': ['admin', 'analyst', 'authority'],
  /** A campaign's story (GET /api/v1/campaigns/:id). */
  'campaign:read': ['admin', 'analyst', 'authority'],
  /** The plain blocklists (`/feeds/ips.txt`, `domains.txt`, `listings.csv`): filter operators' tokens. */
  'feeds:read': ['admin', 'analyst', 'partner', 'network_operator', 'sender'],
  /** Every listing (held ones too) and the delisting requests: decide them. */
  'listing:manage': ['admin', 'analyst'],
  /** Threat-intelligence feeds (TAXII, MISP): the collections granted to one's token or account. */
  'intel:read': ['admin', 'analyst', 'partner', 'network_operator'],
  /** Every intel collection, granted or not (the operator's staff). */
  'intel:read-all': ['admin', 'analyst'],
  /** Intel collections and who may read them. */
  'intel:manage': ['admin'],
  /** The mail hosts an intake channel's reports pass (declared for every reporter of the channel). */
  'mailhosts:manage-intake': ['admin'],
} as const satisfies Record<string, readonly (Role | 'anonymous')[]>;

export type Action = keyof typeof PERMISSIONS;

export function roleOf(p: Principal): Role | 'anonymous' {
  return p.kind === 'anonymous' ? 'anonymous' : p.role;
}

export function can(p: Principal, action: Action): boolean {
  const allowed: readonly string[] = PERMISSIONS[action];
  return allowed.includes(roleOf(p)) || (allowed.includes('anonymous') && p.kind === 'anonymous');
}

/** True when the principal may perform at least one of the actions. */
export function canAny(p: Principal, actions: readonly Action[]): boolean {
  return actions.some((a) => can(p, a));
}

/** Throws 401 for anonymous callers and 403 for authenticated ones lacking the permission. */
export function authorize(p: Principal, action: Action): void {
  if (can(p, action)) return;
  if (p.kind === 'anonymous') throw new AppError('UNAUTHENTICATED');
  throw new AppError('FORBIDDEN', `Your role (${p.role}) does not allow ${action}.`);
}

/** Like {@link authorize} for a route open to any of several actions (scoped further in the handler). */
export function authorizeAny(p: Principal, actions: readonly Action[]): void {
  if (canAny(p, actions)) return;
  if (p.kind === 'anonymous') throw new AppError('UNAUTHENTICATED');
  throw new AppError('FORBIDDEN', `Your role (${p.role}) does not allow ${actions.join(' or ')}.`);
}

// ── row-level scopes ─────────────────────────────────────────────────────────────────────────

/** What the scope functions need to know about the caller's account. */
export interface ScopeFacts {
  /** AS numbers a network-operator account speaks for. */
  networks: readonly number[];
  /** The authority an authority account acts for. */
  authorityId: string | null;
}

/** Which reports a caller may see. */
export type ReportScope =
  | { kind: 'all' }
  | { kind: 'own'; userId: string | null; tokenId: string | null }
  | { kind: 'networks'; asns: readonly number[] }
  | { kind: 'none' };

export function reportScope(p: Principal, facts: ScopeFacts): ReportScope {
  if (can(p, 'report:read-any')) return { kind: 'all' };
  if (p.kind === 'anonymous') return { kind: 'none' };
  if (can(p, 'report:read-network'))
    return facts.networks.length > 0 ? { kind: 'networks', asns: facts.networks } : { kind: 'none' };
  if (can(p, 'report:read-own'))
    return { kind: 'own', userId: p.userId, tokenId: p.kind === 'token' ? p.tokenId : null };
  return { kind: 'none' };
}

/** Whether a given report falls in the scope. */
export function reportInScope(
  scope: ReportScope,
  r: { reporterUserId: string | null; reporterTokenId: string | null; originAsn: number | null },
): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'own':
      return (
        (scope.userId !== null && r.reporterUserId === scope.userId) ||
        (scope.tokenId !== null && r.reporterTokenId === scope.tokenId)
      );
    case 'networks':
      return r.originAsn !== null && scope.asns.includes(r.originAsn);
    case 'none':
      return false;
  }
}

/** Whether reporter identity (address, IP, account) may be shown: never outside the operator's staff. */
export function maySeeReporterIdentity(p: Principal): boolean {
  return can(p, 'report:read-any');
}

/** Which cases a caller may see. */
export type CaseScope = { kind: 'all' } | { kind: 'authority'; authorityIds: readonly string[] } | { kind: 'none' };

export function caseScope(p: Principal, facts: ScopeFacts & { authorityIds?: readonly string[] }): CaseScope {
  if (!can(p, 'case:read')) return { kind: 'none' };
  if (can(p, 'workbench:use')) return { kind: 'all' };
  const ids = [...new Set([...(facts.authorityId ? [facts.authorityId] : []), ...(facts.authorityIds ?? [])])];
  return ids.length > 0 ? { kind: 'authority', authorityIds: ids } : { kind: 'none' };
}

// ── route rules ──────────────────────────────────────────────────────────────────────────────

/**
 * The coarse rule of each route (`METHOD /path` as registered): `public`, `signed-in`, or the
 * actions any one of which admits the caller. The web gate enforces it before the body is read;
 * handlers then apply row-level scopes. Areas add their routes here (one line each).
 */
export type RouteRule =
  | 'public'
  | 'signed-in'
  | {
      any: readonly Action[];
      /**
       * `false` when the route takes credentials the gate cannot see (a token in a query parameter
       * or a custom header): the handler enforces the same rule itself.
       */
      gate?: false;
    };

export const ROUTE_RULES: Record<string, RouteRule> = {
  // foundation
  'GET /healthz': 'public',
  'GET /metrics': 'public',
  'POST /api/v1/reports': { any: ['report:submit'] },
  'GET /api/v1/reports/:id': { any: ['report:read-any', 'report:read-own'] },
  'GET /api/v1/messages/:sha256/raw': { any: ['evidence:read-raw'] },
  // campaigns
  'POST /api/v1/lookup': { any: ['lookup:query'] },
  'GET /api/v1/campaigns/:id': { any: ['campaign:read'] },
  'POST /api/v1/reports/:id/relabel': { any: ['report:relabel'] },
  'POST /api/v1/campaigns/:id/relabel': { any: ['report:relabel'] },
  // analysis: declared mail hosts
  'GET /api/v1/account/mailhosts': { any: ['account:self'] },
  'PUT /api/v1/account/mailhosts': { any: ['account:self'] },
  'GET /api/v1/intakes/:channel/mailhosts': { any: ['mailhosts:manage-intake'] },
  'PUT /api/v1/intakes/:channel/mailhosts': { any: ['mailhosts:manage-intake'] },
  // actions
  'GET /api/v1/actions/public-key': 'public',
  'GET /api/v1/actions/cases': { any: ['case:read'] },
  'POST /api/v1/actions/cases': { any: ['case:manage'] },
  'GET /api/v1/actions/cases/:id': { any: ['case:read'] },
  'POST /api/v1/actions/cases/:id/annotations': { any: ['case:manage'] },
  'POST /api/v1/actions/cases/:id/reports': { any: ['case:manage'] },
  'POST /api/v1/actions/cases/:id/reports/remove': { any: ['case:manage'] },
  'POST /api/v1/actions/cases/:id/merge': { any: ['case:manage'] },
  'POST /api/v1/actions/cases/:id/state': { any: ['case:manage'] },
  'POST /api/v1/actions/cases/:id/referrals': { any: ['case:manage'] },
  'GET /api/v1/actions/referrals': { any: ['referral:answer'] },
  'GET /api/v1/actions/referrals/:id/package': { any: ['referral:answer'] },
  'POST /api/v1/actions/referrals/:id/answer': { any: ['referral:answer'] },
  'GET /api/v1/actions/authorities': { any: ['case:manage'] },
  'POST /api/v1/actions/authorities': { any: ['authority:manage'] },
  'GET /api/v1/actions/held-campaigns': { any: ['workbench:use'] },
  'GET /api/v1/actions/outbox': { any: ['outbox:read'] },
  'GET /api/v1/actions/outbox/:id': { any: ['outbox:read'] },
  'POST /api/v1/actions/outbox/:id/retry': { any: ['outbox:retry'] },
  'GET /api/v1/actions/isp/alerts': { any: ['isp-alert:read'] },
  'POST /api/v1/actions/isp/alerts/:id/handled': { any: ['isp-alert:handle'] },
  'GET /api/v1/actions/partners': { any: ['case:manage'] },
  'POST /api/v1/actions/partners': { any: ['authority:manage'] },
  // No role grants it: only a registered partner's Ed25519 signature over the body does, checked
  // in its handler (an unknown key gets 401 before the body is read).
  'POST /api/v1/exchange/referrals': { any: ['exchange:receive'], gate: false },
  // The same for a partner's status messages about this instance's referrals (docs/exchange.md).
  'POST /api/v1/exchange/status': { any: ['exchange:receive'], gate: false },
  'POST /api/v1/actions/partners/:id/url': { any: ['authority:manage'] },
  'POST /api/v1/actions/cases/:id/partner-status': { any: ['case:manage'] },
  'GET /api/v1/actions/referrals/:id/statuses': { any: ['case:manage'] },
  'GET /api/v1/actions/exchange/requests': { any: ['case:manage'] },
  'POST /api/v1/actions/exchange/requests/:id/approve': { any: ['case:manage'] },
  'POST /api/v1/actions/exchange/requests/:id/decline': { any: ['case:manage'] },
  'GET /api/v1/actions/isp/operators': { any: ['operator:manage'] },
  'POST /api/v1/actions/isp/operators': { any: ['operator:manage'] },
  'GET /api/v1/actions/senders': { any: ['sender:register'] },
  'POST /api/v1/actions/senders': { any: ['sender:register'] },
  'POST /api/v1/actions/senders/:id/identities': { any: ['sender:register'] },
  'POST /api/v1/actions/senders/identities/:id/verify': { any: ['sender:register'] },
  // feeds: lists (DNSBL look-up, plain lists, delisting)
  'GET /feeds/ips.txt': { any: ['feeds:read'] },
  'GET /feeds/domains.txt': { any: ['feeds:read'] },
  'GET /feeds/listings.csv': { any: ['feeds:read'] },
  'GET /api/v1/feeds/listings': { any: ['listing:manage'] },
  'GET /api/v1/feeds/listings/:value': 'public',
  'POST /api/v1/feeds/delist-requests': 'public',
  'GET /api/v1/feeds/delist-requests': { any: ['listing:manage'] },
  'POST /api/v1/feeds/delist-requests/:id/decision': { any: ['listing:manage'] },
  'GET /listings': 'public',
  'GET /listings/:value': 'public',
  'POST /listings/:value/delist': 'public',
  'GET /workbench/delistings': { any: ['listing:manage'] },
  'POST /workbench/delistings/:id': { any: ['listing:manage'] },
  // evidence: privacy and audit
  'POST /api/v1/account/erasure': { any: ['account:erase-self'] },
  'POST /api/v1/privacy/erasures': { any: ['privacy:erase'] },
  'GET /api/v1/audit/verify': { any: ['audit:read'] },
  // intake channels
  'POST /api/v1/sms-reports': { any: ['report:submit'] },
  'POST /api/v1/sms-gateway': { any: ['report:submit'], gate: false },
  // web application: public pages
  'GET /': 'public',
  'GET /report': 'public',
  'POST /report': { any: ['report:submit'] },
  'GET /report/sms': 'public',
  'POST /report/sms': { any: ['report:submit'] },
  /** The tracking token is the credential: a 43-character secret only the reporter received. */
  'GET /track/:token': 'public',
  'GET /guide': 'public',
  'GET /rules': 'public',
  'GET /protect': 'public',
  'GET /complain': 'public',
  'GET /stats': { any: ['stats:read-public'] },
  'GET /stats.csv': { any: ['stats:read-public'] },
  // web application: accounts
  'GET /login': 'public',
  'POST /login': 'public',
  'POST /logout': 'public',
  'GET /register': 'public',
  'POST /register': 'public',
  'GET /account': { any: ['account:self'] },
  'POST /account/tokens': { any: ['account:self'] },
  'POST /account/mailhosts': { any: ['account:self'] },
  'POST /account/tokens/:id/revoke': { any: ['account:self'] },
  'POST /account/password': { any: ['account:self'] },
  // web application: workbench
  'GET /workbench': { any: ['workbench:use'] },
  'GET /workbench/export.csv': { any: ['workbench:use'] },
  'GET /workbench/reports': { any: ['workbench:use'] },
  'GET /workbench/reports.csv': { any: ['workbench:use'] },
  'GET /workbench/campaigns/:id': { any: ['workbench:use'] },
  'GET /workbench/held': { any: ['workbench:use'] },
  'GET /workbench/campaigns/:id/relabel': { any: ['report:relabel'] },
  'POST /workbench/campaigns/:id/relabel': { any: ['report:relabel'] },
  'GET /workbench/reports/:id': { any: ['workbench:use'] },
  'GET /workbench/reports/:id/safe-view': { any: ['workbench:use'] },
  'GET /workbench/reports/:id/raw': { any: ['evidence:read-raw'] },
  'GET /workbench/reports/:id/raw.eml': { any: ['evidence:read-raw'] },
  'POST /workbench/reports/:id/relabel': { any: ['report:relabel'] },
  'POST /workbench/reports/:id/false-report': { any: ['report:mark-false'] },
  'GET /workbench/dead-letters': { any: ['dead-letter:read'] },
  'GET /workbench/dead-letters/:id/copy': { any: ['evidence:read-raw'] },
  'POST /workbench/dead-letters/:id/retry': { any: ['dead-letter:handle'] },
  'POST /workbench/dead-letters/:id/dismiss': { any: ['dead-letter:handle'] },
  'POST /workbench/dead-letters/outbox/:id/retry': { any: ['outbox:retry'] },
  // web application: scoped views and administration
  'GET /network': { any: ['report:read-network'] },
  'GET /network/reports/:id': { any: ['report:read-network'] },
  'GET /network/alerts': { any: ['isp-alert:read'] },
  'POST /network/alerts/:id/handled': { any: ['isp-alert:handle'] },
  'GET /cases': { any: ['case:read'] },
  // web application: the case workbench and the authorities' referrals (issue 18)
  'GET /cases/new': { any: ['case:manage'] },
  'POST /cases': { any: ['case:manage'] },
  'GET /cases/:id': { any: ['case:read'] },
  'GET /cases/:id/refer': { any: ['case:manage'] },
  'POST /cases/:id/refer': { any: ['case:manage'] },
  'POST /cases/:id/annotate': { any: ['case:manage'] },
  'POST /cases/:id/reports': { any: ['case:manage'] },
  'POST /cases/:id/reports/remove': { any: ['case:manage'] },
  'POST /cases/:id/merge': { any: ['case:manage'] },
  'POST /cases/:id/close': { any: ['case:manage'] },
  'POST /cases/:id/reopen': { any: ['case:manage'] },
  'GET /referrals': { any: ['referral:answer'] },
  'GET /referrals/:id': { any: ['referral:answer'] },
  'GET /referrals/:id/package': { any: ['referral:answer'] },
  'POST /referrals/:id/answer': { any: ['referral:answer'] },
  'GET /admin': { any: ['user:manage'] },
  'GET /admin/users': { any: ['user:manage'] },
  'POST /admin/users': { any: ['user:manage'] },
  'POST /admin/users/:id/disable': { any: ['user:manage'] },
  'GET /admin/audit': { any: ['audit:read'] },
  'GET /admin/mailhosts': { any: ['mailhosts:manage-intake'] },
  'POST /admin/mailhosts/:channel': { any: ['mailhosts:manage-intake'] },
  // feeds: threat intelligence (TAXII 2.1, MISP feed); the handlers check per-collection grants
  'GET /taxii2/': { any: ['intel:read'] },
  'GET /taxii2/spamdesk/': { any: ['intel:read'] },
  'GET /taxii2/spamdesk/collections/': { any: ['intel:read'] },
  'GET /taxii2/spamdesk/collections/:id/': { any: ['intel:read'] },
  'GET /taxii2/spamdesk/collections/:id/objects/': { any: ['intel:read'] },
  'GET /taxii2/spamdesk/collections/:id/objects/:objectId/': { any: ['intel:read'] },
  'GET /taxii2/spamdesk/collections/:id/objects/:objectId/versions/': { any: ['intel:read'] },
  'GET /taxii2/spamdesk/collections/:id/manifest/': { any: ['intel:read'] },
  'GET /feeds/misp/:collection/manifest.json': { any: ['intel:read'] },
  'GET /feeds/misp/:collection/hashes.csv': { any: ['intel:read'] },
  'GET /feeds/misp/:collection/:file': { any: ['intel:read'] },
  'GET /api/v1/intel/collections': { any: ['intel:manage'] },
  'POST /api/v1/intel/collections': { any: ['intel:manage'] },
  'POST /api/v1/intel/collections/:id': { any: ['intel:manage'] },
  'GET /api/v1/intel/collections/:id/grants': { any: ['intel:manage'] },
  'POST /api/v1/intel/collections/:id/grants': { any: ['intel:manage'] },
  'POST /api/v1/intel/grants/:id/revoke': { any: ['intel:manage'] },
  'GET /api/v1/intel/collections/:id/bundle': { any: ['intel:read'] },
  // web application: first sign-in, accounts, tokens and registries for admins (issue 18)
  'GET /account/password': { any: ['account:self'] },
  'GET /admin/users/:id': { any: ['user:manage'] },
  'POST /admin/users/:id/enable': { any: ['user:manage'] },
  'POST /admin/users/:id/reset': { any: ['user:manage'] },
  'POST /admin/users/:id/role': { any: ['user:manage'] },
  'GET /admin/tokens': { any: ['token:manage'] },
  'POST /admin/tokens': { any: ['token:manage'] },
  'POST /admin/tokens/:id/revoke': { any: ['token:manage'] },
  'GET /admin/authorities': { any: ['authority:manage'] },
  'POST /admin/authorities': { any: ['authority:manage'] },
  'GET /admin/authorities/:id': { any: ['authority:manage'] },
  'POST /admin/authorities/:id/active': { any: ['authority:manage'] },
  'POST /admin/authorities/:id/monthly-report': { any: ['authority:manage'] },
  'POST /admin/authorities/:id/language': { any: ['authority:manage'] },
  'GET /admin/operators': { any: ['operator:manage'] },
  'POST /admin/operators': { any: ['operator:manage'] },
  'GET /admin/operators/:id': { any: ['operator:manage'] },
  'POST /admin/operators/:id': { any: ['operator:manage'] },
  'POST /admin/operators/:id/asns': { any: ['operator:manage'] },
  'POST /admin/operators/:id/asns/:asn/remove': { any: ['operator:manage'] },
  'GET /admin/partners': { any: ['authority:manage'] },
  'POST /admin/partners': { any: ['authority:manage'] },
  'GET /admin/partners/:id': { any: ['authority:manage'] },
  'POST /admin/partners/:id/enabled': { any: ['authority:manage'] },
  'GET /admin/senders': { any: ['operator:manage'] },
  'POST /admin/senders': { any: ['operator:manage'] },
  'GET /admin/senders/:id': { any: ['operator:manage'] },
  'POST /admin/senders/:id/identities': { any: ['operator:manage'] },
  'POST /admin/senders/:id/language': { any: ['operator:manage'] },
  'POST /admin/senders/identities/:id/verify': { any: ['operator:manage'] },
  'GET /monthly-report': { any: ['monthly-report:read'] },
  'GET /monthly-report.csv': { any: ['monthly-report:read'] },
  'GET /monthly-report.json': { any: ['monthly-report:read'] },
  'GET /monthly-report.pdf': { any: ['monthly-report:read'] },
};

/** Rules for every route under a path prefix (generated documentation, static files). */
export const ROUTE_PREFIX_RULES: { prefix: string; rule: RouteRule }[] = [
  { prefix: '/api/docs', rule: 'public' },
  { prefix: '/static/', rule: 'public' },
];

/** The rule for a route, or undefined when none is declared. HEAD follows GET. */
export function routeRule(method: string, url: string): RouteRule | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  const exact = ROUTE_RULES[`${m} ${url}`];
  if (exact) return exact;
  return ROUTE_PREFIX_RULES.find(
    (r) => url === r.prefix || url.startsWith(r.prefix.endsWith('/') ? r.prefix : `${r.prefix}/`),
  )?.rule;
}

/** True when the principal passes the rule. */
export function passesRule(p: Principal, rule: RouteRule): boolean {
  if (rule === 'public') return true;
  if (rule === 'signed-in') return p.kind !== 'anonymous';
  return canAny(p, rule.any);
}
