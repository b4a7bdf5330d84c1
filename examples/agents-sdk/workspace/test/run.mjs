// run.mjs - runs every test/*.test.mjs in name order and prints one
// line per test, without timings, so that the same code prints the same
// bytes. Exits 1 when a test fails.
import { readdirSync } from 'node:fs';

const dir = new URL('.', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort();
let n = 0;
let failed = 0;
for (const file of files) {
  const { tests } = await import(new URL(file, dir));
  for (const [name, fn] of Object.entries(tests)) {
    n++;
    try {
      await fn();
      console.log(`ok ${n} - ${name}`);
    } catch (e) {
      failed++;
      console.log(`not ok ${n} - ${name}: ${e.message.split('\n')[0]}`);
    }
  }
}
console.log(`${n - failed} of ${n} passed`);
process.exitCode = failed > 0 ? 1 : 0;
