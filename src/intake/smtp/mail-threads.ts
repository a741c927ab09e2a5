/**
 * Mail threads: where the SMTP intake takes large mails apart (take-apart.ts), so that a 24 MB
 * forward's MIME walk, decoding, DKIM body hash, SHA-256 and compression never hold up the event
 * loop that answers HTTP and SMTP (issue 15: seconds of stalls in `npm run bench -- attack`).
 *
 * Bounded like the analysis pool: at most {@link defaultMailThreads} threads, each taking one mail
 * at a time; the mails waiting are already counted in the intake memory budget (their SMTP session
 * holds its reservation until it is answered), so the queue is bounded by it; a mail that runs past
 * {@link MAIL_THREAD_TIMEOUT_MS} or past the thread's heap ({@link MAIL_THREAD_HEAP_MB}) ends its
 * thread, and only its own session gets the refusal. Threads start on the first large mail and end
 * after {@link MAIL_THREAD_IDLE_MS} without one, which gives their memory back.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { DnsResolver } from '../../analysis/stage.ts';
import { AppError, ERRORS, type ErrorCode } from '../../core/errors.ts';
import { siblingModule, startTsWorker } from '../../core/ts-worker.ts';
import { MAIL_THREAD_ROLE, type FromMailThread, type ToMailThread } from './mail-thread.ts';
import type { Envelope, TakenApartMail } from './take-apart.ts';
import type { PreparedMessage } from '../../evidence/store.ts';

/** Time one mail may take in its thread (a 25 MB forward takes well under a second on an idle core). */
export const MAIL_THREAD_TIMEOUT_MS = 30_000;
/** Heap bound of one mail thread, MiB: a 25 MB mail and its decoded parts fit many times over. */
export const MAIL_THREAD_HEAP_MB = 512;
/** An idle thread ends after this long (a burst's heap and buffers go with it). */
export const MAIL_THREAD_IDLE_MS = 10_000;

/** Threads: one core of two is left to the event loop, at most two (SMTP is rarely the bulk of intake). */
export function defaultMailThreads(cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(2, cores - 1));
}

export interface MailThreadsOptions {
  size?: number;
  timeoutMs?: number;
  heapMb?: number;
  idleMs?: number;
}

/** A JSON upload decoded, its message checked, hashed and compressed in a thread. */
export interface PreparedJson {
  prepared: PreparedMessage;
  note: string | null;
}

interface Job {
  id: number;
  raw: Buffer;
  /**
   * A mail to take apart; a JSON upload to decode (its message's size limit); or (null) a message
   * only to check, hash and compress.
   */
  mail: { env: Envelope; trustedForwarders: readonly string[]; dns: DnsResolver } | { jsonLimit: number } | null;
  resolve: (m: TakenApartMail | PreparedMessage | PreparedJson) => void;
  reject: (e: unknown) => void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | null;
  idleTimer: NodeJS.Timeout | null;
}

function knownCode(code: string | null): code is ErrorCode {
  return code !== null && Object.hasOwn(ERRORS, code);
}

export class MailThreads {
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Threads ended by a mail past its bounds, and threads ended idle (tests, the status line). */
  readonly stats = { killed: 0, idleEnded: 0, mails: 0, jsonBodies: 0 };

  constructor(private readonly opts: MailThreadsOptions = {}) {}

  /** Threads running now. */
  get running(): number {
    return this.threads.length;
  }

  /**
   * Takes one mail apart in a thread. `raw`'s bytes are moved to the thread: the caller must not
   * read them afterwards. Rejects with the mail's `AppError`, or `UNAVAILABLE` (SMTP 451) when it
   * ran out of time, or `ANALYSIS_BOUND` (554) when it took its thread's whole heap.
   */
  takeApart(
    raw: Buffer,
    env: Envelope,
    trustedForwarders: readonly string[],
    dns: DnsResolver,
  ): Promise<TakenApartMail> {
    return this.run(raw, { env, trustedForwarders, dns }) as Promise<TakenApartMail>;
  }

  /**
   * A message received over HTTP checked (`assertEmailMessage`), hashed and compressed in a thread:
   * what the report writer would otherwise do on the event loop. `raw`'s bytes are moved.
   */
  prepare(raw: Buffer): Promise<PreparedMessage> {
    return this.run(raw, null) as Promise<PreparedMessage>;
  }

  /**
   * A JSON upload's body, as received, decoded and validated in a thread (json-submission.ts) and
   * its message checked against `limit`, the e-mail check, hashed and compressed. `body`'s bytes
   * are moved. Rejects with the `AppError` the event loop would have given (400, 413, 422).
   */
  prepareJson(body: Buffer, limit: number): Promise<PreparedJson> {
    return this.run(body, { jsonLimit: limit }) as Promise<PreparedJson>;
  }

