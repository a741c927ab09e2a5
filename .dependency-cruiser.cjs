/**
 * The layers of the flow (DESIGN.md), lowest first. A module may import its own layer or any layer
 * below it, never one above, and nothing may import in a circle. `npm run check:layers` runs this
 * in CI. Tests and test support (`*.test.ts`, `test-*.ts`) may reach up: they assemble whole apps.
 */
const LAYERS = [
  ['core', '^src/core/'],
  ['db', '^src/db/'],
  ['workers', '^src/workers/'],
  // Mail helpers sit below evidence, not above it as in the list: redaction (evidence)
  // walks MIME to redact a copy, and the helpers depend on nothing but core.
  ['mail', '^src/mail/'],
  ['evidence', '^src/evidence/'],
  ['analysis', '^src/analysis/'],
  ['campaigns', '^src/campaigns/'],
  ['actions', '^src/actions/'],
  // Feeds publish what campaigns and actions decided (listings, STIX/TAXII, MISP).
  ['feeds', '^src/feeds/'],
  ['edges', '^src/(intake|web)/'],
  ['app', '^src/app/'],
  ['cli', '^src/cli/'],
];

const TEST = '(\\.test\\.ts$|/test-[^/]*\\.ts$|/test-support/)';

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `no-upward-from-${name}`,
  comment: `${name} sits below ${LAYERS.slice(i + 1).map(([n]) => n).join(', ')}: it may not import them (the registry belongs to the wiring at the top, the interface below)`,
  severity: 'error',
  from: { path, pathNot: TEST },
  to: { path: LAYERS.slice(i + 1).map(([, p]) => `(${p})`).join('|') },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'import circles hide the order of the flow',
      severity: 'error',
      from: { pathNot: TEST },
      to: { circular: true, viaOnly: { pathNot: TEST } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
