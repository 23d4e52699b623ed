import { describe, expect, it } from 'vitest';
import { niceTicks } from '../../replay/report/svg-chart.js';

describe('niceTicks', () => {
  it('gives 1-2-5 steps that print as people write them (no 0.6000000000000001)', () => {
    expect(niceTicks(0, 1, 8)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 0.7, 7).map(String)).toEqual(['0', '0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7']);
    expect(niceTicks(0, 12_000, 5)).toEqual([0, 5000, 10000]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});
