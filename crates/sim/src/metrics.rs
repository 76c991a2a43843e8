//! Counters, latency histograms, per-second series, policy events and the
//! amplification window.
//!
//! Everything here is bounded: totals are fixed-size counters and
//! histograms, series keep a fixed number of one-second buckets, and the
//! event log keeps the most recent events only. A 24-hour run uses the same
//! memory as a one-minute run; a caller that wants every second (the
//! runner) reads each one as the run passes it.

use std::collections::VecDeque;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::policy::breaker::BreakerState;
use crate::scenario::FailureKind;
use crate::time::{Micros, SECOND};

/// Why a service turned a try away without serving it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShedCause {
    /// Every worker busy and the queue full.
    QueueFull,
    /// It waited in the queue longer than the service's shedding limit.
    QueueTime,
    /// Its caller's propagated deadline had passed.
    Deadline,
    /// The instance it was routed to is down.
    InstanceDown,
}

/// Tries a service turned away, by cause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rejections {
    pub queue_full: u64,
    pub queue_time: u64,
    pub deadline: u64,
    pub instance_down: u64,
}

impl Rejections {
    pub fn total(&self) -> u64 {
        self.queue_full + self.queue_time + self.deadline + self.instance_down
    }

    pub(crate) fn add(&mut self, cause: ShedCause) {
        match cause {
            ShedCause::QueueFull => self.queue_full += 1,
            ShedCause::QueueTime => self.queue_time += 1,
            ShedCause::Deadline => self.deadline += 1,
            ShedCause::InstanceDown => self.instance_down += 1,
        }
    }
}

/// What happened at one service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServiceCounters {
    /// Tries that reached the service (first tries and retries alike).
    pub attempts: u64,
    /// Tries the service answered with success (full or degraded).
    pub successes: u64,
    /// Of those, answers with parts served by fallbacks.
    pub degraded: u64,
    /// Tries the service answered with an error (its own, or a failed call).
    pub errors: u64,
    /// Tries whose caller stopped waiting before the answer came.
    pub timeouts: u64,
    /// Tries turned away, by cause.
    pub rejections: Rejections,
    /// Tries served although their caller had given up: wasted work.
    pub orphaned: u64,
    /// Tries whose work was stopped because the caller cancelled it.
    pub cancelled: u64,
    /// Tries lost with the instance that held them (a chaos kill).
    pub lost: u64,
    /// Repeated successful executions of a non-idempotent call, caused by
    /// retries: duplicate side effects.
    pub duplicate_side_effects: u64,
    /// Tries that got a worker, and their total wait in the queue.
    pub started: u64,
    pub queue_wait_us: u64,
    /// Worker-microseconds spent busy, summed over workers and instances.
    pub busy_us: u64,
    /// Request-microseconds spent waiting in queues: the time integral of
    /// the queue length, for Little's law.
    pub queued_us: u64,
    /// Worker-microseconds offered by the serving instances: utilisation is
    /// busy_us / capacity_us, exact even as instances come and go.
    pub capacity_us: u64,
}

/// How client requests ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClientCounters {
    /// Requests sent.
    pub requests: u64,
    /// Full answers.
    pub successes: u64,
    /// Valid answers with parts served by fallbacks.
    pub degraded: u64,
    pub errors: u64,
    pub timeouts: u64,
    /// Turned away by the entry service.
    pub rejections: u64,
    /// Refused by the client's own circuit breaker.
    pub short_circuited: u64,
    /// Refused by the client's own bulkhead.
    pub bulkhead_full: u64,
}

impl ClientCounters {
    /// Requests that have ended, whatever the outcome.
    pub fn finished(&self) -> u64 {
        self.answered() + self.failed()
    }

    /// Requests answered validly: full or degraded.
    pub fn answered(&self) -> u64 {
        self.successes + self.degraded
    }

    /// Requests that failed, whatever the cause.
    pub fn failed(&self) -> u64 {
        self.errors + self.timeouts + self.rejections + self.short_circuited + self.bulkhead_full
    }
}

/// What the caller's policies did on one call edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EdgeCounters {
    /// Logical calls started (each with one or more tries).
    pub calls: u64,
    /// Tries sent: first tries and retries.
    pub tries: u64,
    pub retries: u64,
    /// Tries the caller gave up waiting for.
    pub timeouts: u64,
    /// Calls that failed after their last try.
    pub failed_calls: u64,
    /// Failed calls answered by a fallback instead.
    pub fallbacks: u64,
    /// Messages dropped on the wire (a chaos network fault).
    pub lost_messages: u64,
    /// Tries refused at the caller by its open (or full half-open) breaker.
    pub breaker_rejected: u64,
    /// Tries refused at the caller by its full bulkhead (or that waited
    /// too long for a permit).
    pub bulkhead_full: u64,
    /// Retries the retry budget refused.
    pub budget_exhausted: u64,
}

