// stats.mjs - summary statistics of a list of numbers.

export function mean(xs) {
  if (xs.length === 0)
    throw new RangeError('mean of an empty list');
  return xs.reduce((sum, x) => sum + x, 0) / xs.length;
}

export function median(xs) {
  if (xs.length === 0)
    throw new RangeError('median of an empty list');
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted[mid];
}
