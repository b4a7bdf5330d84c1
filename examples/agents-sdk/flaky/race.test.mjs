// race.test.mjs - a flaky test, for the replay example: it fails with
// probability 1/2. The seed comes from FLAKY_SEED when set, so that one
// outcome can be reproduced, and from the kernel's random source
// otherwise, so that each run draws anew.
import { randomBytes } from 'node:crypto';

// mulberry32: a small seeded generator of numbers in [0, 1).
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seed = process.env.FLAKY_SEED !== undefined ?
  Number(process.env.FLAKY_SEED) >>> 0 : randomBytes(4).readUInt32LE(0);

export const tests = {
  'the cache is warm before the first read': () => {
    if (mulberry32(seed)() < 0.5)
      throw new Error('the first read missed the cache');
  },
};
