import { attemptScenarios } from './attempt-scenarios.js';
import { drainScenarios } from './drain-scenarios.js';
import { failoverScenarios, laterScenarios } from './failover-scenarios.js';
import type { Scenario } from './scenario.js';
import { recoveryScenarios } from './recovery-scenarios.js';
import { streamScenarios } from './stream-scenarios.js';
import { throttlingScenarios } from './throttling-scenarios.js';

/** Every fault scenario, in the order of the scorecard (`docs/resilience.md`, "Fault suite scorecard"). */
export const scenarios: readonly Scenario[] = [
  ...throttlingScenarios,
  ...failoverScenarios,
  ...streamScenarios,
  ...laterScenarios,
  ...attemptScenarios,
  ...recoveryScenarios,
  ...drainScenarios,
];
