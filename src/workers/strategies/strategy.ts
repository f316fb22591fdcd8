import type {
  ContainerVersionSpec,
  RolloutPhase,
  RolloutState,
  StepRequest,
} from '../../api/container-version.js';
import type { ObjectKey, Workload } from '../ports.js';
import type { RolloutAction, RolloutFacts, RolloutTransition } from '../rollout-facts.js';

/** What a strategy makes of a request (promote, resume, abort): the transition, or why not. */
export type RequestOutcome = { to: RolloutTransition; message: string } | { refused: string };

/**
 * One way of moving a new version onto the workloads (Rolling, BlueGreen, Canary: entries of
 * one table). A strategy is pure: from the facts and the rollout's persisted state it names the
 * next action; the runner carries it out and asks again.
 */
export interface RolloutStrategy {
  /** Steps people see as "step n of N" for this spec. */
  steps(spec: ContainerVersionSpec): number;
  /** The phase a rollout starts in once its image passed the checks. */
  firstPhase(spec: ContainerVersionSpec, heal: boolean): RolloutPhase;
  /** The Services `resolve` reads for this strategy (BlueGreen's active and preview Services). */
  services?(spec: ContainerVersionSpec, namespace: string): ObjectKey[];
  /**
   * Before a rollout starts, from the resolved facts: what the strategy cannot run on (an
   * InvalidSpec message naming the field), or the state its rollout starts with.
   */
  prepare?(facts: RolloutFacts): { invalid: string } | { state: Partial<RolloutState> };
  /**
   * The selected workloads that must run the CV's current digest (drift is judged on them):
   * BlueGreen's live colour, Canary's stable workload. Default: all of them.
   */
  tracked?(facts: RolloutFacts): readonly Workload[] | undefined;
  /** The next action of a rollout in flight (any phase but Recording, which the engine owns). */
  next(facts: RolloutFacts, rollout: RolloutState): RolloutAction;
  /** A person's request on the rollout in flight (`retry`, `sync` and rollbacks are the engine's). */
  request(facts: RolloutFacts, rollout: RolloutState, action: StepRequest): RequestOutcome;
}
