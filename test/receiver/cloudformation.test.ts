import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const template = fileURLToPath(new URL('../../infra/aws/ecr-events.yaml', import.meta.url));

describe('infra/aws/ecr-events.yaml', () => {
  it('passes cfn-lint with no findings', async () => {
    const { stdout, stderr } = await promisify(execFile)('cfn-lint', [template]).catch(
      (error: { stdout: string; stderr: string; code: number }) => {
        throw new Error(`cfn-lint exited ${error.code}:\n${error.stdout}${error.stderr}`);
      },
    );
    expect(stdout + stderr).toBe('');
  }, 60_000);
});
