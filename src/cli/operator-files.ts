/**
 * The operator files the settings name, checked when a command starts, as the settings are: every
 * problem of every file is listed (file, line or path, what is wrong) and the command exits 2
 * before it does anything (`serve` before "ready"). Each check is the validation its loader runs,
 * so a file that passes here loads later.
 */
import type { Config, SettingKey } from '../core/config.ts';
import { SETTINGS } from '../core/config.ts';
import { type FileProblem, type FileRead, readFileInForce } from '../core/file-problems.ts';
import { actionPolicyProblems } from '../actions/action-policy.ts';
import { scoresFileProblems } from '../analysis/classify/scores.ts';
import { smsProfilesProblems } from '../analysis/classify/sms-signals.ts';
import { trustedRelaysProblems } from '../analysis/stages/traceback/trust.ts';
import { abuseContactsProblems } from '../analysis/ports/abuse-contacts.ts';

export interface OperatorFile {
  setting: SettingKey;
  /** What the file holds, as the messages name it. */
  what: string;
  /** Its problems, the text read by `readText` (the check at a start pins what it read: `readFileInForce`). */
  problems(file: string, readText: (file: string) => FileRead): FileProblem[];
}

/** Every operator file a setting can name (the text model is checked by its loader: it is data, not configuration). */
export const OPERATOR_FILES: readonly OperatorFile[] = [
  { setting: 'actionsPolicyFile', what: 'actions policy', problems: actionPolicyProblems },
  { setting: 'classifyScoresFile', what: 'classifier scores', problems: scoresFileProblems },
  { setting: 'smsProfilesFile', what: 'SMS profiles', problems: smsProfilesProblems },
  { setting: 'trustedRelaysFile', what: 'trusted relays', problems: trustedRelaysProblems },
  { setting: 'abuseContactsFile', what: 'abuse contacts', problems: abuseContactsProblems },
];

export interface OperatorFileReport {
  file: OperatorFile;
  /** The path the setting names, or null when unset (the shipped defaults apply). */
  path: string | null;
  problems: FileProblem[];
}

/**
 * Checks every operator file the configuration names. What it read is what the process runs with
 * (`readFileInForce`): a file edited after the check waits for the next start, in every thread.
 */
export function checkOperatorFiles(config: Config): OperatorFileReport[] {
  return OPERATOR_FILES.map((f) => {
    const value = config[f.setting];
    const p = typeof value === 'string' ? value : null;
    return { file: f, path: p, problems: p === null ? [] : f.problems(p, readFileInForce) };
  });
}

/** The lines an operator reads: `  - actions policy (SPAMDESK_ACTIONS_POLICY) policy.json: cases.rules.0: …`. */
export function operatorFileProblemLines(reports: readonly OperatorFileReport[]): string[] {
  return reports.flatMap((r) =>
    r.problems.map(
      (p) =>
        `  - ${r.file.what} (${SETTINGS[r.file.setting].env}) ${p.file}${p.where === null ? '' : `: ${p.where}`}: \
${p.message}`,
    ),
  );
}
