/**
 * The origin the actions may act on. The trace-back names the receiving organisation's own machine
 * when nothing outside handed the message in (flag {@link ORIGIN_INSIDE_RECEIVER}: a colleague's
 * hand resend, a local script, mail written inside; `walk-fallback.ts`). That is where the message
 * entered the mail system, and the analysis shows it so; but it is the reporter's own side, never a
 * spam source to list, to alert an ISP about, to publish as an indicator or to count among a case's
 * origins — the receiving organisation's own abuse desk is the one to tell. Nor is the origin of a hand resend's
 * original delivery ({@link ORIGIN_RESENT_ORIGINAL}), which only the resent copy records. Every consumer that acts
 * outward reads the origin through here (`report-facts.ts`, the campaign fingerprint's facts).
 */
import type { Analysis, Origin } from './analysis-schema.ts';

/** The trace-back's flag for an origin on the receiving side (`stages/traceback/walk-fallback.ts`). */
export const ORIGIN_INSIDE_RECEIVER = 'origin-inside-receiver';
/**
 * The trace-back's flag for an origin read from the original delivery of a message resent inside the receiving
 * organisation (`stages/traceback/resent.ts`): shown, never acted on. The copy was handed in on the receiving side,
 * so its older fields are what its submitter kept or wrote; a script or a web form of the organisation's own that
 * lets a stranger set header fields could write them all.
 */
export const ORIGIN_RESENT_ORIGINAL = 'origin-resent-original';

/** The trace-back's origin, or null when there is none or it is a machine of the receiving side. */
export function actionableOrigin(traceback: Pick<Analysis['traceback'], 'origin' | 'flags'>): Origin | null {
  if (
    traceback.origin === null ||
    traceback.flags.includes(ORIGIN_INSIDE_RECEIVER) ||
    traceback.flags.includes(ORIGIN_RESENT_ORIGINAL)
  )
    return null;
  return traceback.origin;
}
