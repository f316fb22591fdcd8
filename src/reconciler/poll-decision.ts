/**
 * Which `repo:tag`s to poll (DESIGN §5): pure functions of the ContainerVersions and of when each
 * target last heard from its registry. The clock is a parameter.
 */

/** What the poller needs of a ContainerVersion. */
export interface PollableCv {
  namespace: string;
  name: string;
  uid: string;
  registry: string;
  repository: string;
  tag: string;
  pollIntervalSeconds: number;
  suspend: boolean;
  currentDigest: string | undefined;
  /**
   * Whether the CV is settled: its generation observed (status written for it) and no rollout in
   * flight. `false`: its sync job (the CV controller) or its rollout's own job resolves the tag,
   * and the rollout nudger makes sure a rollout in flight has a job, so a leader's sweep need not
   * poll it. Default true.
   */
  settled?: boolean;
}

/** One `registry/repository:tag` and the CVs that follow it. */
export interface PollTarget {
  key: string;
  registry: string;
  repository: string;
  tag: string;
  /** The smallest positive `pollIntervalSeconds` of the CVs that follow it; 0 when all are push only. */
  intervalSeconds: number;
  cvs: PollableCv[];
}

export const targetKey = (registry: string, repository: string, tag: string) =>
  `${registry}/${repository}:${tag}`;

/**
 * Groups CVs by the `repo:tag` they follow. Suspended CVs and `pollIntervalSeconds: 0` (push only)
 * do not make a target poll; a target exists while one CV wants polling. With `includePushOnly`
 * (a recovery check of every CV), push-only CVs are grouped too; a target that only they follow
 * has `intervalSeconds` 0 and is never due by {@link pollDecision}.
 */
export function pollTargets(
  cvs: readonly PollableCv[],
  options: { includePushOnly?: boolean } = {},
): PollTarget[] {
  const targets = new Map<string, PollTarget>();
  for (const cv of cvs) {
    if (cv.suspend || (cv.pollIntervalSeconds <= 0 && !options.includePushOnly)) continue;
    const key = targetKey(cv.registry, cv.repository, cv.tag);
    const target = targets.get(key);
    if (target) {
      target.intervalSeconds = smallestPositive(target.intervalSeconds, cv.pollIntervalSeconds);
      target.cvs.push(cv);
    } else {
      targets.set(key, {
        key,
        registry: cv.registry,
        repository: cv.repository,
        tag: cv.tag,
        intervalSeconds: Math.max(cv.pollIntervalSeconds, 0),
        cvs: [cv],
      });
    }
  }
  return [...targets.values()];
}

const smallestPositive = (a: number, b: number) =>
  a <= 0 ? Math.max(b, 0) : b <= 0 ? a : Math.min(a, b);

/** What every replica knows of a target, from Redis. Times in ms since the epoch. */
export interface PollState {
  lastEventAtMs?: number;
  lastPollAtMs?: number;
}

/**
 * A target is due when neither a push event nor a poll touched it within its interval, and its
 * registry is not backing off. `jitter` in [0, 1) spreads targets over up to a tenth of the
 * interval, so CVs created together do not poll together.
 */
export function pollDecision(
  target: Pick<PollTarget, 'intervalSeconds'>,
  state: PollState,
  nowMs: number,
  options: { jitter?: number; backoffUntilMs?: number } = {},
): { due: boolean; dueAtMs: number } {
  const intervalMs = target.intervalSeconds * 1000;
  const lastTouch = Math.max(state.lastEventAtMs ?? 0, state.lastPollAtMs ?? 0);
  const dueAtMs = Math.max(
    lastTouch + intervalMs + Math.floor((options.jitter ?? 0) * intervalMs * 0.1),
    options.backoffUntilMs ?? 0,
  );
  return { due: nowMs >= dueAtMs, dueAtMs };
}

/** The CVs of a target that do not run `digest` yet: a poll that finds it enqueues their rollouts. */
export function cvsBehind(target: PollTarget, digest: string): PollableCv[] {
  return target.cvs.filter((cv) => cv.currentDigest !== digest);
}
