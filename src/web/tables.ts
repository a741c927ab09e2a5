/** Tables owned by the web application: sessions, accounts (see migrations 0005_*). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface WebTables {}