/// What the chaos experiment did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChaosCounters {
    pub faults_started: u64,
    pub faults_ended: u64,
    /// 1 in the second the steady-state hypothesis failed and the
    /// experiment was aborted.
    pub aborted: u64,
}

/// The counters of a whole run or of one second of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub client: ClientCounters,
    /// One entry per service, in scenario order.
    pub services: Vec<ServiceCounters>,
    /// One entry per call edge, in scenario order.
    pub edges: Vec<EdgeCounters>,
    pub chaos: ChaosCounters,
}

impl Counters {
    pub(crate) fn new(services: usize, edges: usize) -> Self {
        Counters {
            client: ClientCounters::default(),
            services: vec![ServiceCounters::default(); services],
            edges: vec![EdgeCounters::default(); edges],
            chaos: ChaosCounters::default(),
        }
    }

    /// Adds another set of counters of the same shape to this one.
    pub fn add(&mut self, other: &Counters) {
        self.combine(other, |a, b| *a += b);
    }

    /// Takes away another set of counters of the same shape, no larger in
    /// any field (an earlier reading of the same totals).
    pub(crate) fn subtract(&mut self, earlier: &Counters) {
        self.combine(earlier, |a, b| *a -= b);
    }

    /// Applies `op` to every counter of this set with its namesake in
    /// `other`: one list of the fields for adding and taking away alike.
    fn combine(&mut self, other: &Counters, op: impl Fn(&mut u64, u64)) {
        let (c, o) = (&mut self.client, &other.client);
        op(&mut c.requests, o.requests);
        op(&mut c.successes, o.successes);
        op(&mut c.degraded, o.degraded);
        op(&mut c.errors, o.errors);
        op(&mut c.timeouts, o.timeouts);
        op(&mut c.rejections, o.rejections);
        op(&mut c.short_circuited, o.short_circuited);
        op(&mut c.bulkhead_full, o.bulkhead_full);
        for (s, o) in self.services.iter_mut().zip(&other.services) {
            op(&mut s.attempts, o.attempts);
            op(&mut s.successes, o.successes);
            op(&mut s.degraded, o.degraded);
            op(&mut s.errors, o.errors);
            op(&mut s.timeouts, o.timeouts);
            let (r, q) = (&mut s.rejections, &o.rejections);
            op(&mut r.queue_full, q.queue_full);
            op(&mut r.queue_time, q.queue_time);
            op(&mut r.deadline, q.deadline);
            op(&mut r.instance_down, q.instance_down);
            op(&mut s.orphaned, o.orphaned);
            op(&mut s.cancelled, o.cancelled);
            op(&mut s.lost, o.lost);
            op(&mut s.duplicate_side_effects, o.duplicate_side_effects);
            op(&mut s.started, o.started);
            op(&mut s.queue_wait_us, o.queue_wait_us);
            op(&mut s.busy_us, o.busy_us);
            op(&mut s.queued_us, o.queued_us);
            op(&mut s.capacity_us, o.capacity_us);
        }
        op(&mut self.chaos.faults_started, other.chaos.faults_started);
        op(&mut self.chaos.faults_ended, other.chaos.faults_ended);
        op(&mut self.chaos.aborted, other.chaos.aborted);
        for (e, o) in self.edges.iter_mut().zip(&other.edges) {
            op(&mut e.calls, o.calls);
            op(&mut e.tries, o.tries);
            op(&mut e.retries, o.retries);
            op(&mut e.timeouts, o.timeouts);
            op(&mut e.failed_calls, o.failed_calls);
            op(&mut e.fallbacks, o.fallbacks);
            op(&mut e.lost_messages, o.lost_messages);
            op(&mut e.breaker_rejected, o.breaker_rejected);
            op(&mut e.bulkhead_full, o.bulkhead_full);
            op(&mut e.budget_exhausted, o.budget_exhausted);
        }
    }

