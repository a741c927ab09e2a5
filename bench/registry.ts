/** Every benchmark, in the order `npm run bench` runs them. An area adds one line. */
import { webBench } from './web.ts';
export interface Bench {
  name: string;
  description: string;
  run(): Promise<void>;
}

export const BENCHES: Bench[] = [webBench];
