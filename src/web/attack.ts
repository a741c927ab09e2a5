/**
 * The hostile-input attack shared by the regression test (`attack.test.ts`, small sizes, both
 * databases) and the bench (`npm run bench -- attack`, real sizes, latency and memory): mutated
 * corpus messages sent to every intake route — HTTP report upload (raw, multipart, JSON), the SMS
 * API, the look-up, SMTP (direct, forwarded as attachment, ARF) — while a probe client keeps
 * asking for a cheap page. It records what each request got, so the caller can check that nothing
 * failed on the server's side, that the probe was always answered, and which reports were
 * accepted (to compare with what the database holds).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { mulberry32 } from '../core/prng.ts';

/** One hostile payload: a mutation of a real message. */
export interface Payload {
  name: string;
  bytes: Buffer;
}

export interface MutationSizes {
  /** Bytes of the huge header's value. */
  hugeHeaderBytes: number;
  /** Nesting of the deep MIME message. */
  mimeDepth: number;
  /** Bytes of the single long line. */
  longLineBytes: number;
  /** Bytes of the base64 garbage body. */
  base64GarbageBytes: number;
}

export const TEST_SIZES: MutationSizes = {
  hugeHeaderBytes: 64 * 1024,
  mimeDepth: 400,
  longLineBytes: 256 * 1024,
  base64GarbageBytes: 128 * 1024,
};

