/**
 * Roles of DESIGN.md's "Who uses it" table. Authorisation decisions live in `policy.ts`.
 */
export const ROLES = ['admin', 'analyst', 'authority', 'network_operator', 'sender', 'partner', 'reporter'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(v: string): v is Role {
  return (ROLES as readonly string[]).includes(v);
}

/** Who is making a request. */
export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'token'; tokenId: string; role: Role; userId: string | null; name: string | null }
  | { kind: 'session'; userId: string; role: Role; email: string };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

/** A label for logs and the audit trail. */
export function principalLabel(p: Principal): string {
  if (p.kind === 'anonymous') return 'anonymous';
  if (p.kind === 'token') return `token:${p.tokenId}${p.name ? `(${p.name})` : ''}:${p.role}`;
  return `user:${p.userId}(${p.email}):${p.role}`;
}
