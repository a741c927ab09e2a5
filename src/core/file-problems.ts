/**
 * Problems found in an operator file (actions policy, classifier scores, trusted relays, abuse
 * contacts), each with the file and where in it: a line for CSV and JSON syntax, a path into the
 * JSON document (`cases.rules.0.minReports`) for a value. Listed all at once, as the settings are,
 * so an operator fixes a file in one round trip.
 */
import fs from 'node:fs';

export interface FileProblem {
  file: string;
  /** `line 3`, `line 3 column 7`, a JSON path such as `isp.minReports`, or null for the whole file. */
  where: string | null;
  message: string;
}

/** `file: where: message`. */
export function formatFileProblem(p: FileProblem): string {
  return `${p.file}${p.where === null ? '' : `: ${p.where}`}: ${p.message}`;
}

/** `message at where; …`, for an error that names the file itself. */
export function problemsDetail(problems: readonly FileProblem[]): string {
  return problems.map((p) => `${p.message}${p.where === null ? '' : ` at ${p.where}`}`).join('; ');
}

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line} column ${offset - before.lastIndexOf('\n')}`;
}

/** The file's text, or the problem that it cannot be read. */
export function readTextFile(file: string): { text: string } | { problem: FileProblem } {
  try {
    return { text: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    return { problem: { file, where: null, message: `cannot read (${e instanceof Error ? e.message : String(e)})` } };
  }
}

export type FileRead = { text: string } | { problem: FileProblem };

/**
 * What each operator file held when this process first read it (or what its parent had read, for a
 * worker thread: {@link adoptFilesInForce}). A running process reads its operator files once, at the
 * start check; a file edited under it takes effect at the next start, in every thread at once, never
 * in the threads started after the edit only.
 */
const inForce = new Map<string, FileRead>();

/** The file's text as in force in this process: read once, then the same answer (a failed read included). */
export function readFileInForce(file: string): FileRead {
  let r = inForce.get(file);
  if (r === undefined) {
    r = readTextFile(file);
    inForce.set(file, r);
  }
  return r;
}

/**
 * The files in force in this process, to give a thread or a child process: those named (read first if
 * they were not yet), or with no list every file in force. A thread is given only what it reads: each
 * copy stays in that thread for its life.
 */
export function filesInForce(files?: readonly (string | null | undefined)[]): Record<string, FileRead> {
  if (files === undefined) return Object.fromEntries(inForce);
  const out: Record<string, FileRead> = {};
  for (const f of files) if (f) out[f] = readFileInForce(f);
  return out;
}

/** In a new thread: the files as its parent had them in force, before anything here reads one. */
export function adoptFilesInForce(files: Record<string, FileRead> | undefined): void {
  for (const [file, read] of Object.entries(files ?? {})) inForce.set(file, read);
}

/**
 * The parsed JSON document, or the problem (with line and column of a syntax error). `read` gives the
 * text: the file as it is now (checks) or {@link readFileInForce} (loaders).
 */
export function readJsonFile(
  file: string,
  read: (file: string) => FileRead = readTextFile,
): { json: unknown } | { problem: FileProblem } {
  const text = read(file);
  if ('problem' in text) return text;
  return parseJsonText(file, text.text);
}

function parseJsonText(file: string, text: string): { json: unknown } | { problem: FileProblem } {
  try {
    return { json: JSON.parse(text) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const at = /at position (\d+)/.exec(message);
    return {
      problem: {
        file,
        where: at ? lineColumn(text, Number(at[1])) : null,
        message: `not JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`,
      },
    };
  }
}

/** One problem per zod issue, at its path in the document (`prefix` first). */
export function zodProblems(
  file: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix: readonly PropertyKey[] = [],
): FileProblem[] {
  return issues.map((i) => {
    const at = [...prefix, ...i.path].map(String).join('.');
    return { file, where: at === '' ? '(root)' : at, message: i.message };
  });
}
