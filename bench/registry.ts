/** Every benchmark, in the order `npm run bench` runs them. An area adds one line. */
import { importBench } from './import.ts';
import { httpBench } from './http.ts';
import { campaignsBench } from './campaigns.ts';
import { analysisBench } from './analysis.ts';
import { webBench } from './web.ts';
import { channelsBench } from './channels.ts';
import { cliBench } from './cli.ts';
import { burstBench } from './burst.ts';
import { attackBench } from './attack.ts';
import { tracebackBench } from './traceback.ts';
import { feedsBench } from './feeds.ts';
import { feedsIntelBench } from './feeds-intel.ts';
import { casesBench } from './cases.ts';
import { e2eBench } from './e2e.ts';
import { scaleBench } from './scale.ts';
import { soakBench } from './soak.ts';
export interface Bench {
  name: string;
  description: string;
  run(): Promise<void>;
}

export const BENCHES: Bench[] = [
  importBench,
  httpBench,
  campaignsBench,
  analysisBench,
  webBench,
  channelsBench,
  cliBench,
  burstBench,
  attackBench,
  tracebackBench,
  feedsBench,
  feedsIntelBench,
  casesBench,
  e2eBench,
  scaleBench,
  soakBench,
];
