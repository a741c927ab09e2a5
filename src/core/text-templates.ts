/**
 * Translation of text that was produced from a template and stored or thrown in English: analysis
 * narrative and findings, system case titles, error messages. The English template is matched
 * against the text (its `{name}` parameters captured), and the same parameters are put into the
 * template of the reader's language.
 *
 * Why match rather than store keys: analyses stored by every earlier run (and exported, hashed into
 * referral packages) keep their exact English text and stay valid; no analyser-version bump and no
 * re-analysis of stored evidence is needed, and an old text is translated exactly like a new one.
 * A text no template knows is returned as it is (the caller shows it as English, `lang="en"`).
 *
 * Parameter kinds, written in the template:
 * - `{n}` `{i}` `{count}` … (names listed in NUMERIC): digits only, formatted for the reader;
 * - `{~name}`: a fragment that is itself translated with the same catalogue (nested sentences);
 * - `{*name}`: a list joined with `; `, each item translated with the same catalogue;
 * - `{name}`: any text, kept as written (a host, an address, a header value).
 */

export type TextLang = 'en' | 'fr';

/** One sentence in both languages. The French uses the same parameter names. */
export interface TextTemplate {
  en: string;
  fr: string;
}

/** Parameter names that always hold a whole number. */
const NUMERIC = new Set(['n', 'i', 'j', 'count', 'bytes', 'max', 'days', 'size', 'limit', 'depth', 'total']);

interface Compiled {
  re: RegExp;
  names: string[];
  fr: string;
  /** Length of the literal text: longer templates are tried first (the more specific one wins). */
  literal: number;
}

const PARAM = /\{([~*]?)(\w+)\}/g;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(t: TextTemplate): Compiled {
  const names: string[] = [];
  let re = '';
  let last = 0;
  let literal = 0;
  for (const m of t.en.matchAll(PARAM)) {
    const lit = t.en.slice(last, m.index);
    re += escapeRe(lit);
    literal += lit.length;
    const name = m[2];
    names.push(m[1] + name);
    re += NUMERIC.has(name) ? '(\\d+)' : '([\\s\\S]*?)';
    last = m.index + m[0].length;
  }
  const tail = t.en.slice(last);
  re += escapeRe(tail);
  literal += tail.length;
  return { re: new RegExp(`^${re}$`), names, fr: t.fr, literal };
}

/** Formats a whole number for the reader (fr-FR groups digits with a narrow no-break space). */
export function formatInteger(n: number, lang: TextLang): string {
  return new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB').format(n);
}

/** How list items are joined: French puts a narrow no-break space before the semicolon. */
const LIST_SEPARATOR: Record<TextLang, string> = { en: '; ', fr: '\u202f; ' };

/** Deepest nesting of `{~name}` fragments followed (hostile text cannot make it recurse further). */
const MAX_DEPTH = 4;

/**
 * A translator over one catalogue: `translate(text, 'fr')` is the French text, or null when no
 * template matches. English is returned unchanged.
 */
export function textTranslator(templates: readonly TextTemplate[]): (text: string, lang: TextLang) => string | null {
  const compiled = templates.map(compile).sort((a, b) => b.literal - a.literal);
  const tr = (text: string, lang: TextLang, depth: number): string | null => {
    if (lang === 'en') return text;
    for (const c of compiled) {
      const m = c.re.exec(text);
      if (!m) continue;
      const values = new Map<string, string>();
      c.names.forEach((name, k) => {
        const v = m[k + 1] ?? '';
        const nested = (x: string) => (depth < MAX_DEPTH && x !== '' ? (tr(x, lang, depth + 1) ?? x) : x);
        if (name.startsWith('~')) values.set(name, nested(v));
        else if (name.startsWith('*')) values.set(name, v.split('; ').map(nested).join(LIST_SEPARATOR[lang]));
        else values.set(name, NUMERIC.has(name) ? formatInteger(Number(v), lang) : v);
      });
      return c.fr.replace(PARAM, (all, tilde: string, name: string) => values.get(tilde + name) ?? all);
    }
    return null;
  };
  return (text, lang) => tr(text, lang, 0);
}

/**
 * Every template's French uses exactly the parameters of its English (a missing or extra one is
 * a translation error); the problems, for the tests of each catalogue.
 */
export function templateProblems(templates: readonly TextTemplate[]): string[] {
  const params = (s: string) => [...s.matchAll(PARAM)].map((m) => m[0]).sort();
  const problems: string[] = [];
  for (const t of templates) {
    if (params(t.en).join() !== params(t.fr).join()) problems.push(`parameters differ: ${t.en}`);
  }
  const seen = new Set<string>();
  for (const t of templates) {
    if (seen.has(t.en)) problems.push(`duplicate template: ${t.en}`);
    seen.add(t.en);
  }
  return problems;
}
