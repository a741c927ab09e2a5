/** Tables owned by the classification and campaigns area (see migrations 0003_*). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CampaignTables {}
