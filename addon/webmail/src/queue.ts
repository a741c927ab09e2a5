/**
 * The extension's retry queue: a report that could not be delivered (instance down, network
 * error, 429/5xx, token refused) is kept in extension storage with its exact bytes and its
 * Idempotency-Key, and retried with exponential backoff (1 min, 2, 4 … capped at 1 h, or the
 * server's Retry-After). A retry after a lost 202 adds nothing on the server (same key). A token
 * refusal waits for the user to set a new token. Nothing is dropped without the user's say:
 * an item the server refuses for good (413, not an e-mail) stays listed until the user removes it.
 */
import { isRetryable, submitReport, type OutcomeKind, type SubmitOutcome } from '../../src/report-client.ts';

export type Provider = 'gmail' | 'outlook';

export interface QueueItem {
  /** Also the Idempotency-Key sent on every attempt. */
  id: string;
  provider: Provider;
  /** The provider's message id (shown to the user). */
  messageId: string;
  rawBase64: string;
  size: number;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  /** `waiting`: retried on schedule; `needs-token`: after a new token; `refused`: kept for the user. */
  state: 'waiting' | 'needs-token' | 'refused';
  lastOutcome?: OutcomeKind;
  lastDetail?: string;
}

/** The part of `storage.local` the queue needs (the real one in the extension). */
export interface KeyValueStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

export interface Delivery {
  instanceUrl: string;
  token: string;
  fetch: typeof fetch;
}

const KEY = 'queue';
export const BASE_DELAY_MS = 60_000;
export const MAX_DELAY_MS = 3_600_000;

/** When to try again after `attempts` failed attempts (honouring the server's Retry-After). */
export function nextDelayMs(attempts: number, retryAfterSeconds?: number): number {
  const backoff = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return retryAfterSeconds === undefined
    ? backoff
    : Math.min(MAX_DELAY_MS, Math.max(backoff, retryAfterSeconds * 1000));
}

export async function readQueue(store: KeyValueStore): Promise<QueueItem[]> {
  const v = await store.get(KEY);
  return Array.isArray(v) ? (v as QueueItem[]) : [];
}

async function writeQueue(store: KeyValueStore, items: QueueItem[]): Promise<void> {
  await store.set(KEY, items);
}

/** Keeps a report that could not be delivered. */
export async function enqueue(
  store: KeyValueStore,
  item: Omit<QueueItem, 'attempts' | 'nextAttemptAt' | 'state'>,
  outcome: SubmitOutcome,
  now: number,
): Promise<QueueItem> {
  const queued: QueueItem = { ...item, attempts: 1, nextAttemptAt: now, state: 'waiting' };
  applyOutcome(queued, outcome, now);
  const items = await readQueue(store);
  await writeQueue(store, [...items.filter((i) => i.id !== queued.id), queued]);
  return queued;
}

function applyOutcome(item: QueueItem, o: SubmitOutcome, now: number): void {
  item.lastOutcome = o.kind;
  item.lastDetail = o.detail;
  if (o.kind === 'auth') item.state = 'needs-token';
  else if (isRetryable(o.kind)) {
    item.state = 'waiting';
    item.nextAttemptAt = now + nextDelayMs(item.attempts, o.retryAfterSeconds);
  } else item.state = 'refused';
}

export async function removeItem(store: KeyValueStore, id: string): Promise<void> {
  await writeQueue(
    store,
    (await readQueue(store)).filter((i) => i.id !== id),
  );
}

export interface ProcessResult {
  delivered: QueueItem[];
  remaining: QueueItem[];
}

/**
 * Tries every item that is due (`waiting` with `nextAttemptAt <= now`; with `force`, every
 * `waiting` and `needs-token` item, as after the user saved a new token or pressed "Retry now").
 * Delivered items leave the queue; the others are rescheduled.
 */
export async function processQueue(
  store: KeyValueStore,
  delivery: Delivery,
  now: number,
  options: { force?: boolean } = {},
): Promise<ProcessResult> {
  const items = await readQueue(store);
  const delivered: QueueItem[] = [];
  for (const item of items) {
    const due = item.state === 'waiting' && (options.force || item.nextAttemptAt <= now);
    const tokenRetry = options.force && item.state === 'needs-token';
    if (!due && !tokenRetry) continue;
    const outcome = await submitReport({
      instanceUrl: delivery.instanceUrl,
      token: delivery.token,
      client: 'webmail',
      rawBase64: item.rawBase64,
      idempotencyKey: item.id,
      fetch: delivery.fetch,
    });
    item.attempts++;
    if (outcome.kind === 'stored') delivered.push(item);
    else applyOutcome(item, outcome, now);
  }
  // Re-read so an item queued while we were sending is kept.
  const latest = await readQueue(store);
  const byId = new Map(items.map((i) => [i.id, i]));
  const done = new Set(delivered.map((d) => d.id));
  const remaining = latest.filter((i) => !done.has(i.id)).map((i) => byId.get(i.id) ?? i);
  await writeQueue(store, remaining);
  return { delivered, remaining };
}

/** The earliest time a `waiting` item is due, or null. */
export function nextDue(items: QueueItem[]): number | null {
  const times = items.filter((i) => i.state === 'waiting').map((i) => i.nextAttemptAt);
  return times.length > 0 ? Math.min(...times) : null;
}
