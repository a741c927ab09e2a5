/** Every benchmark, in the order `npm run bench` runs them. An area adds one line. */
import { analysisBench } from './analysis.ts';
import { channelsBench } from './channels.ts';
import { campaignsBench } from './campaigns.ts';
export interface Bench {
  name: string;
  description: string;
  run(): Promise<void>;
}

export const BENCHES: Bench[] = [analysisBench, channelsBench, campaignsBench];
