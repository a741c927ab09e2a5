/**
 * The one place that decides who may do what (routes call {@link authorize}; templates never
 * decide). The web-app area extends the action list; every route × role pair is covered by the
 * authorisation-matrix test.
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
  /** Download the raw evidence of any message (audited). */
  'evidence:read-raw': ['admin', 'analyst'],
  'stats:read': ['admin', 'analyst', 'authority'],
  /** Cases: analysts see all; authorities only those referred to them. */
  'case:read': ['admin', 'analyst', 'authority'],
  /** Cases: open, merge, annotate, refer (actions area). */
  'case:manage': ['admin', 'analyst'],
  /** Referrals: download packages and answer (authorities: their own). */
  'referral:answer': ['admin', 'analyst', 'authority'],
  'authority:manage': ['admin'],
  /** The outbox and its dead letters. */
  'outbox:read': ['admin', 'analyst'],
  'outbox:retry': ['admin'],
  /** ISP alerts (network operators: their own networks). */
  'isp-alert:read': ['admin', 'analyst', 'network_operator'],
  'isp-alert:handle': ['admin', 'analyst', 'network_operator'],
  'operator:manage': ['admin'],
  /** Sender feedback loop: register domains and IPs (senders: their own). */
  'sender:register': ['admin', 'sender'],
  'token:manage': ['admin'],
  'audit:read': ['admin'],
} as const satisfies Record<string, readonly (Role | 'anonymous')[]>;

export type Action = keyof typeof PERMISSIONS;

export function roleOf(p: Principal): Role | 'anonymous' {
  return p.kind === 'anonymous' ? 'anonymous' : p.role;
}

export function can(p: Principal, action: Action): boolean {
  const allowed: readonly string[] = PERMISSIONS[action];
  return allowed.includes(roleOf(p)) || (allowed.includes('anonymous') && p.kind === 'anonymous');
}

/** Throws 401 for anonymous callers and 403 for authenticated ones lacking the permission. */
export function authorize(p: Principal, action: Action): void {
  if (can(p, action)) return;
  if (p.kind === 'anonymous') throw new AppError('UNAUTHENTICATED');
  throw new AppError('FORBIDDEN', `Your role (${p.role}) does not allow ${action}.`);
}