    /// A 64-bit FNV-1a digest of every counter: two runs agree on it exactly
    /// when they agree on every count, which makes it a compact check that a
    /// run is the same on another platform.
    pub fn digest(&self) -> u64 {
        let c = &self.client;
        let mut values = vec![c.requests, c.successes, c.errors, c.timeouts, c.rejections];
        for s in &self.services {
            values.extend([s.attempts, s.successes, s.errors, s.timeouts, s.rejections.total()]);
        }
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in values.iter().flat_map(|v| v.to_le_bytes()) {
            hash ^= byte as u64;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash
    }
}

/// Latency percentiles, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// A latency histogram in microseconds, from 1 µs to a week, with two
/// significant digits (1 % resolution).
#[derive(Clone, Debug)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, 7 * 86_400 * SECOND, 2).expect("valid bounds"))
    }
}

impl Latency {
    pub fn record(&mut self, micros: Micros) {
        self.0.saturating_record(micros.max(1));
    }

    /// `None` when nothing was recorded.
    pub fn percentiles(&self) -> Option<Percentiles> {
        let h = &self.0;
        if h.is_empty() {
            return None;
        }
        let ms = |us: u64| us as f64 / 1_000.0;
        Some(Percentiles {
            count: h.len(),
            mean: h.mean() / 1_000.0,
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        })
    }

    fn reset(&mut self) {
        self.0.reset();
    }
}

/// One simulated second [s, s+1): its counts and latency percentiles.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Second {
    pub counts: Counters,
    /// Client request latency (from sending to the outcome).
    pub client_latency: Option<Percentiles>,
    /// Per service, time from a try's arrival to its answer.
    pub service_latency: Vec<Option<Percentiles>>,
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
        Seconds { first: 0, buckets: VecDeque::new(), keep: keep.max(1) }
    }

    /// The bucket of second `sec`, created (with `empty`, as are the seconds
    /// skipped on the way) if it is new. Seconds only move forward.
    pub fn at(&mut self, sec: u64, empty: &T) -> &mut T {
        // Nearly every write is to the newest bucket.
        if !self.buckets.is_empty() && self.first + self.buckets.len() as u64 - 1 == sec {
            return self.buckets.back_mut().expect("not empty");
        }
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

    /// Whether second `sec` is older than every bucket kept: writing to it
    /// would land in the wrong bucket.
    pub fn is_dropped(&self, sec: u64) -> bool {
        !self.buckets.is_empty() && sec < self.first
    }

    /// The bucket of second `sec`, if it is still kept.
    pub fn get(&self, sec: u64) -> Option<&T> {
        sec.checked_sub(self.first).and_then(|i| self.buckets.get(i as usize))
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

/// Most recent policy events kept, of each of the two kinds: decisions
/// about single calls, and changes of state.
pub const EVENTS_KEPT: usize = 10_000;

/// Attempts caused by client requests that have settled: ended, with all
/// the work they set off (retries below, orphaned work) done too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    pub requests: u64,
    /// Attempts at each service caused by those requests.
    pub attempts: Vec<u64>,
}

/// A decision a policy made, with its simulated time and where: a caller's
/// policy on an edge, or a service's own (shedding).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PolicyEvent {
    pub at_us: Micros,
    pub edge: Option<usize>,
    pub service: Option<usize>,
    pub kind: PolicyEventKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PolicyEventKind {
    /// The caller stopped waiting for try `try_no`.
    Timeout { try_no: u32 },
    /// The call's overall deadline passed.
    DeadlineExceeded,
    /// The caller sent try `try_no` (2 or more) after a failure.
    Retry { try_no: u32 },
    /// The call failed after its last try.
    GaveUp { tries: u32 },
    /// The retry budget refused a retry.
    BudgetExhausted,
    /// The circuit breaker changed state, with the rates that caused it.
    Breaker {
        from: BreakerState,
        to: BreakerState,
        failure_rate: Option<f64>,
        slow_call_rate: Option<f64>,
    },
    /// The circuit breaker refused a call.
    BreakerRejected,
    /// The bulkhead refused a call.
    BulkheadFull,
    /// A fallback answered a failed call.
    Fallback { after: FailureKind },
    /// A service dropped a try instead of serving it.
    Shed { cause: ShedCause },
    /// A chaos fault began (the index of the fault in the experiment).
    FaultStarted { fault: usize },
    /// A chaos fault ended, on schedule or because the experiment aborted.
    FaultEnded { fault: usize },
    /// The steady-state hypothesis failed: the share of requests answered
    /// over its window fell below the minimum; every fault was ended.
    ExperimentAborted { success_rate: f64 },
    /// The autoscaler changed the number of instances, after measuring
    /// this utilisation over its period.
    Scaled { from: u32, to: u32, utilisation: f64 },
    /// Outlier detection ejected an instance from the caller's pool.
    InstanceEjected { instance: usize, until_s: f64 },
    /// An ejected instance returned to the caller's pool.
    InstanceReturned { instance: usize },
}

impl PolicyEventKind {
    /// Whether the event is a change of state (a breaker, the number of
    /// instances, an ejection, a chaos fault) rather than a decision about
    /// one call.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            PolicyEventKind::Breaker { .. }
                | PolicyEventKind::FaultStarted { .. }
                | PolicyEventKind::FaultEnded { .. }
                | PolicyEventKind::ExperimentAborted { .. }
                | PolicyEventKind::Scaled { .. }
                | PolicyEventKind::InstanceEjected { .. }
                | PolicyEventKind::InstanceReturned { .. }
        )
    }
}

