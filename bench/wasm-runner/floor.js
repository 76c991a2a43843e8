// The floor under the engine's design, in wasm under Node: EVENTS events
// through a binary heap of PENDING entries, a third of them with an
// exponential draw (see `floor` in src/lib.rs). Prints one line of JSON.
//
// node floor.js PKG_DIR [EVENTS] [PENDING]
//
// EVENTS defaults to what one simulated hour of bench/five-services.toml
// handles (58,259,487); bench/fast_forward.sh passes the count its own run
// of the hour printed.
'use strict';
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const [pkgDir, eventsArg = '58259487', pendingArg = '50'] = process.argv.slice(2);
if (!pkgDir) {
  console.error('usage: node floor.js PKG_DIR [EVENTS] [PENDING]');
  process.exit(2);
}
const events = Number.parseInt(eventsArg, 10);
const pending = Number.parseInt(pendingArg, 10);
if (!(events > 0) || !(pending > 0) || events > 4294967295) {
  console.error(`EVENTS and PENDING must be whole numbers from 1 (EVENTS to 2^32 - 1), not ${eventsArg} and ${pendingArg}`);
  process.exit(2);
}
const { floor } = require(path.resolve(pkgDir, 'brownout_wasm_runner.js'));

floor(1000000, pending);
const startCpu = process.cpuUsage();
const start = performance.now();
const checksum = floor(events, pending);
const wall = (performance.now() - start) / 1e3;
const used = process.cpuUsage(startCpu);
console.log(JSON.stringify({
  runner: 'wasm floor',
  events,
  pending,
  wall_s: Number(wall.toFixed(3)),
  cpu_s: Number(((used.user + used.system) / 1e6).toFixed(3)),
  ns_per_event: Number((wall * 1e9 / events).toFixed(1)),
  checksum,
}));
