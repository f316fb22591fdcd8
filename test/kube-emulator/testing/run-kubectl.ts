import { execFile, spawn } from 'node:child_process';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the machine's kubectl against a kubeconfig; never rejects; killed after `timeoutMs`. */
export function runKubectl(
  kubeconfigPath: string,
  args: string[],
  input?: string,
  timeoutMs = 20_000,
): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      ['--kubeconfig', kubeconfigPath, ...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * Starts a long-running kubectl (`get -w`), collects stdout until `until` says enough or
 * `timeoutMs` passes, then kills it and returns what it printed.
 */
export function watchKubectl(
  kubeconfigPath: string,
  args: string[],
  until: (stdout: string) => boolean,
  whileRunning: () => Promise<void>,
  timeoutMs = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfigPath, ...args]);
    let out = '';
    const finish = (): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(out);
    };
    const timer = setTimeout(finish, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (until(out)) finish();
    });
    child.on('error', reject);
    whileRunning().catch((error: unknown) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
}
