import { describe, expect, it } from 'vitest';
import { parseEcrHost } from '../../src/registry/ecr-host.js';
import { ecrScanReport } from '../../src/registry/ecr-scan-report.js';

describe('ecrScanReport', () => {
  it.each([
    [
      'COMPLETE with counts; INFORMATIONAL and UNDEFINED not counted',
      {
        imageScanStatus: { status: 'COMPLETE' as const },
        imageScanFindings: {
          findingSeverityCounts: { CRITICAL: 1, HIGH: 2, INFORMATIONAL: 9, UNDEFINED: 3 },
        },
      },
      { status: 'complete', severityCounts: { CRITICAL: 1, HIGH: 2 } },
    ],
    [
      'COMPLETE without findings',
      { imageScanStatus: { status: 'COMPLETE' as const } },
      { status: 'complete', severityCounts: {} },
    ],
    [
      'ACTIVE (enhanced scanning) counts too',
      {
        imageScanStatus: { status: 'ACTIVE' as const },
        imageScanFindings: { findingSeverityCounts: { LOW: 4 } },
      },
      { status: 'complete', severityCounts: { LOW: 4 } },
    ],
    ['IN_PROGRESS', { imageScanStatus: { status: 'IN_PROGRESS' as const } }, { status: 'pending' }],
    ['PENDING', { imageScanStatus: { status: 'PENDING' as const } }, { status: 'pending' }],
    ['no status', {}, { status: 'pending' }],
    [
      'FAILED with ECR description',
      {
        imageScanStatus: {
          status: 'FAILED' as const,
          description: 'UnsupportedImageError: distro not supported',
        },
      },
      { status: 'failed', reason: 'FAILED: UnsupportedImageError: distro not supported' },
    ],
    [
      'SCAN_ELIGIBILITY_EXPIRED without description',
      { imageScanStatus: { status: 'SCAN_ELIGIBILITY_EXPIRED' as const } },
      { status: 'failed', reason: 'SCAN_ELIGIBILITY_EXPIRED' },
    ],
  ])('%s', (_what, response, expected) => {
    expect(ecrScanReport(response)).toEqual(expected);
  });
});

describe('parseEcrHost', () => {
  it.each([
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      { registryId: '123456789012', region: 'eu-west-1' },
    ],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      { registryId: '123456789012', region: 'cn-north-1' },
    ],
    [
      '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com',
      { registryId: '123456789012', region: 'us-gov-west-1' },
    ],
    ['12345678901.dkr.ecr.eu-west-1.amazonaws.com', null],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.io', null],
    ['public.ecr.aws', null],
    ['ghcr.io', null],
  ])('%s → %j', (host, expected) => {
    expect(parseEcrHost(host)).toEqual(expected);
  });
});
