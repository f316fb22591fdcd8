import type {
  ContainerVersionSpec,
  RolloutPhase,
  RolloutState,
} from '../../api/container-version.js';
import type { RolloutAction, RolloutFacts } from '../rollout-facts.js';

/**
 * One way of moving a new version onto the workloads (Rolling now; BlueGreen and Canary are
 * entries of the same table). A strategy is pure: from the facts and the rollout's persisted
 * state it names the next action; the runner carries it out and asks again.
 */
export interface RolloutStrategy {
  /** Steps people see as "step n of N" for this spec. */
  steps(spec: ContainerVersionSpec): number;
  /** The phase a rollout starts in once its image passed the checks. */
  firstPhase(spec: ContainerVersionSpec, heal: boolean): RolloutPhase;
  /** The next action of a rollout in flight (any phase but Recording, which the engine owns). */
  next(facts: RolloutFacts, rollout: RolloutState): RolloutAction;
}
