/** The analysis settings (structured-cloneable, see `stage.ts`) from the instance configuration. */
import type { Config } from '../core/config.ts';
import type { AnalysisSettings } from './stage.ts';

export function analysisSettingsFrom(config: Config, stageParams: Record<string, unknown> = {}): AnalysisSettings {
  return {
    region: config.region,
    timeoutMs: config.analysisTimeoutMs,
    maxDecodedBytes: config.analysisMaxDecodedBytes,
    maxNestingDepth: config.analysisMaxNesting,
    maxTextBytes: config.analysisMaxTextBytes,
    intakeHosts: config.intakeHosts,
    abuseContactsFile: config.abuseContactsFile ?? null,
    trustedRelaysFile: config.trustedRelaysFile ?? null,
    trustedAuthservIds: config.trustedAuthservIds,
    dnsMode: config.dnsMode,
    dnsTimeoutMs: config.dnsTimeoutMs,
    dnsMaxLookups: config.dnsMaxLookups,
    stageParams,
  };
}

/** Defaults for tests and benchmarks (same values as the shipped configuration). */
export function defaultAnalysisSettings(overrides: Partial<AnalysisSettings> = {}): AnalysisSettings {
  return {
    region: 'FR',
    timeoutMs: 2000,
    maxDecodedBytes: 64 * 1024 * 1024,
    maxNestingDepth: 5,
    intakeHosts: [],
    abuseContactsFile: null,
    stageParams: {},
    ...overrides,
  };
}
