import type { StrategyType } from '../../api/container-version.js';
import { blueGreenStrategy } from './blue-green.js';
import { canaryStrategy } from './canary.js';
import { rollingStrategy } from './rolling.js';
import type { RolloutStrategy } from './strategy.js';

/** The strategies this version of cvm runs, by `spec.strategy.type`. */
export const STRATEGIES: Partial<Record<StrategyType, RolloutStrategy>> = {
  Rolling: rollingStrategy,
  BlueGreen: blueGreenStrategy,
  Canary: canaryStrategy,
};
