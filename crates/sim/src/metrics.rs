//! Counters, per-second series and the amplification window.
//!
//! Everything here is bounded: totals are fixed-size counters, and series
//! keep a fixed number of one-second buckets, so a long run uses the same
//! memory as a short one.

use std::collections::VecDeque;

use crate::time::{Micros, SECOND};

/// What happened at one service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceCounters {
    /// Tries that reached the service (first tries and retries alike).
    pub attempts: u64,
    /// Tries the service answered with success.
    pub successes: u64,
    /// Tries the service answered with an error (its own, or a failed call).
    pub errors: u64,
    /// Tries whose caller stopped waiting before the answer came.
    pub timeouts: u64,
    /// Tries turned away at once because the queue was full.
    pub rejections: u64,
}

/// How client requests ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCounters {
    /// Requests sent.
    pub requests: u64,
    pub successes: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub rejections: u64,
}

impl ClientCounters {
    /// Requests that have ended, whatever the outcome.
    pub fn finished(&self) -> u64 {
        self.successes + self.errors + self.timeouts + self.rejections
    }
}

/// The counters of a whole run or of one second of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub client: ClientCounters,
    /// One entry per service, in scenario order.
    pub services: Vec<ServiceCounters>,
}

impl Counters {
    pub(crate) fn new(services: usize) -> Self {
        Counters {
            client: ClientCounters::default(),
            services: vec![ServiceCounters::default(); services],
        }
    }

    fn add(&mut self, other: &Counters) {
        let c = &mut self.client;
        c.requests += other.client.requests;
        c.successes += other.client.successes;
        c.errors += other.client.errors;
        c.timeouts += other.client.timeouts;
        c.rejections += other.client.rejections;
        for (s, o) in self.services.iter_mut().zip(&other.services) {
            s.attempts += o.attempts;
            s.successes += o.successes;
            s.errors += o.errors;
            s.timeouts += o.timeouts;
            s.rejections += o.rejections;
        }
    }
}

/// Consecutive one-second buckets, the oldest dropped past a fixed count.
#[derive(Clone, Debug)]
pub struct Seconds<T> {
    /// The second the front bucket covers.
    first: u64,
    buckets: VecDeque<T>,
    keep: usize,
}

impl<T: Clone> Seconds<T> {
    pub fn new(keep: usize) -> Self {
        Seconds {
            first: 0,
            buckets: VecDeque::new(),
            keep: keep.max(1),
        }
    }

    /// The bucket of second `sec`, created (with `empty`, as are the seconds
    /// skipped on the way) if it is new. Seconds only move forward.
    pub fn at(&mut self, sec: u64, empty: &T) -> &mut T {
        if self.buckets.is_empty() {
            self.first = sec;
        }
        while self.first + (self.buckets.len() as u64) <= sec {
            self.buckets.push_back(empty.clone());
        }
        while self.buckets.len() > self.keep {
            self.buckets.pop_front();
            self.first += 1;
        }
        let index = sec.saturating_sub(self.first) as usize;
        let last = self.buckets.len() - 1;
        &mut self.buckets[index.min(last)]
    }

    /// Buckets of the seconds in [from, to), oldest first, skipping the
    /// seconds no bucket covers.
    pub fn range(&self, from: u64, to: u64) -> impl Iterator<Item = (u64, &T)> {
        self.buckets
            .iter()
            .enumerate()
            .map(move |(i, b)| (self.first + i as u64, b))
            .filter(move |(s, _)| *s >= from && *s < to)
    }

    pub fn clear(&mut self) {
        self.buckets.clear();
    }
}

/// How many past seconds the live series keep.
pub const SERIES_SECONDS: usize = 600;

/// Seconds over which live rates are averaged.
pub const RATE_SECONDS: u64 = 5;

/// Seconds of settled requests over which amplification is measured.
pub const AMPLIFICATION_SECONDS: u64 = 10;

/// Attempts caused by client requests that have settled: ended, with all
/// the work they set off (retries below, orphaned work) done too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    pub requests: u64,
    /// Attempts at each service caused by those requests.
    pub attempts: Vec<u64>,
}

/// Totals, per-second series and the amplification window of a run.
#[derive(Clone, Debug)]
pub struct Metrics {
    totals: Counters,
    series: Seconds<Counters>,
    empty: Counters,
    settled: Seconds<Settled>,
    empty_settled: Settled,
}

impl Metrics {
    pub(crate) fn new(services: usize) -> Self {
        Metrics {
            totals: Counters::new(services),
            series: Seconds::new(SERIES_SECONDS),
            empty: Counters::new(services),
            settled: Seconds::new(AMPLIFICATION_SECONDS as usize + 1),
            empty_settled: Settled {
                requests: 0,
                attempts: vec![0; services],
            },
        }
    }

    /// Counts an event at `now` in the totals and in the series.
    pub(crate) fn record(&mut self, now: Micros, count: impl Fn(&mut Counters)) {
        count(&mut self.totals);
        count(self.series.at(now / SECOND, &self.empty));
    }

    pub(crate) fn record_settled(&mut self, now: Micros, attempts: &[u32]) {
        let bucket = self.settled.at(now / SECOND, &self.empty_settled);
        bucket.requests += 1;
        for (sum, &a) in bucket.attempts.iter_mut().zip(attempts) {
            *sum += a as u64;
        }
    }

    /// Forgets the settled requests so far: a parameter changed, and what
    /// was measured before no longer describes the running system.
    pub(crate) fn restart_amplification(&mut self) {
        self.settled.clear();
    }

    /// Totals since the start of the run.
    pub fn totals(&self) -> &Counters {
        &self.totals
    }

    /// The per-second series: bucket `s` counts what happened in the
    /// simulated second [s, s+1).
    pub fn series(&self) -> &Seconds<Counters> {
        &self.series
    }

    /// Mean counts per second over the last [`RATE_SECONDS`] complete
    /// seconds before `now` (fewer at the start of a run).
    pub fn recent_rates(&self, now: Micros) -> (Counters, f64) {
        let to = now / SECOND;
        let from = to.saturating_sub(RATE_SECONDS);
        let mut sum = self.empty.clone();
        for (_, bucket) in self.series.range(from, to) {
            sum.add(bucket);
        }
        (sum, (to - from) as f64)
    }

    /// Requests settled in the last [`AMPLIFICATION_SECONDS`] seconds (since
    /// the last parameter change at most) and the attempts they caused.
    pub fn recent_settled(&self, now: Micros) -> Settled {
        let to = now / SECOND + 1;
        let from = to.saturating_sub(AMPLIFICATION_SECONDS);
        let mut sum = self.empty_settled.clone();
        for (_, b) in self.settled.range(from, to) {
            sum.requests += b.requests;
            for (s, a) in sum.attempts.iter_mut().zip(&b.attempts) {
                *s += a;
            }
        }
        sum
    }
}

impl Counters {
    /// A 64-bit FNV-1a digest of every counter: two runs agree on it exactly
    /// when they agree on every count, which makes it a compact check that a
    /// run is the same on another platform.
    pub fn digest(&self) -> u64 {
        let c = &self.client;
        let mut values = vec![c.requests, c.successes, c.errors, c.timeouts, c.rejections];
        for s in &self.services {
            values.extend([s.attempts, s.successes, s.errors, s.timeouts, s.rejections]);
        }
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in values.iter().flat_map(|v| v.to_le_bytes()) {
            hash ^= byte as u64;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash
    }
}
