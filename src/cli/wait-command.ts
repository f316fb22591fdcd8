import { Command, Option } from 'commander';
import type { ObjectKey } from '../workers/ports.js';
import { CliExit, ExitCode } from './cli-exit.js';
import type { CliContainerVersion, ContainerVersionAccess, WorkloadReplicas } from './cv-access.js';
import {
  accessFor,
  guarded,
  parseCvRef,
  parseDigest,
  parseDurationMs,
  withAccessOptions,
  type AccessOptions,
} from './cv-target.js';
import type { CliIo } from './program.js';
import {
  judgeWait,
  progressLine,
  settledVerdict,
  targetInFlight,
  type FinalVerdict,
  type WaitTarget,
  type WaitVerdict,
} from './wait-judgement.js';

/** Events printed when a wait fails. */
const EVENTS_SHOWN = 5;
/** Real ms between reads of the workloads' replicas while a rollout waits on them (progress only). */
const REPLICAS_INTERVAL_MS = 2_000;

interface WaitOptions extends AccessOptions {
  digest?: string;
  version?: string;
  timeout: string;
}

/** The CV's last Events, for a failed wait; a failure to read them is said, not thrown. */
export async function lastEvents(
  access: ContainerVersionAccess,
  key: ObjectKey,
  limit = EVENTS_SHOWN,
): Promise<string> {
  try {
    const events = (await access.events(key)).slice(0, limit);
    if (events.length === 0) return 'no Events\n';
    return `last Events of ${key.namespace}/${key.name}:\n${events
      .map(
        (e) =>
          `  ${e.lastTimestamp ?? e.firstTimestamp ?? ''}  ${e.type}  ${e.reason}: ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}`,
      )
      .join('\n')}\n`;
  } catch (error) {
    return `(Events not read: ${(error as Error).message})\n`;
  }
}

export interface WaitRun {
  access: ContainerVersionAccess;
  key: ObjectKey;
  /** Absent: the rollout in flight at the start, or the state now when none is. */
  target?: WaitTarget;
  timeoutMs: number;
  /** Progress lines (stderr). */
  progress: (line: string) => void;
  /** Judges each read; default {@link judgeWait}. */
  judge?: (cv: CliContainerVersion | null, target: WaitTarget) => WaitVerdict;
}

/**
 * Watches the CV until the verdict is final or `timeoutMs` passes. Resolves to the final verdict,
 * or `{ state: 'timeout' }`. Progress lines are printed when they change (replicas re-read every
 * 2 s while a rollout waits on its workloads, when the access can read them).
 */
export async function watchUntilDone(
  run: WaitRun,
): Promise<FinalVerdict | { state: 'timeout'; message: string }> {
  const { access, key } = run;
  const first = await access.get(key);
  if (!first) throw new CliExit(ExitCode.Usage, `no ContainerVersion ${key.namespace}/${key.name}`);
  const target = run.target ?? targetInFlight(first);
  if (!target) return settledVerdict(first);
  const judge = run.judge ?? judgeWait;
  let latest: CliContainerVersion = first;
  let lastLine = '';
  let replicas: WorkloadReplicas[] = [];
  const say = () => {
    const line = progressLine(latest, target, replicas);
    if (line !== lastLine) run.progress(line);
    lastLine = line;
  };
  return new Promise((resolve, reject) => {
    let done = false;
    let stopWatch: (() => Promise<void>) | undefined;
    const finish = (result: FinalVerdict | { state: 'timeout'; message: string } | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(replicaTimer);
      void (stopWatch?.() ?? Promise.resolve()).finally(() =>
        result instanceof Error ? reject(result) : resolve(result),
      );
    };
    const consider = (cv: CliContainerVersion | null) => {
      if (done) return;
      if (cv) latest = cv;
      const verdict = judge(cv, target);
      if (verdict.state !== 'waiting') return finish(verdict);
      say();
      // A new phase or step (e.g. the workloads were just patched): read their replicas now.
      const r = latest.status?.rollout;
      const at = r ? `${r.id}/${r.step}/${r.phase}` : '';
      if (at !== replicasOf) {
        replicasOf = at;
        replicas = [];
        readReplicas();
      }
    };
    const timer = setTimeout(
      () => finish({ state: 'timeout', message: `still ${lastLine}` }),
      run.timeoutMs,
    );
    let replicasOf = '';
    const readReplicas = () => {
      const rollout = latest.status?.rollout;
      if (!access.replicas || !rollout?.workloads?.length || done) return;
      access.replicas(latest).then(
        (read) => {
          replicas = read;
          if (!done) say();
        },
        () => undefined, // progress only: the next read tries again
      );
    };
    const replicaTimer = setInterval(readReplicas, REPLICAS_INTERVAL_MS);
    consider(first);
    access
      .watch(key, consider, (error) => finish(error))
      .then(
        (stop) => {
          if (done) void stop();
          else stopWatch = stop;
        },
        (error: unknown) => finish(error as Error),
      );
  });
}

/** `cvm wait <namespace>/<cv>`: blocks until the CV runs the image, it failed, or the timeout. */
export function waitCommand(io: CliIo): Command {
  return withAccessOptions(
    new Command('wait')
      .description(
        'wait until a ContainerVersion runs an image on every workload (exit 0), its rollout failed, was rolled back or the digest is refused or known bad (1), or the timeout passed (3); bad usage, an unknown CV or an unreachable cluster exit 2. Without --digest/--version it waits for the rollout in flight; with none in flight it answers at once: 0 when Ready, else 1',
      )
      .argument('<namespace/cv>', 'the ContainerVersion')
      .addOption(new Option('--digest <digest>', 'the image digest, sha256:…').conflicts('version'))
      .addOption(
        new Option('--version <version>', 'the version (as cvm names it, e.g. the git sha tag)'),
      )
      .option('--timeout <duration>', 'give up after this long: 90s, 10m, 1h', '10m')
      .addHelpText(
        'after',
        '\nExit codes: 0 runs the image on every workload; 1 failed, rolled back, refused or known bad (prints why and the last Events); 2 bad usage, unknown CV, unreachable cluster or server; 3 timed out.',
      ),
  ).action(async (ref: string, options: WaitOptions) => {
    const key = parseCvRef(ref);
    const timeoutMs = parseDurationMs(options.timeout, '--timeout');
    const target: WaitTarget | undefined =
      options.digest !== undefined
        ? { digest: parseDigest(options.digest, '--digest') }
        : options.version !== undefined
          ? { version: options.version }
          : undefined;
    if (target && 'version' in target && target.version.trim() === '')
      throw new CliExit(ExitCode.Usage, '--version must not be empty');
    const access = accessFor(options, io);
    const verdict = await guarded(() =>
      watchUntilDone({
        access,
        key,
        ...(target ? { target } : {}),
        timeoutMs,
        progress: (line) => io.err(`${ref}: ${line}\n`),
      }),
    );
    if (verdict.state === 'succeeded') {
      io.out(`${ref}: ${verdict.message}\n`);
      return;
    }
    if (verdict.state === 'timeout')
      throw new CliExit(
        ExitCode.Timeout,
        `${ref}: timed out after ${options.timeout}; ${verdict.message}`,
      );
    io.err(await lastEvents(access, key));
    throw new CliExit(ExitCode.Failure, `${ref}: ${verdict.message}`);
  });
}
