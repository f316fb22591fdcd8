/** What an ECR registry host names: `<registryId>.dkr.ecr.<region>.amazonaws.com[.cn]`. */
export interface EcrRegistry {
  registryId: string;
  region: string;
}

/** ECR private registry hosts; the AWS China partition ends in `.cn`. */
export const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** The registry id and region of an ECR host, or `null` for any other registry. */
export function parseEcrHost(host: string): EcrRegistry | null {
  const match = ECR_HOST.exec(host.toLowerCase());
  return match?.[1] && match[2] ? { registryId: match[1], region: match[2] } : null;
}
