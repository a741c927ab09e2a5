/**
 * `/api/v1/actions/cases`: analysts open, annotate, add reports, merge, close and refer;
 * authorities read the cases referred to them, redacted.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/errors.ts';
import { authorize } from '../../core/policy.ts';
import { principalLabel } from '../../core/roles.ts';
import { writeAudit } from '../../evidence/audit.ts';
import { TARGET_KINDS } from '../action-policy.ts';
import {
  addCaseEvent,
  addReportsToCase,
  annotateCase,
  caseHistory,
  caseReports,
  getCase,
  mergeCases,
  openCase,
  removeReportsFromCase,
  setCaseState,
} from '../cases/cases.ts';
import { CaseFilter, CasePaging, listCasePage } from '../cases/case-list.ts';
import { listReferrals, referCase } from '../referrals/referrals.ts';
import { autoRefer } from '../actions-jobs.ts';
import { redactorForCase } from '../redaction.ts';
import type { DB } from '../../db/dialect.ts';
import { ACTIONS_TAGS, Id, authorityScope, body } from './route-helpers.ts';

/** The reports named by id, each with its evidence hash; an unknown id is a 400. */
async function reportRefs(trx: DB, ids: string[]): Promise<{ reportId: string; sha256: string }[]> {
  if (ids.length === 0) return [];
  const rows = await trx.selectFrom('reports').select(['id', 'message_sha256']).where('id', 'in', ids).execute();
  if (rows.length !== new Set(ids).size) throw new AppError('BAD_REQUEST', 'Some report ids do not exist.');
  return rows.map((r) => ({ reportId: r.id, sha256: r.message_sha256 }));
}

/** Cases: list, open by hand, show; then the changes to one case. */
export async function caseRoutes(app: FastifyInstance): Promise<void> {
  await caseListRoutes(app);
  await caseChangeRoutes(app);
}

/** The list of cases, opening one by hand, and one case with its reports, history and referrals. */
async function caseListRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ACTIONS_TAGS;

  app.get(
    '/api/v1/actions/cases',
    {
      schema: {
        summary: 'Cases, newest first, a page at a time (authorities: those referred to them)',
        description:
          'Filters: state, targetKind, target, category, rule (or `manual`), authority, from, to (days). ' +
          'Paging: `limit` (default 50, at most 1000) and `cursor` (the `next` of the previous page; ' +
          '`before` is its older name). The last page has `next: null`.',
        tags,
      },
    },
    async (req) => {
      authorize(req.principal, 'case:read');
      const query = (req.query ?? {}) as Record<string, unknown>;
      const filter = body(CaseFilter, query);
      const paging = body(CasePaging, { cursor: query.cursor ?? query.before, limit: query.limit });
      const scope = await authorityScope(app, req.principal);
      const page = await listCasePage(db, filter, { cursor: paging.cursor, limit: paging.limit, authorityIds: scope });
      if (!scope) return page;
      // An authority reads titles and targets typed by staff or taken from messages: redacted.
      return {
        cases: await Promise.all(page.cases.map(async (c) => (await redactorForCase(db, c.id)).json(c))),
        next: page.next,
      };
    },
  );

  app.post('/api/v1/actions/cases', { schema: { summary: 'Open a case by hand', tags } }, async (req, reply) => {
    authorize(req.principal, 'case:manage');
    const b = body(
      z.object({
        targetKind: z.enum(TARGET_KINDS),
        targetValue: z.string().min(1).max(300),
        title: z.string().min(1).max(500),
        category: z.string().max(64).nullable().default(null),
        reportIds: z.array(z.string().max(40)).max(10_000).default([]),
      }),
      req.body,
    );
    const actor = principalLabel(req.principal);
    const c = await db.transaction().execute(async (trx) => {
      const created = await openCase(trx, {
        targetKind: b.targetKind,
        targetValue: b.targetValue,
        title: b.title,
        category: b.category,
        openedBy: actor,
      });
      await addReportsToCase(trx, created.id, await reportRefs(trx, b.reportIds), actor);
      return created;
    });
    return reply.status(201).send({ case: c });
  });

  app.get(
    '/api/v1/actions/cases/:id',
    { schema: { summary: 'A case with its reports, history and referrals', tags } },
    async (req) => {
      authorize(req.principal, 'case:read');
      const { id } = body(Id, req.params);
      const scope = await authorityScope(app, req.principal);
      const referrals = await listReferrals(db, { caseId: id, ...(scope ? { authorityIds: scope } : {}) });
      if (scope && referrals.length === 0) throw new AppError('NOT_FOUND', `No case ${id}.`);
      const c = await getCase(db, id);
      const reports = await caseReports(db, id);
      // Authorities and everyone outside the staff never see reporter identities.
      const staff = scope === null;
      const view = {
        case: c,
        reports: reports.map((r) => ({
          reportId: r.report_id,
          sha256: r.message_sha256,
          receivedAt: r.received_at,
          channel: r.channel,
          ...(staff ? { reporterAddress: r.reporter_address } : {}),
        })),
        history: await caseHistory(db, id),
        referrals,
      };
      await writeAudit(db, {
        actor: principalLabel(req.principal),
        action: 'case.view',
        subject: `case:${id}`,
        ip: req.ip,
        detail: { reports: reports.length },
      });
      // Titles, annotations and answers are free text: redacted of the case's reporters for outsiders.
      return staff ? view : (await redactorForCase(db, id)).json(view);
    },
  );
}

