/**
 * The receiver's own verdict at arrival: the `Authentication-Results` field (RFC 8601) written by
 * the trusted host that took the message from the origin. DNS changes after the fact (keys
 * rotate, SPF records move); this verdict does not, so it is kept beside our own checks.
 *
 * Only fields above the trust boundary count (RFC 8601 §5: a receiver must not trust results it
 * did not write; anything below the origin's Received header the sender could have written), and
 * only when the authserv-id belongs to a trusted provider, this instance or an operator-listed id.
 */
import type { AuthResult } from '../../analysis-schema.ts';
import type { HeaderField } from '../traceback/header-block.ts';
import type { TrustTable } from '../traceback/trust.ts';
import { parseAuthenticationResults } from './authentication-results.ts';

/**
 * Picks the trusted Authentication-Results nearest the boundary.
 * `boundaryReceived` is the index, among Received fields (0 = top), of the hop whose header marks the
 * trust boundary (the origin's hop); null when there is no Received header.
 */
export function receiverVerdict(
  fields: readonly HeaderField[],
  boundaryReceived: number | null,
  trust: TrustTable,
  extraIds: readonly string[],
): AuthResult['receiver'] {
  if (boundaryReceived === null) return null;
  // Field position of each Received header.
  const receivedAt: number[] = [];
  fields.forEach((f, i) => {
    if (f.name === 'received') receivedAt.push(i);
  });
  const boundaryField = receivedAt[boundaryReceived] ?? fields.length;
  let chosen: AuthResult['receiver'] = null;
  for (let i = 0; i < boundaryField; i++) {
    const f = fields[i];
    if (f === undefined || f.name !== 'authentication-results') continue;
    const parsed = parseAuthenticationResults(f.value);
    // Microsoft 365 writes no authserv-id: attribute it to the host that wrote the next Received below.
    const next = receivedAt.find((at) => at > i);
    const nextBy =
      next === undefined ? null : (/\bby\s+([^\s(;]+)/i.exec(fields[next]?.value ?? '')?.[1]?.toLowerCase() ?? null);
    const id = parsed.authservId ?? nextBy;
    if (id === null || trust.byAuthservId(id, extraIds) === null) continue;
    chosen = {
      authservId: id,
      raw: f.value.slice(0, 4000),
      results: parsed.results.map((r) => ({ method: r.method, result: r.result, properties: r.properties })),
    };
  }
  return chosen;
}
