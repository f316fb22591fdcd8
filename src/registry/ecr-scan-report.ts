import type { DescribeImageScanFindingsResponse } from '@aws-sdk/client-ecr';
import type { ScanReport, Severity } from './registry-client.js';

type CountedSeverity = Exclude<Severity, 'NONE'>;
const COUNTED: readonly CountedSeverity[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

/**
 * The `ScanReport` of a DescribeImageScanFindings answer: COMPLETE (basic) and ACTIVE (enhanced,
 * continuous) give counts; IN_PROGRESS and PENDING ask again later; every other status is a
 * failure whose reason is ECR's status and description. INFORMATIONAL/UNDEFINED are not counted.
 */
export function ecrScanReport(response: DescribeImageScanFindingsResponse): ScanReport {
  const status = response.imageScanStatus?.status ?? 'PENDING';
  if (status === 'IN_PROGRESS' || status === 'PENDING') return { status: 'pending' };
  if (status === 'COMPLETE' || status === 'ACTIVE') {
    const counts = response.imageScanFindings?.findingSeverityCounts ?? {};
    const severityCounts: Partial<Record<CountedSeverity, number>> = {};
    for (const severity of COUNTED) {
      const count = counts[severity];
      if (count) severityCounts[severity] = count;
    }
    return { status: 'complete', severityCounts };
  }
  const description = response.imageScanStatus?.description;
  return { status: 'failed', reason: description ? `${status}: ${description}` : status };
}
