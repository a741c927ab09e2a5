/** Tables owned by the analysis area (see migrations 0002_*). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AnalysisTables {}
