/**
 * The attack bench's probe in a thread of its own: the attacking client builds and sends tens of
 * megabytes (dot-stuffing a 10 MB SMTP body, base64 for the JSON route) on the bench's main thread,
 * and a probe sharing that event loop would count the attacker's own stalls as the server's. Here
 * it is another client, as the issue means it: "other clients' requests during the attack".
 */
import { parentPort, workerData } from 'node:worker_threads';
import { siblingModule, startTsWorker } from '../src/core/ts-worker.ts';
import { startProbe, type ProbeResult } from '../src/web/attack.ts';

const ROLE = 'spamdesk-attack-probe';

/** Starts the probe on `url` in a thread; `stop()` ends it and gives what it saw. */
export async function startProbeThread(url: string): Promise<{ stop(): Promise<ProbeResult> }> {
  const worker = startTsWorker(siblingModule('./attack-probe.ts', import.meta.url), { role: ROLE, url });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return {
    stop: () =>
      new Promise<ProbeResult>((resolve, reject) => {
        worker.once('message', (r: ProbeResult) => {
          void worker.terminate();
          resolve(r);
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}

const data = workerData as { role?: string; url?: string } | undefined;
if (parentPort && data?.role === ROLE && data.url) {
  const port = parentPort;
  const probe = startProbe(data.url);
  port.once('message', () => {
    void probe.stop().then((r) => port.postMessage(r));
  });
  port.postMessage('started');
}
