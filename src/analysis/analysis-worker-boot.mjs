// Entry of an analysis worker thread. Worker threads do not inherit the TypeScript loader of the
// main thread (neither tsx's in-process register() of bin/spamdesk.js nor `--import tsx`), so
// each thread registers it before loading the TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./analysis-worker.ts');