/** Changes to a case: annotate, add reports, merge, close or reopen, refer. */
async function caseChangeRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app.ctx;
  const tags = ACTIONS_TAGS;

  app.post(
    '/api/v1/actions/cases/:id/annotations',
    { schema: { summary: 'Annotate a case', tags } },
    async (req, reply) => {
      authorize(req.principal, 'case:manage');
      const { id } = body(Id, req.params);
      const b = body(z.object({ note: z.string().min(1).max(10_000) }), req.body);
      await annotateCase(db, id, principalLabel(req.principal), b.note);
      return reply.status(201).send({ ok: true });
    },
  );

  app.post('/api/v1/actions/cases/:id/reports', { schema: { summary: 'Add reports to a case', tags } }, async (req) => {
    authorize(req.principal, 'case:manage');
    const { id } = body(Id, req.params);
    const b = body(z.object({ reportIds: z.array(z.string().max(40)).min(1).max(10_000) }), req.body);
    await getCase(db, id);
    const added = await db
      .transaction()
      .execute(async (trx) =>
        addReportsToCase(trx, id, await reportRefs(trx, b.reportIds), principalLabel(req.principal)),
      );
    return { added };
  });

  app.post(
    '/api/v1/actions/cases/:id/reports/remove',
    { schema: { summary: 'Take reports out of a case (with a note saying why)', tags } },
    async (req) => {
      authorize(req.principal, 'case:manage');
      const { id } = body(Id, req.params);
      const b = body(
        z.object({
          reportIds: z.array(z.string().max(40)).min(1).max(10_000),
          note: z.string().max(10_000).nullable().default(null),
        }),
        req.body,
      );
      const removed = await db
        .transaction()
        .execute((trx) => removeReportsFromCase(trx, id, b.reportIds, principalLabel(req.principal), b.note));
      return { removed };
    },
  );

  app.post(
    '/api/v1/actions/cases/:id/merge',
    { schema: { summary: 'Merge other cases into this one', tags } },
    async (req) => {
      authorize(req.principal, 'case:manage');
      const { id } = body(Id, req.params);
      const b = body(z.object({ caseIds: z.array(z.string().max(40)).min(1).max(100) }), req.body);
      const moved = await db
        .transaction()
        .execute((trx) => mergeCases(trx, id, b.caseIds, principalLabel(req.principal)));
      return { moved };
    },
  );

  app.post('/api/v1/actions/cases/:id/state', { schema: { summary: 'Close or reopen a case', tags } }, async (req) => {
    authorize(req.principal, 'case:manage');
    const { id } = body(Id, req.params);
    const b = body(z.object({ state: z.enum(['open', 'closed']), note: z.string().max(10_000).optional() }), req.body);
    await setCaseState(db, id, b.state, principalLabel(req.principal), b.note ? { note: b.note } : null);
    return { case: await getCase(db, id) };
  });

  app.post(
    '/api/v1/actions/cases/:id/referrals',
    { schema: { summary: 'Refer a case: to one authority, or by routing when none is named', tags } },
    async (req, reply) => {
      authorize(req.principal, 'case:manage');
      const { id } = body(Id, req.params);
      const b = body(z.object({ authorityId: z.string().max(40).optional() }), req.body);
      if (b.authorityId) {
        const r = await referCase(app.ctx, id, b.authorityId, principalLabel(req.principal));
        return reply.status(201).send({ referrals: [r] });
      }
      const ids = await autoRefer(app.ctx, id);
      if (ids.length === 0)
        await addCaseEvent(db, id, principalLabel(req.principal), 'refer-requested', {
          result: 'no authority matched or all already referred',
        });
      return reply.status(201).send({ referrals: ids.map((referralId) => ({ referralId })) });
    },
  );
}