  private run(raw: Buffer, mail: Job['mail']): Promise<TakenApartMail | PreparedMessage | PreparedJson> {
    if (this.closed) return Promise.reject(new AppError('UNAVAILABLE'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, raw, mail, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const free = this.threads.find((t) => t.ready && t.job === null);
      if (!free) {
        // Start another thread when there is room; the mail waits for the first free one.
        if (this.threads.length < (this.opts.size ?? defaultMailThreads()) && !this.threads.some((t) => !t.ready))
          this.threads.push(this.spawn());
        return;
      }
      const job = this.queue.shift();
      if (job) this.give(free, job);
    }
  }

  private give(thread: Thread, job: Job): void {
    if (thread.idleTimer) clearTimeout(thread.idleTimer);
    thread.idleTimer = null;
    thread.job = job;
    const timeoutMs = this.opts.timeoutMs ?? MAIL_THREAD_TIMEOUT_MS;
    thread.timer = setTimeout(() => {
      this.end(
        thread,
        new AppError(
          'UNAVAILABLE',
          `The message could not be taken apart within ${Math.round(timeoutMs / 1000)} s; nothing was stored, \
try again later.`,
        ),
      );
    }, timeoutMs);
    // A buffer of its own is moved, not copied (Buffer.concat of a large mail already is one).
    const own =
      job.raw.byteOffset === 0 && job.raw.byteLength === job.raw.buffer.byteLength ? job.raw : Buffer.from(job.raw);
    const msg: ToMailThread =
      job.mail === null
        ? { t: 'prepare', id: job.id, raw: own }
        : 'jsonLimit' in job.mail
          ? { t: 'json', id: job.id, body: own, limit: job.mail.jsonLimit }
          : { t: 'mail', id: job.id, raw: own, env: job.mail.env, trustedForwarders: [...job.mail.trustedForwarders] };
    thread.worker.postMessage(msg, [own.buffer as ArrayBuffer]);
  }

  private spawn(): Thread {
    const heapMb = this.opts.heapMb ?? MAIL_THREAD_HEAP_MB;
    const worker = startTsWorker(
      siblingModule('./mail-thread.ts', import.meta.url),
      { role: MAIL_THREAD_ROLE },
      { resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32 } },
    );
    const thread: Thread = { worker, ready: false, job: null, timer: null, idleTimer: null };
    worker.on('message', (m: FromMailThread) => this.onMessage(thread, m));
    worker.on('error', (e) =>
      this.end(
        thread,
        new AppError(
          'ANALYSIS_BOUND',
          `The message could not be taken apart within the bounds of its thread (${e.message}); it was not stored.`,
        ),
      ),
    );
    worker.on('exit', (code) =>
      this.end(thread, new AppError('UNAVAILABLE', `The mail thread stopped (code ${code}); try again later.`)),
    );
    return thread;
  }

  private onMessage(thread: Thread, m: FromMailThread): void {
    if (m.t === 'ready') {
      thread.ready = true;
      this.pump();
      return;
    }
    const job = thread.job;
    if (!job || job.id !== m.id) return;
    if (m.t === 'dns') {
      const answer = (reply: ToMailThread) => {
        if (thread.job === job) thread.worker.postMessage(reply);
      };
      if (!job.mail || !('dns' in job.mail)) return;
      job.mail.dns[m.method](m.name).then(
        (ok) => answer({ t: 'dns-answer', q: m.q, ok }),
        (e: unknown) => {
          const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : null;
          answer({ t: 'dns-answer', q: m.q, error: { message: e instanceof Error ? e.message : String(e), code } });
        },
      );
      return;
    }
    this.settle(thread);
    this.stats.mails++;
    if (m.t === 'prepared-json') this.stats.jsonBodies++;
    if (m.t === 'done') job.resolve(m.mail);
    else if (m.t === 'prepared') job.resolve(m.prepared);
    else if (m.t === 'prepared-json') job.resolve({ prepared: m.prepared, note: m.note });
    else if (knownCode(m.error.code)) job.reject(new AppError(m.error.code, m.error.message, m.error.details));
    else job.reject(new Error(m.error.message));
    this.pump();
  }

  /** The thread's mail is answered: it waits for the next, and ends if none comes. */
  private settle(thread: Thread): void {
    if (thread.timer) clearTimeout(thread.timer);
    thread.timer = null;
    thread.job = null;
    if (this.closed) return;
    thread.idleTimer = setTimeout(() => {
      if (thread.job !== null) return;
      this.stats.idleEnded++;
      this.drop(thread);
    }, this.opts.idleMs ?? MAIL_THREAD_IDLE_MS);
    thread.idleTimer.unref();
  }

  /** Ends a thread over its mail's bounds (or dead): that mail alone is refused. */
  private end(thread: Thread, reason: AppError): void {
    if (!this.threads.includes(thread)) return;
    const job = thread.job;
    this.drop(thread);
    if (job) {
      this.stats.killed++;
      job.reject(reason);
    }
    // A thread that died before it was ready would die again: refuse what waits instead of looping.
    if (!thread.ready) {
      for (const waiting of this.queue.splice(0))
        waiting.reject(new AppError('UNAVAILABLE', `No mail thread could start (${reason.message}); try again later.`));
      return;
    }
    this.pump();
  }

  private drop(thread: Thread): void {
    const i = this.threads.indexOf(thread);
    if (i >= 0) this.threads.splice(i, 1);
    if (thread.timer) clearTimeout(thread.timer);
    if (thread.idleTimer) clearTimeout(thread.idleTimer);
    thread.job = null;
    thread.worker.removeAllListeners();
    thread.worker.on('error', () => undefined);
    void thread.worker.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new AppError('UNAVAILABLE'));
    const threads = this.threads.splice(0);
    await Promise.all(
      threads.map(async (t) => {
        if (t.timer) clearTimeout(t.timer);
        if (t.idleTimer) clearTimeout(t.idleTimer);
        t.job?.reject(new AppError('UNAVAILABLE'));
        t.worker.removeAllListeners();
        t.worker.on('error', () => undefined);
        await t.worker.terminate();
      }),
    );
  }
}
