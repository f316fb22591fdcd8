import { describe, expect, it } from 'vitest';
import { ConditionType, Reason, conditionChanged, setCondition } from '../../src/api/conditions.js';

const t0 = new Date('2026-11-27T10:00:00.123Z');
const t1 = new Date('2026-11-27T10:05:00Z');

describe('setCondition', () => {
  it('adds a missing condition with the time of the change, in whole seconds', () => {
    expect(
      setCondition(
        undefined,
        { type: ConditionType.Ready, status: 'True', reason: Reason.RolloutSucceeded },
        t0,
      ),
    ).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'RolloutSucceeded',
        message: '',
        lastTransitionTime: '2026-11-27T10:00:00Z',
      },
    ]);
  });

  it('keeps lastTransitionTime when only the reason or message changes', () => {
    const before = setCondition(
      [],
      { type: ConditionType.Ready, status: 'False', reason: Reason.RolloutStarted },
      t0,
    );
    const after = setCondition(
      before,
      {
        type: ConditionType.Ready,
        status: 'False',
        reason: Reason.RolloutFailed,
        message: 'deadline',
        observedGeneration: 2,
      },
      t1,
    );
    expect(after).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'RolloutFailed',
        message: 'deadline',
        lastTransitionTime: '2026-11-27T10:00:00Z',
        observedGeneration: 2,
      },
    ]);
  });

  it('moves lastTransitionTime when the status flips, keeps order and does not modify its input', () => {
    const before = [
      ...setCondition(
        [],
        { type: ConditionType.Ready, status: 'False', reason: Reason.RolloutStarted },
        t0,
      ),
      ...setCondition(
        [],
        { type: ConditionType.Progressing, status: 'True', reason: Reason.RolloutStarted },
        t0,
      ),
    ];
    const frozen = structuredClone(before);
    const after = setCondition(
      before,
      { type: ConditionType.Ready, status: 'True', reason: Reason.RolloutSucceeded },
      t1,
    );
    expect(after.map((c) => [c.type, c.lastTransitionTime])).toEqual([
      ['Ready', '2026-11-27T10:05:00Z'],
      ['Progressing', '2026-11-27T10:00:00Z'],
    ]);
    expect(before).toEqual(frozen);
  });

  it('conditionChanged is false for the same status, reason and message', () => {
    const list = setCondition(
      [],
      { type: ConditionType.Degraded, status: 'True', reason: Reason.InvalidSpec, message: 'm' },
      t0,
    );
    expect(
      conditionChanged(list, {
        type: ConditionType.Degraded,
        status: 'True',
        reason: Reason.InvalidSpec,
        message: 'm',
      }),
    ).toBe(false);
    expect(
      conditionChanged(list, {
        type: ConditionType.Degraded,
        status: 'True',
        reason: Reason.InvalidSpec,
        message: 'n',
      }),
    ).toBe(true);
    expect(
      conditionChanged(list, { type: ConditionType.Ready, status: 'True', reason: Reason.Synced }),
    ).toBe(true);
  });
});
