/** Tables owned by the intake channels (SMTP, SMS, ARF; see migrations 0004_*). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface IntakeTables {}
