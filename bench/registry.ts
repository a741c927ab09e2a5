/** Every benchmark, in the order `npm run bench` runs them. An area adds one line. */
export interface Bench {
  name: string;
  description: string;
  run(): Promise<void>;
}

export const BENCHES: Bench[] = [];
