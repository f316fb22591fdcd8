import { Reason } from '../api/conditions.js';
import type { Platform, ScanReport, Severity } from '../registry/registry-client.js';
import { SEVERITY_ORDER } from '../registry/registry-client.js';

/**
 * The outcome of one check: pass; fail (permanent for this digest: it is remembered in
 * `failedDigests`); or wait (not yet: the job is retried after `retryAfterMs`).
 */
export type Verdict =
  | { outcome: 'pass' }
  | { outcome: 'fail'; reason: Reason; message: string }
  | { outcome: 'wait'; reason: Reason; message: string; retryAfterMs: number };

const pass: Verdict = { outcome: 'pass' };

/** Every node architecture must be in the image (an image without platform data passes). */
export function checkPlatforms(
  platforms: readonly Platform[],
  nodeArchitectures: readonly string[],
): Verdict {
  const linux = platforms.filter((p) => p.os === 'linux' || p.os === '');
  if (linux.length === 0 || nodeArchitectures.length === 0) return pass;
  const missing = nodeArchitectures.filter((arch) => !linux.some((p) => p.architecture === arch));
  if (missing.length === 0) return pass;
  return {
    outcome: 'fail',
    reason: Reason.PlatformMissing,
    message: `the image has no linux/${missing.join(', linux/')} variant, which nodes of the cluster run (it has ${linux.map((p) => `${p.os}/${p.architecture}`).join(', ')})`,
  };
}

/**
 * No rollout to an image older than the one running unless `allowRegression`. Age is the image
 * config's `created` (else the push time); without both times there is nothing to compare.
 */
export function checkRegression(
  candidate: string | undefined,
  running: string | undefined,
  allowRegression: boolean,
): Verdict {
  if (allowRegression || !candidate || !running) return pass;
  if (Date.parse(candidate) >= Date.parse(running)) return pass;
  return {
    outcome: 'fail',
    reason: Reason.Regression,
    message: `the image was created ${candidate}, before the running one (${running}); set spec.policy.allowRegression to roll back by tag`,
  };
}

/** An image younger than `minImageAgeSeconds` waits until it is old enough. */
export function checkImageAge(
  createdOrPushed: string | undefined,
  minImageAgeSeconds: number,
  now: Date,
): Verdict {
  if (minImageAgeSeconds === 0 || !createdOrPushed) return pass;
  const ageMs = now.getTime() - Date.parse(createdOrPushed);
  const waitMs = minImageAgeSeconds * 1000 - ageMs;
  if (waitMs <= 0) return pass;
  return {
    outcome: 'wait',
    reason: Reason.ImageTooNew,
    message: `the image is ${Math.max(0, Math.floor(ageMs / 1000))} s old; spec.policy.minImageAgeSeconds is ${minImageAgeSeconds}`,
    retryAfterMs: waitMs,
  };
}

/** How long to wait for a scan that has not finished, before asking again. */
export const SCAN_RECHECK_MS = 15_000;

/** Findings must not exceed `maxSeverity` (NONE allows none); no `maxSeverity`, no scan needed. */
export function checkScan(report: ScanReport, maxSeverity: Severity | undefined): Verdict {
  if (maxSeverity === undefined) return pass;
  switch (report.status) {
    case 'unsupported':
      return {
        outcome: 'fail',
        reason: Reason.VulnerabilitiesFound,
        message: `spec.policy.maxSeverity is ${maxSeverity}, but this registry offers no scan cvm can read; remove maxSeverity or use a registry with scanning (ECR)`,
      };
    case 'pending':
      return {
        outcome: 'wait',
        reason: Reason.VulnerabilitiesFound,
        message: 'waiting for the vulnerability scan to finish',
        retryAfterMs: SCAN_RECHECK_MS,
      };
    case 'failed':
      return {
        outcome: 'fail',
        reason: Reason.VulnerabilitiesFound,
        message: `the vulnerability scan failed: ${report.reason}`,
      };
    case 'complete': {
      const allowed = SEVERITY_ORDER.indexOf(maxSeverity);
      const over = SEVERITY_ORDER.filter(
        (s, i) => s !== 'NONE' && i > allowed && (report.severityCounts[s] ?? 0) > 0,
      );
      if (over.length === 0) return pass;
      const counts = over
        .map((s) => `${report.severityCounts[s as Exclude<Severity, 'NONE'>]} ${s}`)
        .join(', ');
      return {
        outcome: 'fail',
        reason: Reason.VulnerabilitiesFound,
        message: `the scan found ${counts} finding(s), above spec.policy.maxSeverity ${maxSeverity}`,
      };
    }
  }
}
