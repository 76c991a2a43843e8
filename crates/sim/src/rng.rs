//! Seeded random streams.
//!
//! Every source of randomness in a run (arrivals, each service's service
//! times, each service's errors) draws from a stream of its own, derived from
//! the scenario seed and a fixed stream number. Changing one slider therefore
//! changes only the draws of the stream it touches: raising one service's
//! error rate does not reshuffle another service's service times.
//!
//! The samplers are inverse transforms computed with `libm`, not the
//! platform's `ln`/`exp`: the standard library calls the C library on native
//! targets and a different implementation on wasm, and a difference in the
//! last bit of one draw would make a run in the browser diverge from the same
//! run on the command line.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// One independent stream of random numbers.
#[derive(Clone, Debug)]
pub struct Stream(Pcg64Mcg);

impl Stream {
    /// The stream numbered `stream` of the run seeded with `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        // SplitMix64 finaliser: neighbouring (seed, stream) pairs give
        // unrelated generator states.
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Stream(Pcg64Mcg::seed_from_u64(z))
    }

    /// A uniform draw in [0, 1), with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (p ≤ 0 never, p ≥ 1 always).
    pub fn chance(&mut self, p: f64) -> bool {
        // Draw even when the answer is certain, so that the stream advances
        // by one draw per decision whatever the probability: moving a slider
        // from 100 % to 99 % then changes only the decisions it should.
        let u = self.uniform();
        u < p
    }

    /// An exponential draw with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        // 1 − u lies in (0, 1], so the logarithm is finite.
        -mean * libm::log(1.0 - self.uniform())
    }

    /// A standard normal draw (Box–Muller, one of the pair).
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
    }

    /// A log-normal draw whose median is `median` and whose underlying normal
    /// has standard deviation `sigma`.
    pub fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * libm::exp(sigma * self.standard_normal())
    }
}

/// Stream numbers. Per-service streams are spaced so that services never
/// share one.
pub(crate) mod streams {
    pub const ARRIVALS: u64 = 1;
    /// Backoff jitter, for every edge.
    pub const JITTER: u64 = 2;
    /// Chaos faults: dropped messages, injected errors, brownouts.
    pub const CHAOS: u64 = 3;
    pub fn service_time(service: usize) -> u64 {
        1_000 + 2 * service as u64
    }
    pub fn errors(service: usize) -> u64 {
        1_001 + 2 * service as u64
    }
}
