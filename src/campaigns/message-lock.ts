/**
 * The transaction-lock name of one message being placed, restated or relabelled (class
 * `LOCK_CLASS.clusterKey`): its sha256 is a cluster key, so a placement of it in another process
 * and a relabel of it run one after the other, never beside.
 */
export function messageLockName(sha256: string): string {
  return `m:${sha256}`;
}