/// Totals, per-second series and the amplification window of a run.
#[derive(Clone, Debug)]
pub struct Metrics {
    totals: Counters,
    series: Seconds<Second>,
    empty: Second,
    /// The second whose counts and latencies are being collected: its
    /// counts are the totals less `open_start`, the totals when it began.
    open_second: u64,
    open_start: Counters,
    open_client: Latency,
    open_services: Vec<Latency>,
    client_latency: Latency,
    service_latency: Vec<Latency>,
    settled: Seconds<Settled>,
    /// Requests settled in each second, whenever they began: what the
    /// page's chart of attempts per request plots. Unlike `settled` it is
    /// not forgotten at a change, and it is kept as long as the series.
    settled_series: Seconds<Settled>,
    empty_settled: Settled,
    /// Decisions about single calls: many, so the oldest go first.
    events: VecDeque<PolicyEvent>,
    /// Changes of state (breakers, scaling, ejections, chaos): few, and
    /// kept apart so that a flood of call decisions cannot push them out.
    changes: VecDeque<PolicyEvent>,
    events_total: u64,
}

impl Metrics {
    pub(crate) fn new(services: usize, edges: usize) -> Self {
        let empty = Second {
            counts: Counters::new(services, edges),
            client_latency: None,
            service_latency: vec![None; services],
        };
        let mut series = Seconds::new(SERIES_SECONDS);
        // The series starts at second 0, even if nothing happens in it.
        series.at(0, &empty);
        Metrics {
            totals: Counters::new(services, edges),
            series,
            empty,
            open_second: 0,
            open_start: Counters::new(services, edges),
            open_client: Latency::default(),
            open_services: vec![Latency::default(); services],
            client_latency: Latency::default(),
            service_latency: vec![Latency::default(); services],
            settled: Seconds::new(AMPLIFICATION_SECONDS as usize + 1),
            settled_series: Seconds::new(SERIES_SECONDS),
            empty_settled: Settled { requests: 0, attempts: vec![0; services] },
            events: VecDeque::new(),
            changes: VecDeque::new(),
            events_total: 0,
        }
    }

    /// Counts an event in the totals. The second it falls in gets it when
    /// that second is brought up to date ([`Metrics::sync_open_second`]) or
    /// closed ([`Metrics::close_second`]).
    ///
    /// Why not both at once: writing every count twice, to the totals and
    /// to its second's bucket, cost about a tenth of the engine's time; a
    /// second's counts are the difference of the totals at its two ends.
    pub(crate) fn record(&mut self, count: impl Fn(&mut Counters)) {
        count(&mut self.totals);
    }

    /// Adds the time `busy` workers were busy and `queued` tries waited
    /// over [from, to) to a service's totals. The span lies within the open
    /// second: the engine accounts occupancy up to each second's end before
    /// closing it.
    pub(crate) fn record_occupancy(
        &mut self,
        service: usize,
        (busy, queued, capacity): (u32, u32, u32),
        from: Micros,
        to: Micros,
    ) {
        debug_assert!(from >= self.open_second * SECOND && to <= (self.open_second + 1) * SECOND);
        let span = to.saturating_sub(from);
        let counters = &mut self.totals.services[service];
        counters.busy_us += busy as u64 * span;
        counters.queued_us += queued as u64 * span;
        counters.capacity_us += capacity as u64 * span;
    }

    /// The second now being collected: its end is where the engine next
    /// closes one.
    pub(crate) fn open_second(&self) -> u64 {
        self.open_second
    }

