/**
 * Body of a mail thread (mail-threads.ts): takes mails apart ({@link takeApart}) one at a time,
 * asking the SMTP thread for every DNS answer (the mail's lookup budget and the resolver, live or
 * a test's static zone, stay there), and sends back the originals hashed and compressed, their
 * buffers transferred rather than copied. The take-apart and JSON modules load on the first job
 * that needs them, so that a thread started for raw HTTP bodies starts in a fraction of the time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DnsResolver } from '../../analysis/stage.ts';
import { isAppError } from '../../core/errors.ts';
import { assertEmailMessage } from '../../evidence/message-check.ts';
import { prepareMessage, type PreparedMessage } from '../../evidence/store.ts';
import type { Envelope, TakenApartMail } from './take-apart.ts';

/** Marks the worker as a mail thread (other modules load this file too). */
export const MAIL_THREAD_ROLE = 'spamdesk-mail-thread';

export type DnsMethod = keyof DnsResolver;

/** SMTP thread → mail thread. */
export type ToMailThread =
  | { t: 'mail'; id: number; raw: Uint8Array; env: Envelope; trustedForwarders: string[] }
  | { t: 'prepare'; id: number; raw: Uint8Array }
  | { t: 'json'; id: number; body: Uint8Array; limit: number }
  | { t: 'dns-answer'; q: number; ok: unknown }
  | { t: 'dns-answer'; q: number; error: { message: string; code: string | null } };

/** Mail thread → SMTP thread. */
export type FromMailThread =
  | { t: 'ready' }
  | { t: 'dns'; id: number; q: number; method: DnsMethod; name: string }
  | { t: 'done'; id: number; mail: TakenApartMail }
  | { t: 'prepared'; id: number; prepared: PreparedMessage }
  | { t: 'prepared-json'; id: number; prepared: PreparedMessage; note: string | null }
  | { t: 'failed'; id: number; error: { code: string | null; message: string; details?: Record<string, unknown> } };

/** The prepared message with its content in a buffer of its own, and that buffer to transfer. */
function movable(p: PreparedMessage): [PreparedMessage, ArrayBuffer[]] {
  const copy = new Uint8Array(p.content);
  return [{ ...p, content: Buffer.from(copy.buffer, 0, copy.byteLength) }, [copy.buffer]];
}

const DNS_METHODS: readonly DnsMethod[] = [
  'resolveTxt',
  'resolveMx',
  'resolve4',
  'resolve6',
  'resolvePtr',
  'resolveCname',
  'resolveNs',
];

if (parentPort && (workerData as { role?: string } | undefined)?.role === MAIL_THREAD_ROLE) {
  const port = parentPort;
  let nextQ = 1;
  const asked = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  /** A resolver whose answers come from the SMTP thread, for the mail `id`. */
  const resolverFor = (id: number): DnsResolver => {
    const ask = (method: DnsMethod, name: string) =>
      new Promise<unknown>((resolve, reject) => {
        const q = nextQ++;
        asked.set(q, { resolve, reject });
        port.postMessage({ t: 'dns', id, q, method, name } satisfies FromMailThread);
      });
    return Object.fromEntries(DNS_METHODS.map((m) => [m, (name: string) => ask(m, name)])) as unknown as DnsResolver;
  };

  let queue = Promise.resolve();
  port.on('message', (m: ToMailThread) => {
    if (m.t === 'dns-answer') {
      const w = asked.get(m.q);
      asked.delete(m.q);
      if ('ok' in m) w?.resolve(m.ok);
      else w?.reject(Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}));
      return;
    }
    // One mail at a time: the SMTP thread hands a thread its next mail only when it is free.
    queue = queue.then(async () => {
      try {
        if (m.t === 'json') {
          // zod and the JSON schema load on the first JSON body, as take-apart on the first mail.
          const { assertMessageSize, parseJsonSubmission } = await import('../http/json-submission.ts');
          const { raw, note } = parseJsonSubmission(m.body);
          assertMessageSize(raw, m.limit, null);
          assertEmailMessage(raw);
          const [prepared, transfer] = movable(prepareMessage(raw));
          port.postMessage({ t: 'prepared-json', id: m.id, prepared, note } satisfies FromMailThread, transfer);
          return;
        }
        const raw = Buffer.from(m.raw.buffer, m.raw.byteOffset, m.raw.byteLength);
        if (m.t === 'prepare') {
          assertEmailMessage(raw);
          const [prepared, transfer] = movable(prepareMessage(raw));
          port.postMessage({ t: 'prepared', id: m.id, prepared } satisfies FromMailThread, transfer);
          return;
        }
        // Loaded on the first mail: a thread that only prepares HTTP bodies never needs mailauth.
        const { takeApart } = await import('./take-apart.ts');
        const mail = await takeApart(raw, m.env, m.trustedForwarders, resolverFor(m.id), true);
        // Each compressed original gets a buffer of its own, transferred: no copy on the SMTP thread.
        const transfer: ArrayBuffer[] = [];
        for (const o of mail.extraction.originals) {
          if (!o.prepared) continue;
          const [prepared, buffers] = movable(o.prepared);
          o.prepared = prepared;
          transfer.push(...buffers);
        }
        port.postMessage({ t: 'done', id: m.id, mail } satisfies FromMailThread, transfer);
      } catch (e) {
        const error = isAppError(e)
          ? { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) }
          : { code: null, message: e instanceof Error ? e.message : String(e) };
        port.postMessage({ t: 'failed', id: m.id, error } satisfies FromMailThread);
      }
    });
  });
  port.postMessage({ t: 'ready' } satisfies FromMailThread);
}
