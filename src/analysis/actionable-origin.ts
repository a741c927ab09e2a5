/**
 * The origin the actions may act on. The trace-back names the receiving organisation's own machine
 * when nothing outside handed the message in (flag {@link ORIGIN_INSIDE_RECEIVER}: a colleague's
 * hand resend, a local script, mail written inside; `walk-fallback.ts`). That is where the message
 * entered the mail system, and the analysis shows it so; but it is the reporter's own side, never a
 * spam source to list, to alert an ISP about, to publish as an indicator or to count among a case's
 * origins — the receiving organisation's own abuse desk is the one to tell. Every consumer that acts
 * outward reads the origin through here (`report-facts.ts`, the campaign fingerprint's facts).
 */
import type { Analysis, Origin } from './analysis-schema.ts';

/** The trace-back's flag for an origin on the receiving side (`stages/traceback/walk-fallback.ts`). */
export const ORIGIN_INSIDE_RECEIVER = 'origin-inside-receiver';

/**
 * The trace-back's flag for an origin named below where a trusted sending provider took the message in, that no
 * sealed record of the provider's vouches for (`stages/traceback/walk.ts`): the provider's record of its submitter
 * (a logged-in client, a webmail's browser address), or a line the sender wrote before submitting through the
 * provider's interface, which can name any innocent address. The fields cannot tell the two apart, so nothing that acts
 * outward acts on that address: it acts on the provider's outbound relay, the hop marked {@link SENDING_PROVIDER_RELAY}
 * (a provider's relay is never listed or alerted on; its abuse desk is the one to tell, and it knows its submitter).
 */
export const ORIGIN_PROVIDER_RECORD = 'origin-provider-record';

/** The note on the hop of the sending provider's outbound relay that an {@link ORIGIN_PROVIDER_RECORD} acts on. */
export const SENDING_PROVIDER_RELAY = 'sending-provider-relay';

/**
 * The trace-back's origin, or null when there is none or it is a machine of the receiving side; for an origin the
 * sending provider's unsealed record names, that provider's outbound relay.
 */
export function actionableOrigin(traceback: Pick<Analysis['traceback'], 'origin' | 'flags' | 'hops'>): Origin | null {
  if (traceback.origin === null || traceback.flags.includes(ORIGIN_INSIDE_RECEIVER)) return null;
  if (!traceback.flags.includes(ORIGIN_PROVIDER_RECORD)) return traceback.origin;
  const relay = traceback.hops.find((h) => h.notes.includes(SENDING_PROVIDER_RELAY));
  if (relay === undefined || relay.fromIp === null) return null;
  return {
    ip: relay.fromIp,
    hopIndex: relay.index,
    ipVersion: relay.fromIp.includes(':') ? 6 : 4,
    reason: `the sending provider's outbound relay (the client it recorded below, ${traceback.origin.ip}, is not \
vouched for by a sealed record)`,
  };
}
