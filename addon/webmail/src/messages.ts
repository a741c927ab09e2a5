/** What the content scripts and the options page ask the background, and what it answers. */
import type { Provider, QueueItem } from './queue.ts';

export type BackgroundRequest =
  | { type: 'report'; provider: Provider; messageId: string }
  | { type: 'queue' }
  | { type: 'retryNow' }
  | { type: 'settingsSaved' }
  | { type: 'removeQueued'; id: string };

export interface ReportReply {
  ok: boolean;
  /** Kept in the retry queue: nothing is lost. */
  queued: boolean;
  title: string;
  text: string;
  trackingUrl?: string;
  /** Offered when the raw source could not be had. */
  webFormUrl?: string;
}

export interface QueueSummary {
  items: Omit<QueueItem, 'rawBase64'>[];
  alarmAt: number | null;
}
