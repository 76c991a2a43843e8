// The wasm half of the comparison: loads the wasm-bindgen package for Node
// and runs the benchmark model with the same protocol as the native runner
// (src/main.rs): one warm-up run (which also lets V8 tier the hot code up),
// then REPEATS timed runs. Prints one line of JSON with the fastest run by
// wall-clock time (performance.now()) and by the process's CPU time
// (process.cpuUsage(), user + system).
//
// node run.js PKG_DIR [SECONDS] [REPEATS]
'use strict';
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const [pkgDir, secondsArg = '30', repeatsArg = '5'] = process.argv.slice(2);
if (!pkgDir) {
  console.error('usage: node run.js PKG_DIR [SECONDS] [REPEATS]');
  process.exit(2);
}
const seconds = Number.parseInt(secondsArg, 10);
const repeats = Math.max(1, Number.parseInt(repeatsArg, 10));
const { run } = require(path.resolve(pkgDir, 'brownout_wasm_runner.js'));

run(seconds);
let events = 0;
let wall = Infinity;
let cpu = Infinity;
for (let i = 0; i < repeats; i++) {
  const startCpu = process.cpuUsage();
  const start = performance.now();
  events = run(seconds);
  wall = Math.min(wall, (performance.now() - start) / 1e3);
  const used = process.cpuUsage(startCpu);
  cpu = Math.min(cpu, (used.user + used.system) / 1e6);
}
console.log(JSON.stringify({
  runner: 'wasm',
  node: process.version,
  sim_seconds: seconds,
  events,
  wall_s: Number(wall.toFixed(6)),
  cpu_s: Number(cpu.toFixed(6)),
}));
