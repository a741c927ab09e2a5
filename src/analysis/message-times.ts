/**
 * When a message really travelled, read from its own headers: reports of an archive imported
 * today describe mail sent years ago, and an ISP can only find the subscriber behind a dynamic
 * address at the time its machine sent the spam.
 *
 * - `arrivedAt`: the topmost Received line (written last, by the receiver that delivered the
 *   message to the reporter — the hop the trace-back believes first), else the Date: header;
 * - `originSentAt`: the Received line that names the origin (written by the first receiver that
 *   took the message from it), else `arrivedAt`.
 *
 * A time outside [1990, analysis time + 1 day] is a broken or forged clock and is not used.
 */
import type { Analysis } from './analysis-schema.ts';

const EARLIEST = Date.UTC(1990, 0, 1);
const FUTURE_SLACK_MS = 86_400_000;

export interface MessageTimes {
  arrivedAt: string | null;
  originSentAt: string | null;
}

function plausible(iso: string | null | undefined, latest: number): string | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (!Number.isFinite(t) || t < EARLIEST || t > latest) return null;
  return new Date(t).toISOString();
}

/** The message's arrival and origin times (ISO 8601 UTC), or null where its headers do not say. */
export function messageTimes(a: Pick<Analysis, 'analysedAt' | 'parse' | 'traceback'>): MessageTimes {
  const analysed = Date.parse(a.analysedAt);
  const latest = (Number.isFinite(analysed) ? analysed : Date.now()) + FUTURE_SLACK_MS;
  const top = a.traceback.hops.find((h) => h.index === 0);
  const arrivedAt = plausible(top?.date, latest) ?? plausible(a.parse.date?.iso, latest);
  const origin = a.traceback.origin;
  const originHop =
    origin && origin.hopIndex >= 0 ? a.traceback.hops.find((h) => h.index === origin.hopIndex) : undefined;
  return { arrivedAt, originSentAt: plausible(originHop?.date, latest) ?? arrivedAt };
}

/** The arrival time, never later than when it was reported (clocks drift; a report cannot precede its mail). */
export function arrivalOrReceived(arrivedAt: string | null, receivedAt: string): string {
  return arrivedAt && arrivedAt < receivedAt ? arrivedAt : receivedAt;
}
