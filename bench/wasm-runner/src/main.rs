//! The native half of the wasm comparison: the same model, the same build
//! profile and the same protocol as `run.js` follows under Node.
//!
//! `native-runner [SECONDS] [REPEATS]`: one warm-up run, then REPEATS runs
//! of SECONDS simulated seconds each. Prints one line of JSON with the
//! fastest run by wall-clock time and the fastest by CPU time (on a busy
//! machine other work only ever slows a run down, and CPU time is the less
//! disturbed of the two), and the client's totals, to set beside the SimPy
//! model's.

use std::time::Instant;

use brownout_wasm_runner::simulate;

/// CPU time used by this process so far, in seconds.
#[cfg(unix)]
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Without a CPU clock, wall-clock time stands in.
#[cfg(not(unix))]
fn cpu_seconds() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u32>());
    let seconds = args.next().map_or(Ok(30), |a| a).expect("SECONDS: a whole number");
    let repeats = args.next().map_or(Ok(5), |a| a).expect("REPEATS: a whole number").max(1);

    simulate(seconds);
    let (mut wall, mut cpu) = (f64::INFINITY, f64::INFINITY);
    let mut sim = None;
    for _ in 0..repeats {
        let (start, start_cpu) = (Instant::now(), cpu_seconds());
        let run = simulate(seconds);
        wall = wall.min(start.elapsed().as_secs_f64());
        cpu = cpu.min(cpu_seconds() - start_cpu);
        sim = Some(run);
    }
    let sim = sim.expect("at least one run");
    let t = sim.metrics().totals();
    let c = &t.client;
    let tries: u64 = t.edges.iter().map(|e| e.tries).sum();
    let retries: u64 = t.edges.iter().map(|e| e.retries).sum();
    println!(
        "{{\"runner\":\"native\",\"sim_seconds\":{seconds},\"events\":{},\
         \"wall_s\":{wall:.6},\"cpu_s\":{cpu:.6},\"requests\":{},\"successes\":{},\
         \"errors\":{},\"timeouts\":{},\"rejections\":{},\"tries\":{tries},\
         \"retries\":{retries}}}",
        sim.events_processed(),
        c.requests,
        c.successes,
        c.errors,
        c.timeouts,
        c.rejections,
    );
}
