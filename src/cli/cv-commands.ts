import { ConditionType, findCondition } from '../api/conditions.js';
import { cvState } from '../api/cv-state.js';
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import type { HistoryEntry, ObjectKey } from '../workers/ports.js';
import { CliExit, ExitCode } from './cli-exit.js';
import type {
  CliContainerVersion,
  ContainerVersionAccess,
  RequestAction,
  RequestMade,
} from './cv-access.js';
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
import { table } from './table.js';
import { lastEvents, watchUntilDone } from './wait-command.js';
import type { FinalVerdict } from './wait-judgement.js';

/** How long `--wait` waits for cvm to handle a request, unless `--timeout` says otherwise. */
const DEFAULT_REQUEST_WAIT = '2m';

/** `5d`, `3h`, `12m`, `40s` as kubectl prints ages. */
export function age(since: string | undefined, now: Date = new Date()): string {
  const ms = since ? now.getTime() - Date.parse(since) : NaN;
  if (!Number.isFinite(ms)) return '<unknown>';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/**
 * Ready, Progressing, Degraded or Suspended ({@link cvState}, as the REST API and the dashboard
 * say), with the reason when Degraded: what a person looks at first.
 */
export function stateOf(cv: CliContainerVersion): string {
  const state = cvState(cv);
  if (state !== 'Degraded') return state;
  const conditions = cv.status?.conditions;
  const degraded = findCondition(conditions, ConditionType.Degraded);
  const reason =
    degraded?.status === 'True'
      ? degraded.reason
      : findCondition(conditions, ConditionType.Ready)?.reason;
  return reason ? `Degraded (${reason})` : state;
}

const rolloutCell = (cv: CliContainerVersion) => {
  const r = cv.status?.rollout;
  return r ? `${r.strategy} ${r.step}/${r.steps} ${r.phase} (${r.version})` : '-';
};

/** `cvm status` rows, as `kubectl get cv` prints them plus state and rollout. */
export function statusTable(cvs: readonly CliContainerVersion[], now = new Date()): string {
  return table(
    ['NAMESPACE', 'NAME', 'TAG', 'VERSION', 'READY', 'STATE', 'ROLLOUT', 'AGE'],
    cvs.map((cv) => [
      cv.metadata.namespace,
      cv.metadata.name,
      String(cv.spec?.tag ?? ''),
      cv.status?.currentVersion ?? '-',
      cv.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
      stateOf(cv),
      rolloutCell(cv),
      age(cv.metadata.creationTimestamp, now),
    ]),
  );
}

const shortDigest = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

/** `cvm history` rows, newest first as stored. */
export function historyTable(entries: readonly HistoryEntry[]): string {
  return table(
    ['STARTED', 'VERSION', 'DIGEST', 'RESULT', 'TRIGGER', 'MESSAGE'],
    entries.map((e) => [
      e.startedAt,
      e.version,
      shortDigest(e.digest),
      e.result,
      e.trigger,
      e.message.replace(/\s+/g, ' '),
    ]),
  );
}

/**
 * The digest `cvm rollback` asks for: with `to`, the newest entry of that version (or digest),
 * Succeeded ones first; without, the newest Succeeded entry whose digest is not the current one.
 * A {@link CliExit} (exit 2) saying what the history lacks otherwise.
 */
export function rollbackTarget(
  entries: readonly HistoryEntry[],
  currentDigest: string | undefined,
  to: string | undefined,
  cv: string,
): HistoryEntry {
  if (to !== undefined) {
    const same = entries.filter((e) =>
      to.startsWith('sha256:') ? e.digest === to : e.version === to,
    );
    const found = same.find((e) => e.result === 'Succeeded') ?? same[0];
    if (!found) throw new CliExit(ExitCode.Usage, `--to: no version ${to} in the history of ${cv}`);
    return found;
  }
  const found = entries.find((e) => e.result === 'Succeeded' && e.digest !== currentDigest);
  if (!found)
    throw new CliExit(
      ExitCode.Usage,
      `no earlier Succeeded version in the history of ${cv} to roll back to; name one with --to`,
    );
  return found;
}

interface ActionOptions extends AccessOptions {
  wait?: boolean;
  timeout: string;
}

/** Waits for `status.lastRequest` to show `request`: Applied → ok, Refused → exit 1. */
async function awaitOutcome(
  io: CliIo,
  access: ContainerVersionAccess,
  key: ObjectKey,
  ref: string,
  made: RequestMade,
  timeout: string,
): Promise<void> {
  const request = made.request;
  if (!request) return;
  const timeoutMs = parseDurationMs(timeout, '--timeout');
  const judge = (cv: CliContainerVersion | null): FinalVerdict | { state: 'waiting' } => {
    if (!cv) return { state: 'failed', message: 'the ContainerVersion was deleted' };
    const last = cv.status?.lastRequest;
    if (last?.value !== request) return { state: 'waiting' };
    return last.result === 'Applied'
      ? {
          state: 'succeeded',
          message: `${last.action} applied${last.message ? `: ${last.message}` : ''}`,
        }
      : { state: 'failed', message: `${last.action} refused: ${last.message}` };
  };
  const verdict = await guarded(() =>
    watchUntilDone({
      access,
      key,
      target: { digest: request },
      timeoutMs,
      progress: () => undefined,
      judge: (cv) => judge(cv),
    }),
  );
  if (verdict.state === 'succeeded') {
    io.out(`${ref}: ${verdict.message}\n`);
    return;
  }
  if (verdict.state === 'timeout')
    throw new CliExit(ExitCode.Timeout, `${ref}: cvm did not handle ${request} within ${timeout}`);
  io.err(await lastEvents(access, key, 3));
  throw new CliExit(ExitCode.Failure, `${ref}: ${verdict.message}`);
}

/** An action command: `<ns/cv>`, `--wait`, `--timeout`, the access options. */
function actionCommand(
  io: CliIo,
  name: string,
  description: string,
  ask: (
    access: ContainerVersionAccess,
    key: ObjectKey,
    ref: string,
    options: ActionOptions & Record<string, unknown>,
  ) => Promise<RequestMade>,
  configure: (command: Command) => Command = (c) => c,
): Command {
  const command = configure(
    withAccessOptions(
      new Command(name)
        .description(description)
        .argument('<namespace/cv>', 'the ContainerVersion')
        .option('--wait', 'wait until cvm handled the request: Applied exit 0, Refused exit 1')
        .option(
          '--timeout <duration>',
          'with --wait: give up after this long (exit 3)',
          DEFAULT_REQUEST_WAIT,
        ),
    ),
  );
  return command.action(async (ref: string, options: ActionOptions & Record<string, unknown>) => {
    const key = parseCvRef(ref);
    if (options.wait) parseDurationMs(options.timeout, '--timeout');
    const access = accessFor(options, io);
    const made = await guarded(() => ask(access, key, ref, options));
    const value =
      made.request && !made.message.includes(made.request)
        ? ` (cvm.dev/request=${made.request})`
        : '';
    io.out(`${ref}: requested ${made.message}${value}\n`);
    if (options.wait) await awaitOutcome(io, access, key, ref, made, options.timeout);
  });
}

const requestCommand = (io: CliIo, name: string, action: RequestAction, description: string) =>
  actionCommand(io, name, description, (access, key) => access.request(key, action));

/** `cvm status|history|rollback|sync|suspend|resume|rollout …`: ContainerVersions for people and CI. */
export function containerVersionCommands(io: CliIo): Command[] {
  const status = withAccessOptions(
    new Command('status')
      .description(
        'ContainerVersions as a table (like kubectl get cv) with state and rollout; -o json|yaml',
      )
      .argument('[namespace/cv]', 'one ContainerVersion (default: every one of --namespace)')
      .option(
        '-n, --namespace <namespace>',
        "the namespace to list (default: the kubeconfig context's, else default)",
      )
      .option('-A, --all-namespaces', 'every namespace')
      .addOption(
        new Option('-o, --output <format>', 'table, json or yaml')
          .choices(['table', 'json', 'yaml'])
          .default('table'),
      ),
  ).action(
    async (
      ref: string | undefined,
      options: AccessOptions & { namespace?: string; allNamespaces?: boolean; output: string },
    ) => {
      const key = ref === undefined ? undefined : parseCvRef(ref);
      if (!key && options.namespace !== undefined) parseCvRef(`${options.namespace}/x`);
      const access = accessFor(options, io);
      const namespace = options.namespace ?? access.defaultNamespace;
      const cvs = await guarded(async () => {
        if (!key) return access.list(options.allNamespaces ? undefined : namespace);
        const cv = await access.get(key);
        if (!cv) throw new CliExit(ExitCode.Usage, `no ContainerVersion ${ref}`);
        return [cv];
      });
      const sorted = [...cvs].sort(
        (a, b) =>
          a.metadata.namespace.localeCompare(b.metadata.namespace) ||
          a.metadata.name.localeCompare(b.metadata.name),
      );
      const data = key ? sorted[0] : { items: sorted };
      if (options.output === 'json') io.out(`${JSON.stringify(data, null, 2)}\n`);
      else if (options.output === 'yaml') io.out(stringify(data));
      else if (sorted.length === 0) io.err('no ContainerVersions found\n');
      else io.out(statusTable(sorted));
    },
  );

  const history = withAccessOptions(
    new Command('history')
      .description(
        "a ContainerVersion's rollouts, newest first (its <cv>-history ConfigMap); -o json",
      )
      .argument('<namespace/cv>', 'the ContainerVersion')
      .addOption(
        new Option('-o, --output <format>', 'table or json')
          .choices(['table', 'json'])
          .default('table'),
      ),
  ).action(async (ref: string, options: AccessOptions & { output: string }) => {
    const key = parseCvRef(ref);
    const access = accessFor(options, io);
    const entries = await guarded(async () => {
      if (!(await access.get(key))) throw new CliExit(ExitCode.Usage, `no ContainerVersion ${ref}`);
      return access.history(key);
    });
    if (options.output === 'json') io.out(`${JSON.stringify(entries, null, 2)}\n`);
    else if (entries.length === 0) io.err(`no history for ${ref}\n`);
    else io.out(historyTable(entries));
  });

  const rollback = actionCommand(
    io,
    'rollback',
    'roll back to a version from the history (default: the newest Succeeded one not running now); the digest running now is marked failed',
    async (access, key, ref, options) => {
      const to = typeof options.to === 'string' ? options.to : undefined;
      if (to?.startsWith('sha256:')) parseDigest(to, '--to');
      const cv = await access.get(key);
      if (!cv) throw new CliExit(ExitCode.Usage, `no ContainerVersion ${ref}`);
      const entry = rollbackTarget(await access.history(key), cv.status?.currentDigest, to, ref);
      const made = await access.rollback(key, entry.digest, options.force === true);
      return {
        ...made,
        message: `rollback to ${entry.version} (${entry.digest}): ${made.message}`,
      };
    },
    (c) =>
      c
        .option('--to <version>', 'the version (or sha256: digest) to roll back to')
        .option('--force', 'even when that digest failed before (it is in status.failedDigests)'),
  );

  const rollout = new Command('rollout').description(
    'act on the rollout in flight: promote (skip the remaining steps), resume (past this pause), abort (roll back now), retry (the last, failed one)',
  );
  rollout.addCommand(
    requestCommand(io, 'promote', 'promote', 'skip the remaining steps (BlueGreen: switch now)'),
  );
  rollout.addCommand(requestCommand(io, 'resume', 'resume', 'go on past the current pause'));
  rollout.addCommand(requestCommand(io, 'abort', 'abort', 'roll back the rollout in flight now'));
  rollout.addCommand(
    requestCommand(io, 'retry', 'retry', 'roll out the last, failed digest again'),
  );

  const suspendCommand = (name: 'suspend' | 'resume', suspend: boolean, description: string) =>
    withAccessOptions(
      new Command(name).description(description).argument('<namespace/cv>', 'the ContainerVersion'),
    ).action(async (ref: string, options: AccessOptions) => {
      const key = parseCvRef(ref);
      const access = accessFor(options, io);
      const made = await guarded(() => access.setSuspend(key, suspend));
      io.out(`${ref}: ${made.message}\n`);
    });

  return [
    status,
    history,
    rollback,
    requestCommand(io, 'sync', 'sync', 'check the registry now, as a poll would'),
    suspendCommand('suspend', true, 'stop all rollouts of a ContainerVersion (spec.suspend: true)'),
    suspendCommand(
      'resume',
      false,
      'let a suspended ContainerVersion roll out again (spec.suspend: false)',
    ),
    rollout,
  ];
}
