/**
 * The scope facts of a caller (which networks and authorities it speaks for), for the pages whose
 * rows are scoped by the policy module: network-pages.ts, and the case and referral pages
 * (case-*.ts, referral-pages.ts).
 */
import type { FastifyRequest } from 'fastify';
import type { ScopeFacts } from '../../core/policy.ts';
import { requestSession } from '../session-auth.ts';
import { asnsOfUser, authorityIdsOfUser } from '../foreign.ts';

/** The caller's scope facts: account columns plus the actions area's operator/authority links. */
export async function scopeFacts(req: FastifyRequest): Promise<ScopeFacts & { authorityIds: string[] }> {
  const { db } = req.server.ctx;
  const p = req.principal;
  const userId = p.kind === 'anonymous' ? null : p.userId;
  const account = requestSession(req)?.account;
  const networks = [...(account?.networks ?? []), ...(userId ? await asnsOfUser(db, userId) : [])];
  const authorityIds = userId ? await authorityIdsOfUser(db, userId) : [];
  return { networks: [...new Set(networks)], authorityId: account?.authorityId ?? null, authorityIds };
}
