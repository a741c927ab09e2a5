import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../db/test-databases.ts';
import { closeContext, createContext } from '../app/context.ts';
import { createLogger } from '../core/logger.ts';
import { actionsService } from './actions-service.ts';
import { buildMessage, newMessageId } from './formats/mime.ts';
import { enqueueMail } from './outbox/outbox.ts';
import { notifyOutbox } from './outbox/delivery.ts';
import { startSmtpSink } from './test-sinks.ts';

test(
  'the actions service delivers what is queued through the configured relay, and /metrics counts the outbox by ' +
    'state',
  async (t) => {
    const sink = await startSmtpSink();
    const tdb = await createTestDatabase(t, 'sqlite', { outboxSmtpUrl: sink.url });
    if (!tdb) return;
    const ctx = await createContext(tdb.config, { db: tdb.db, logger: createLogger(tdb.config), migrate: false });
    const service = await actionsService.start(ctx);
    try {
      assert.match(service.describe(), /mail via smtp:\/\/127\.0\.0\.1/);
      const messageId = newMessageId('spamdesk.example');
      const raw = buildMessage(
        { from: 'desk@spamdesk.example', to: ['x@isp.example'], subject: 'digest', messageId },
        { contentType: 'text/plain', encoding: '7bit', body: 'hello\r\n' },
      );
      await enqueueMail(tdb.db, {
        messageId,
        envelopeFrom: 'desk@spamdesk.example',
        to: 'x@isp.example',
        raw,
        purpose: 'test',
        description: 'service test',
        maxAttempts: 3,
      });
      notifyOutbox();
      await sink.waitFor(1, 10_000);
      assert.equal(sink.mails[0].messageId, messageId);
      let text = '';
      for (let i = 0; i < 50 && !text.includes('spamdesk_outbox_entries{state="sent"} 1'); i++) {
        text = await ctx.metrics.registry.metrics();
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(text, /spamdesk_outbox_entries\{state="sent"\} 1/);
      assert.match(text, /spamdesk_outbox_entries\{state="dead"\} 0/);
    } finally {
      await service.stop();
      await sink.close();
      await closeContext(ctx, { keepDb: true });
      await tdb.drop();
    }
  },
);
