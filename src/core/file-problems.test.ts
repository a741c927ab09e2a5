import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adoptFilesInForce, filesInForce, readFileInForce, readJsonFile, readTextFile } from './file-problems.ts';

function tempFile(name: string, text: string | null): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'spamdesk-in-force-')), name);
  if (text !== null) fs.writeFileSync(file, text);
  return file;
}

test('an operator file is in force as first read: an edit under the running process waits for the next start', () => {
  const file = tempFile('policy.json', '{"v": 1}');
  assert.deepEqual(readJsonFile(file, readFileInForce), { json: { v: 1 } });
  fs.writeFileSync(file, '{"v": 2}');
  assert.deepEqual(readJsonFile(file, readFileInForce), { json: { v: 1 } }, 'the text in force');
  assert.deepEqual(readJsonFile(file), { json: { v: 2 } }, 'a check reads the file as it is now');
});

test('a file that could not be read stays unread in this process, with the same problem', () => {
  const file = tempFile('relays.json', null);
  const first = readFileInForce(file);
  assert.ok('problem' in first && /cannot read/.test(first.problem.message));
  fs.writeFileSync(file, '[]');
  assert.deepEqual(readFileInForce(file), first);
  assert.deepEqual(readTextFile(file), { text: '[]' });
});

test('a new thread adopts the files its parent has in force, before reading any from disk', () => {
  const file = tempFile('contacts.csv', 'as the parent read it\n');
  const given = filesInForce([file, null, undefined]);
  assert.deepEqual(given, { [file]: { text: 'as the parent read it\n' } }, 'only the files a thread reads');
  // What a thread would find on disk now; it takes what it was given instead.
  const other = tempFile('scores.json', '{"edited": true}');
  adoptFilesInForce({ [other]: { text: '{"edited": false}' } });
  assert.deepEqual(readJsonFile(other, readFileInForce), { json: { edited: false } });
  adoptFilesInForce(undefined);
  const all = filesInForce();
  assert.ok(other in all && file in all, 'with no list, every file in force (for a child process)');
});