    /// Writes the open second's counts so far into its bucket, so that what
    /// is read between steps of the run is complete up to the clock.
    pub(crate) fn sync_open_second(&mut self) {
        let mut counts = self.totals.clone();
        counts.subtract(&self.open_start);
        self.series.at(self.open_second, &self.empty).counts = counts;
    }

    /// Closes the open second, whose events have all been counted: its
    /// counts and latency percentiles go into its bucket, and the next
    /// second opens.
    pub(crate) fn close_second(&mut self) {
        let closing = self.open_second;
        let mut counts = self.totals.clone();
        counts.subtract(&self.open_start);
        self.open_start.clone_from(&self.totals);
        let client = self.open_client.percentiles();
        let services: Vec<Option<Percentiles>> =
            self.open_services.iter().map(Latency::percentiles).collect();
        let bucket = self.series.at(closing, &self.empty);
        bucket.counts = counts;
        if client.is_some() || services.iter().any(Option::is_some) {
            bucket.client_latency = client;
            bucket.service_latency = services;
            self.open_client.reset();
            self.open_services.iter_mut().for_each(Latency::reset);
        }
        self.open_second = closing + 1;
        // Every second up to the open one has a bucket, even a quiet one.
        self.series.at(self.open_second, &self.empty);
    }

    pub(crate) fn record_client_latency(&mut self, micros: Micros) {
        self.client_latency.record(micros);
        self.open_client.record(micros);
    }

    pub(crate) fn record_service_latency(&mut self, service: usize, micros: Micros) {
        self.service_latency[service].record(micros);
        self.open_services[service].record(micros);
    }

    pub(crate) fn record_event(&mut self, event: PolicyEvent) {
        let log = if event.kind.is_change() { &mut self.changes } else { &mut self.events };
        if log.len() == EVENTS_KEPT {
            log.pop_front();
        }
        log.push_back(event);
        self.events_total += 1;
    }

    /// Counts a request that settled now with its `attempts` at each
    /// service; `current_epoch` when it began under the parameters in force, and
    /// so counts towards the measured amplification too.
    pub(crate) fn record_settled(&mut self, now: Micros, attempts: &[u32], current_epoch: bool) {
        let sec = now / SECOND;
        let add = |seconds: &mut Seconds<Settled>| {
            let bucket = seconds.at(sec, &self.empty_settled);
            bucket.requests += 1;
            for (sum, &a) in bucket.attempts.iter_mut().zip(attempts) {
                *sum += a as u64;
            }
        };
        add(&mut self.settled_series);
        if current_epoch {
            add(&mut self.settled);
        }
    }

    /// Requests settled in each of the last [`SERIES_SECONDS`] seconds
    /// (ended, with all the work they set off done), and the attempts they
    /// caused at each service.
    pub fn settled_series(&self) -> &Seconds<Settled> {
        &self.settled_series
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

    /// Client request latency over the whole run.
    pub fn client_latency(&self) -> Option<Percentiles> {
        self.client_latency.percentiles()
    }

    /// A service's try latency (arrival to answer) over the whole run.
    pub fn service_latency(&self, service: usize) -> Option<Percentiles> {
        self.service_latency.get(service).and_then(Latency::percentiles)
    }

    /// The per-second series: the last [`SERIES_SECONDS`] seconds.
    pub fn series(&self) -> &Seconds<Second> {
        &self.series
    }

    /// The most recent policy events, oldest first: the last
    /// [`EVENTS_KEPT`] decisions about calls and the last [`EVENTS_KEPT`]
    /// changes of state, merged in time order.
    pub fn events(&self) -> impl Iterator<Item = &PolicyEvent> {
        let (mut calls, mut changes) =
            (self.events.iter().peekable(), self.changes.iter().peekable());
        std::iter::from_fn(move || match (calls.peek(), changes.peek()) {
            (Some(a), Some(b)) if b.at_us < a.at_us => changes.next(),
            (Some(_), _) => calls.next(),
            (None, _) => changes.next(),
        })
    }

    /// Policy events recorded since the start, kept or not.
    pub fn events_total(&self) -> u64 {
        self.events_total
    }

    /// Mean counts per second over the last [`RATE_SECONDS`] complete
    /// seconds before `now` (fewer at the start of a run), and the number of
    /// seconds averaged.
    pub fn recent_rates(&self, now: Micros) -> (Counters, f64) {
        let to = now / SECOND;
        let from = to.saturating_sub(RATE_SECONDS);
        let mut sum = self.empty.counts.clone();
        for (_, bucket) in self.series.range(from, to) {
            sum.add(&bucket.counts);
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
