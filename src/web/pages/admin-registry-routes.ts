/**
 * The administration pages beyond the index and the audit log: accounts and tokens, and the
 * registries (authorities, network operators, partners, senders), one file each; the regulator's
 * monthly report.
 */
import type { FastifyInstance } from 'fastify';
import { adminAccountRoutes } from './admin-accounts-pages.ts';
import { registryAuthorityRoutes } from './registry-authorities-pages.ts';
import { registryOperatorRoutes } from './registry-operators-pages.ts';
import { registryPartnerRoutes } from './registry-partners-pages.ts';
import { registrySenderRoutes } from './registry-senders-pages.ts';
import { monthlyReportRoutes } from './admin-monthly-pages.ts';

export async function adminRegistryRoutes(app: FastifyInstance): Promise<void> {
  await app.register(adminAccountRoutes);
  await app.register(registryAuthorityRoutes);
  await app.register(registryOperatorRoutes);
  await app.register(registryPartnerRoutes);
  await app.register(registrySenderRoutes);
  await app.register(monthlyReportRoutes);
}
