/** Tables owned by the actions area: cases, referrals, alerts, outbox (see migrations 0006_*). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ActionTables {}
