/**
 * What a trace-back label is a label of: a message's `Received:` chain. Two corpus files with the same chain
 * are one labelled chain, whatever else differs between them. The SpamAssassin corpus keeps many messages in
 * two folders (`hard_ham/00009` and `hard_ham_20021010/0139`) with different bytes (its own spam-filter
 * headers), and test fixtures copy one another (`nice/spf3` and its `spf4`…`spf6` variants): counted twice,
 * such a chain weighs twice in the figures, and a blind draw that takes the second copy draws nothing new.
 * Read with a plain regular expression, not with the code under test.
 */

/** The header block's `Received:` fields, unfolded, top first (the first 256 KiB of the message at most). */
export function receivedFields(raw: Buffer): string[] {
  const text = raw.subarray(0, 256 * 1024).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  return head
    .split(/\r?\n/)
    .filter((l) => /^received:/i.test(l))
    .map((l) => l.slice(9));
}

/**
 * The chain as one string: every `Received:` field with its runs of white space made one space, so a copy
 * that differs only in how its lines were folded (CRLF against LF, tabs against spaces) has the same key.
 * Null for a message with no `Received:` field: two such messages are not copies of one chain.
 */
export function chainKey(raw: Buffer): string | null {
  const fields = receivedFields(raw);
  return fields.length === 0 ? null : fields.map((f) => f.replace(/\s+/g, ' ').trim()).join('\n');
}

/**
 * Batches in the order they were labelled: the chains labelled before the rounds had names first, then by
 * name with numbers compared as numbers (`13b`, `tb1`, `tb2` … `tb5`, `tb13` … `tb23`).
 */
export function batchOrder(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return a.localeCompare(b, 'en', { numeric: true });
}
