import assert from 'node:assert/strict';
import { mean, median } from '../src/stats.mjs';

export const tests = {
  'mean of three numbers': () => assert.equal(mean([1, 2, 6]), 3),
  'median of an odd count': () => assert.equal(median([5, 1, 3]), 3),
  'median of an even count': () => assert.equal(median([4, 1, 3, 2]), 2.5),
  'median of an empty list throws': () =>
    assert.throws(() => median([]), RangeError),
};
