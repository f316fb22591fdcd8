import { describe, expect, it } from 'vitest';
import {
  LabelSelectorError,
  labelSelectorToString,
  matchesLabelSelector,
  parseLabelSelector,
} from './label-selector.js';

const labels = { app: 'web', tier: 'front', 'cvm.dev/managed': 'true' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=api', false],
    ['app!=api', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['tier in (front,back)', true],
    ['tier in (back)', false],
    ['tier notin (back, db)', true],
    ['tier notin (front)', false],
    ['missing notin (front)', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['cvm.dev/managed=true', true],
    ['app=web,tier in (front),!canary', true],
    ['app=web, tier=back', false],
    [' app = web ', true],
    ['app=', false],
  ])('%j matches: %s', (selector, expected) => {
    expect(matchesLabelSelector(selector, labels)).toBe(expected);
  });

  it('an empty value selects objects whose label is empty', () => {
    expect(matchesLabelSelector('app=', { app: '' })).toBe(true);
  });

  it.each(['app=web,', 'app in (a', '=web', 'a b', 'app=we b', '-bad=x'])(
    '%j is rejected',
    (selector) => {
      expect(() => parseLabelSelector(selector)).toThrow(LabelSelectorError);
    },
  );

  it('object selectors print like kubectl', () => {
    expect(
      labelSelectorToString({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,tier in (a,b),!canary');
  });
});
