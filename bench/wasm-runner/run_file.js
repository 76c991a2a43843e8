// Runs one scenario file in the wasm build of the engine under Node and
// prints one line of JSON: simulated seconds, engine events, wall-clock
// and CPU seconds, and the wasm module's linear memory before and after.
//
// node run_file.js PKG_DIR FILE SECONDS
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const [pkgDir, file, secondsArg] = process.argv.slice(2);
if (!pkgDir || !file || !secondsArg) {
  console.error('usage: node run_file.js PKG_DIR FILE SECONDS');
  process.exit(2);
}
const seconds = Number.parseInt(secondsArg, 10);
const { run_toml, memory_bytes } = require(path.resolve(pkgDir, 'brownout_wasm_runner.js'));
const text = fs.readFileSync(file, 'utf8');

const memoryBefore = memory_bytes();
const startCpu = process.cpuUsage();
const start = performance.now();
const events = run_toml(text, seconds);
const wall = (performance.now() - start) / 1e3;
const used = process.cpuUsage(startCpu);
if (Number.isNaN(events)) {
  process.exit(1);
}
console.log(JSON.stringify({
  runner: 'wasm',
  file,
  sim_seconds: seconds,
  events,
  wall_s: Number(wall.toFixed(3)),
  cpu_s: Number(((used.user + used.system) / 1e6).toFixed(3)),
  wasm_memory_before_mb: Number((memoryBefore / 1048576).toFixed(1)),
  wasm_memory_after_mb: Number((memory_bytes() / 1048576).toFixed(1)),
}));
