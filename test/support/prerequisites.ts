import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { pingOnce } from './redis-server.js';

/**
 * Where the browser tests find Chromium: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. (Not a
 * `CVM_*` name: cvm refuses unknown `CVM_` keys, and tests pass their environment to cvm.)
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/** Something the test suite needs from the machine, and how a newcomer gets it. */
export interface Prerequisite {
  /** Stable key tests look themselves up by: `chromium`, `kubectl`, `redis`, … */
  key: string;
  what: string;
  /** Which tests need it. */
  neededBy: string;
  how: string;
}

/** How the checks look at the machine; the real one by default, fakes in unit tests. */
export interface MachineProbe {
  onPath(command: string): boolean;
  executable(path: string): boolean;
  redisAnswers(): Promise<boolean>;
}

export const realMachine: MachineProbe = {
  onPath: (command) =>
    spawnSync('/bin/sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0,
  executable: (path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
  redisAnswers: () => pingOnce(6379),
};

const debian = (pkg: string) => `sudo apt-get install ${pkg} (.ci/run installs it)`;
const machineImage = 'the CI machine image provides it';

/** What the suite needs that this machine lacks; empty when everything is there. */
export async function missingPrerequisites(
  probe: MachineProbe = realMachine,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Prerequisite[]> {
  const checks: [ok: boolean, prerequisite: Prerequisite][] = [
    [
      probe.executable(chromiumPath(env)),
      {
        key: 'chromium',
        what: `Chromium (${chromiumPath(env)})`,
        neededBy: 'the queue board browser test',
        how: `${debian('chromium')}, or set CHROMIUM_PATH to a Chromium binary`,
      },
    ],
    [
      probe.onPath('docker-registry'),
      {
        key: 'docker-registry',
        what: 'docker-registry',
        neededBy: 'registry and demo tests',
        how: debian('docker-registry'),
      },
    ],
    [
      probe.onPath('redis-sentinel'),
      {
        key: 'redis-sentinel',
        what: 'redis-sentinel',
        neededBy: 'the Redis Sentinel failover test',
        how: debian('redis-sentinel'),
      },
    ],
    [
      probe.onPath('skopeo'),
      { key: 'skopeo', what: 'skopeo', neededBy: 'registry and demo tests', how: debian('skopeo') },
    ],
    [
      probe.onPath('prometheus'),
      {
        key: 'prometheus',
        what: 'prometheus',
        neededBy: 'the metric analysis tests',
        how: debian('prometheus'),
      },
    ],
    [
      probe.onPath('kubectl'),
      { key: 'kubectl', what: 'kubectl', neededBy: 'emulator and demo tests', how: machineImage },
    ],
    [
      probe.onPath('moto_server'),
      {
        key: 'moto_server',
        what: 'moto_server',
        neededBy: 'SQS, ECR and CloudFormation tests',
        how: machineImage,
      },
    ],
    [
      probe.onPath('cfn-lint'),
      { key: 'cfn-lint', what: 'cfn-lint', neededBy: 'the CloudFormation test', how: machineImage },
    ],
    [
      await probe.redisAnswers(),
      {
        key: 'redis',
        what: 'Redis on 127.0.0.1:6379',
        neededBy: 'every queue test',
        how: 'start redis-server on 127.0.0.1:6379 (.ci/run starts it)',
      },
    ],
  ];
  return checks.filter(([ok]) => !ok).map(([, prerequisite]) => prerequisite);
}

/** The one message a test run prints up front, and a test that needs a missing part fails with. */
export function describeMissing(missing: readonly Prerequisite[]): string {
  return [
    'This machine lacks what some tests need (they will fail, naming it):',
    ...missing.map((p) => `  - ${p.what}, for ${p.neededBy}: ${p.how}`),
  ].join('\n');
}