function splitHead(raw: Buffer): { head: string; body: string } {
  const s = raw.toString('latin1');
  const m = /\r?\n\r?\n/.exec(s);
  return m ? { head: s.slice(0, m.index), body: s.slice(m.index + m[0].length) } : { head: s, body: '' };
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * The mutations of one message, reproducible from `seed`: byte flips, truncations, CR-only line
 * ends, NULs, a huge header, deep MIME nesting, base64 garbage, a long line, and the original.
 */
export function mutate(raw: Buffer, seed: number, sizes: MutationSizes = TEST_SIZES): Payload[] {
  const rnd = mulberry32(seed);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const { head, body } = splitHead(raw);
  const flips = Buffer.from(raw);
  for (let i = 0; i < Math.max(1, raw.length / 100); i++) flips[pick(flips.length)] = pick(256);
  const nuls = Buffer.from(raw);
  for (let i = 0; i < 8; i++) nuls[pick(nuls.length)] = 0;
  let deep = 'Content-Type: text/plain\r\n\r\ninnermost\r\n';
  for (let d = 0; d < sizes.mimeDepth; d++)
    deep = `Content-Type: multipart/mixed; boundary="b${d}"\r\n\r\n--b${d}\r\n${deep}--b${d}--\r\n`;
  const garbage = Buffer.alloc(sizes.base64GarbageBytes);
  for (let i = 0; i < garbage.length; i++) garbage[i] = '!A=/+\r\n~\0zZ9'.charCodeAt(pick(13));
  return [
    { name: 'original', bytes: raw },
    { name: 'byte-flips', bytes: flips },
    { name: 'truncated-head', bytes: raw.subarray(0, Math.max(1, Math.floor(head.length / 2))) },
    { name: 'truncated-body', bytes: raw.subarray(0, head.length + 2 + Math.floor(body.length / 3)) },
    { name: 'cr-only', bytes: latin1(raw.toString('latin1').replace(/\r?\n/g, '\r')) },
    { name: 'nuls', bytes: nuls },
    { name: 'nul-subject', bytes: latin1(`Subject: padded ${'x'.repeat(40)}\0 subject\r\n${raw.toString('latin1')}`) },
    { name: 'huge-header', bytes: latin1(`X-Huge: ${'h'.repeat(sizes.hugeHeaderBytes)}\r\n${raw.toString('latin1')}`) },
    { name: 'deep-mime', bytes: latin1(`From: deep@example.net\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${deep}`) },
    {
      name: 'base64-garbage',
      bytes: Buffer.concat([
        latin1(`${head}\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n`),
        garbage,
      ]),
    },
    { name: 'long-line', bytes: latin1(`${head}\r\n\r\n${'w'.repeat(sizes.longLineBytes)}\r\n`) },
  ];
}

/** The first `n` spam messages and ARF reports of the corpus, in name order. */
export function corpusSample(corpusDir: string, n: number): { spam: Buffer[]; arf: Buffer[] } {
  const spamDir = path.join(corpusDir, 'spamassassin', 'spam');
  const arfDir = path.join(corpusDir, 'sisimai', 'maildir', 'bsd');
  const spam = fs
    .readdirSync(spamDir)
    .filter((f) => /^\d{5}\./.test(f))
    .sort()
    .slice(0, n)
    .map((f) => fs.readFileSync(path.join(spamDir, f)));
  const arf = fs
    .readdirSync(arfDir)
    .filter((f) => /^arf-\d+\.eml$/.test(f))
    .sort()
    .slice(0, Math.max(1, Math.ceil(n / 3)))
    .map((f) => fs.readFileSync(path.join(arfDir, f)));
  return { spam, arf };
}

// ── clients ─────────────────────────────────────────────────────────────────────────────────

/** What one request got: an HTTP status or an SMTP reply code; 0 when the connection failed. */
export interface Outcome {
  route: string;
  payload: string;
  status: number;
  /** Report ids the server said it stored. */
  reportIds: string[];
  detail: string;
}

async function httpPost(
  baseUrl: string,
  route: string,
  payload: string,
  url: string,
  headers: Record<string, string>,
  body: Buffer | string,
): Promise<Outcome> {
  try {
    const res = await fetch(`${baseUrl}${url}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    const text = await res.text();
    const reportIds =
      res.status >= 200 && res.status < 300 ? [...text.matchAll(/"id":"([0-9A-Z]{26})"/g)].map((m) => m[1]) : [];
    return { route, payload, status: res.status, reportIds, detail: text.slice(0, 200) };
  } catch (e) {
    return {
      route,
      payload,
      status: 0,
      reportIds: [],
      detail: e instanceof Error ? `${e.message} ${String(e.cause ?? '')}` : String(e),
    };
  }
}

/**
 * One SMTP transaction over a raw socket, so the exact bytes go out (CR-only lines, NULs): the
 * DATA body is dot-stuffed (RFC 5321 §4.5.2) and ended with CRLF.CRLF. Returns the reply code to
 * DATA (or to the first command refused) and its text.
 */
export function smtpSend(
  port: number,
  mailFrom: string,
  rcptTo: string,
  data: Buffer,
): Promise<{ code: number; text: string }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const steps = ['greeting', 'ehlo', 'mail', 'rcpt', 'data', 'body'];
    let step = 0;
    let done = false;
    const finish = (code: number, text: string) => {
      if (done) return;
      done = true;
      sock.end('QUIT\r\n');
      sock.destroy();
      resolve({ code, text });
    };
    sock.setTimeout(120_000, () => finish(0, 'timeout'));
    sock.on('error', (e) => finish(0, e.message));
    sock.on('close', () => finish(0, `closed during ${steps[step]}`));
    sock.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      // A complete reply: its last line is "NNN text" (a space, not a dash, after the code).
      const lines = buf.split('\r\n');
      const last = lines.length >= 2 ? lines[lines.length - 2] : '';
      if (!/^\d{3} /.test(last)) return;
      buf = '';
      const code = Number(last.slice(0, 3));
      const expected = steps[step] === 'data' ? 354 : steps[step] === 'greeting' ? 220 : 250;
      if (steps[step] === 'body' || code !== expected) return finish(code, last);
      step++;
      if (steps[step] === 'ehlo') sock.write('EHLO attacker.example\r\n');
      else if (steps[step] === 'mail') sock.write(`MAIL FROM:<${mailFrom}>\r\n`);
      else if (steps[step] === 'rcpt') sock.write(`RCPT TO:<${rcptTo}>\r\n`);
      else if (steps[step] === 'data') sock.write('DATA\r\n');
      else if (steps[step] === 'body') {
        let s = data.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
        if (!s.endsWith('\r\n')) s += '\r\n';
        sock.write(latin1(`${s}.\r\n`));
      }
    });
  });
}

/** A forward-as-attachment wrapper around `original` (RFC 2046 §5.2.1 message/rfc822). */
export function forwardAsAttachment(from: string, original: Buffer): Buffer {
  const b = 'fwd-attack-boundary';
  return Buffer.concat([
    latin1(
      `From: ${from}\r\nTo: spam@report.test\r\nSubject: Fwd: spam\r\nMIME-Version: 1.0\r\nContent-Type: \
multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\nContent-Type: text/plain\r\n\r\nspam \
below\r\n--${b}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="spam.eml"\r\n\r\n`,
    ),
    original,
    latin1(`\r\n--${b}--\r\n`),
  ]);
}

function multipartBody(file: Buffer): { body: Buffer; type: string } {
  const b = 'attack-multipart-boundary-7d1';
  return {
    body: Buffer.concat([
      latin1(
        `--${b}\r\nContent-Disposition: form-data; name="file"; filename="spam.eml"\r\nContent-Type: \
message/rfc822\r\n\r\n`,
      ),
      file,
      latin1(`\r\n--${b}--\r\n`),
    ]),
    type: `multipart/form-data; boundary=${b}`,
  };
}

export interface AttackTarget {
  baseUrl: string;
  smtpPort: number;
  /** A reporter token (report upload, SMS). */
  reporterToken: string;
  /** A token allowed to look up (partner). */
  lookupToken: string;
  /** An address whose SPF passes for the attacker's IP, so forwarded mail is attributed. */
  forwarderAddress: string;
}

/** Every intake route, as a function sending one payload. */
export function intakeRoutes(t: AttackTarget): Record<string, (p: Payload) => Promise<Outcome>> {
  const auth = { authorization: `Bearer ${t.reporterToken}` };
  const smtp = async (route: string, p: Payload, from: string, data: Buffer): Promise<Outcome> => {
    const r = await smtpSend(t.smtpPort, from, 'spam@report.test', data);
    const ids = r.code === 250 ? [...r.text.matchAll(/\b[0-9A-Z]{26}\b/g)].map((m) => m[0]) : [];
    return { route, payload: p.name, status: r.code, reportIds: ids, detail: r.text.slice(0, 200) };
  };
  return {
    'http-raw': (p) =>
      httpPost(
        t.baseUrl,
        'http-raw',
        p.name,
        '/api/v1/reports',
        { ...auth, 'content-type': 'message/rfc822' },
        p.bytes,
      ),
    'http-multipart': (p) => {
      const m = multipartBody(p.bytes);
      return httpPost(
        t.baseUrl,
        'http-multipart',
        p.name,
        '/api/v1/reports',
        { ...auth, 'content-type': m.type },
        m.body,
      );
    },
    'http-json': (p) =>
      httpPost(
        t.baseUrl,
        'http-json',
        p.name,
        '/api/v1/reports',
        { ...auth, 'content-type': 'application/json' },
        JSON.stringify({ raw: p.bytes.toString('base64') }),
      ),
    sms: (p) =>
      httpPost(
        t.baseUrl,
        'sms',
        p.name,
        '/api/v1/sms-reports',
        { ...auth, 'content-type': 'application/json' },
        JSON.stringify({ sender: '+33612345678', text: p.bytes.subarray(0, 1500).toString('utf8') }),
      ),
    lookup: (p) =>
      httpPost(
        t.baseUrl,
        'lookup',
        p.name,
        '/api/v1/lookup',
        { authorization: `Bearer ${t.lookupToken}`, 'content-type': 'message/rfc822' },
        p.bytes,
      ),
    'smtp-direct': (p) => smtp('smtp-direct', p, t.forwarderAddress, p.bytes),
    'smtp-attached': (p) =>
      smtp('smtp-attached', p, t.forwarderAddress, forwardAsAttachment(t.forwarderAddress, p.bytes)),
  };
}

/** True when an outcome is a failure on the server's side (not a refusal by design). */
export function isServerFailure(o: Outcome, smtp: boolean): boolean {
  if (o.status === 0) return true;
  if (smtp) return o.status === 451 && /Local error/.test(o.detail);
  return o.status >= 500 && o.status !== 503;
}

export interface ProbeResult {
  sent: number;
  answered: number;
  /** Latencies of answered probes, in ms. */
  latencies: number[];
  failures: string[];
}

/** Keeps asking for `url` one request at a time until `stop()`; resolves with what it saw. */
export function startProbe(url: string): { stop(): Promise<ProbeResult> } {
  const r: ProbeResult = { sent: 0, answered: 0, latencies: [], failures: [] };
  let running = true;
  const loop = (async () => {
    while (running) {
      r.sent++;
      const t0 = performance.now();
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        r.latencies.push(performance.now() - t0);
        if (res.status === 200) r.answered++;
        else r.failures.push(`status ${res.status}`);
      } catch (e) {
        r.failures.push(e instanceof Error ? e.message : String(e));
      }
      // A short pause: a probe, not a load of its own.
      await new Promise((res) => setTimeout(res, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return r;
    },
  };
}

/**
 * Sends every payload to every route with `concurrency` requests in flight, SMTP and HTTP mixed.
 * Payloads go out in a fixed order, so a run is reproducible.
 */
export async function runAttack(
  routes: Record<string, (p: Payload) => Promise<Outcome>>,
  payloads: Payload[],
  concurrency: number,
): Promise<Outcome[]> {
  const work: (() => Promise<Outcome>)[] = [];
  for (const p of payloads) for (const send of Object.values(routes)) work.push(() => send(p));
  const out: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= work.length) return;
        out.push(await work[i]());
      }
    }),
  );
  return out;
}
