//! Bulkheads: a cap on how many calls a caller has in flight to one
//! dependency at once.
//!
//! A ship's bulkheads keep one flooded compartment from sinking the whole
//! hull. In a service, the caller's workers are the hull: without a cap, a
//! slow dependency holds every worker that calls it, and requests that never
//! touch that dependency find no worker either. With a cap per dependency,
//! calls beyond it fail at once (or after a short wait), the slow path sheds
//! its own load, and the rest of the service keeps working.
//!
//! Two shapes, as Resilience4j offers them (reference semantics §2):
//! - **Semaphore**: at most `max_concurrent` calls; a call beyond that waits
//!   up to `max_wait_ms` for a permit, first come first served, and is
//!   refused when the wait runs out (0, the default, refuses at once).
//! - **Thread pool**: `threads` calls run at once and up to `queue` more wait
//!   in a bounded queue, for as long as it takes; a call beyond both is
//!   refused. (The JDK pool's extra threads between core and max size are
//!   not modelled: core = max here, Resilience4j's advice for bulkheads.)
//!
//! In the simulation the caller's worker still waits for the answer either
//! way; what differs is whether the wait for a permit is bounded by time or
//! by the number of waiters.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::time::{from_millis, Micros};
use crate::Problem;

/// A bulkhead's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BulkheadConfig {
    /// Resilience4j's SemaphoreBulkhead. Defaults: 25 concurrent calls, no
    /// wait.
    Semaphore {
        #[serde(default = "defaults::max_concurrent")]
        max_concurrent: u32,
        #[serde(default)]
        max_wait_ms: f64,
    },
    /// Resilience4j's FixedThreadPoolBulkhead. Defaults: 10 threads, a
    /// queue of 100.
    ThreadPool {
        #[serde(default = "defaults::threads")]
        threads: u32,
        #[serde(default = "defaults::pool_queue")]
        queue: u32,
    },
}

mod defaults {
    pub fn max_concurrent() -> u32 {
        25
    }
    pub fn threads() -> u32 {
        10
    }
    pub fn pool_queue() -> u32 {
        100
    }
}

impl BulkheadConfig {
    /// Pushes a problem for every value out of range.
    pub fn validate(&self, field: &str, problems: &mut Vec<Problem>) {
        let mut fail = |name: &str, message: String| {
            problems.push(Problem { field: format!("{field}.{name}"), message })
        };
        match *self {
            BulkheadConfig::Semaphore { max_concurrent, max_wait_ms } => {
                if max_concurrent == 0 || max_concurrent > 100_000 {
                    fail(
                        "max_concurrent",
                        format!("{max_concurrent} is out of range: expected 1 to 100000"),
                    );
                }
                if !max_wait_ms.is_finite() || !(0.0..=86_400_000.0).contains(&max_wait_ms) {
                    fail(
                        "max_wait_ms",
                        format!("{max_wait_ms} is out of range: expected 0 to 86400000 ms"),
                    );
                }
            }
            BulkheadConfig::ThreadPool { threads, queue } => {
                if threads == 0 || threads > 100_000 {
                    fail("threads", format!("{threads} is out of range: expected 1 to 100000"));
                }
                if queue > 1_000_000 {
                    fail("queue", format!("{queue} is out of range: expected 0 to 1000000"));
                }
            }
        }
    }
}

/// What a bulkhead says to a call that asks to go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A permit is held: go ahead, and release it when done.
    Admitted,
    /// Wait for a permit; with a semaphore, give up at the given time.
    Waiting { give_up_at: Option<Micros> },
    /// Refused at once.
    Refused,
}

/// A bulkhead's live state. `W` identifies a waiting call.
#[derive(Clone, Debug)]
pub struct Bulkhead<W> {
    config: BulkheadConfig,
    in_use: u32,
    /// Waiting calls, first come first, each with the time it gives up at
    /// (a semaphore's) or `None` (a pool's queue waits as long as it takes).
    waiting: VecDeque<(W, Option<Micros>)>,
    /// Calls refused so far.
    pub refused: u64,
}

impl<W: Copy + PartialEq> Bulkhead<W> {
    pub fn new(config: BulkheadConfig) -> Self {
        Bulkhead { config, in_use: 0, waiting: VecDeque::new(), refused: 0 }
    }

    fn limit(&self) -> u32 {
        match self.config {
            BulkheadConfig::Semaphore { max_concurrent, .. } => max_concurrent,
            BulkheadConfig::ThreadPool { threads, .. } => threads,
        }
    }

    /// Permits in use and the most there can be.
    pub fn in_use(&self) -> (u32, u32) {
        (self.in_use, self.limit())
    }

    /// Calls waiting for a permit.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Asks for a permit for `waiter` at `now`.
    pub fn try_enter(&mut self, waiter: W, now: Micros) -> Admission {
        // Waiters are served first come, first served: a newcomer may not
        // overtake them even if a permit happens to be free.
        if self.in_use < self.limit() && self.waiting.is_empty() {
            self.in_use += 1;
            return Admission::Admitted;
        }
        match self.config {
            BulkheadConfig::Semaphore { max_wait_ms, .. } if max_wait_ms > 0.0 => {
                let give_up_at = Some(now.saturating_add(from_millis(max_wait_ms)));
                self.waiting.push_back((waiter, give_up_at));
                Admission::Waiting { give_up_at }
            }
            BulkheadConfig::ThreadPool { queue, .. } if (self.waiting.len() as u32) < queue => {
                self.waiting.push_back((waiter, None));
                Admission::Waiting { give_up_at: None }
            }
            _ => {
                self.refused += 1;
                Admission::Refused
            }
        }
    }

    /// Returns a permit; the first waiter, if any, takes it and is returned.
    /// A permit above the limit (the limit was lowered while it was held)
    /// is not passed on: it goes, and the bulkhead comes down to its limit.
    pub fn release(&mut self) -> Option<W> {
        if self.in_use > self.limit() {
            self.in_use -= 1;
            return None;
        }
        match self.waiting.pop_front() {
            Some((next, _)) => Some(next),
            None => {
                self.in_use = self.in_use.saturating_sub(1);
                None
            }
        }
    }

    /// Takes a new configuration at `now` while calls hold permits and
    /// wait for them.
    ///
    /// The calls holding permits keep them and still count, as when
    /// Resilience4j's semaphore bulkhead changes its limit: a bigger limit
    /// lets in only the difference, and a smaller one admits nobody until
    /// enough holders have returned theirs. (Resilience4j's fair semaphore
    /// takes the cut in turn, after the callers already waiting; here it
    /// holds at once, so those callers wait for it too.)
    ///
    /// A new size keeps the waiters in their place, a semaphore's with the
    /// time it gives up at. A new kind (semaphore for pool, or back) has
    /// other rules for waiting, so every waiter asks again under them, first
    /// come first: it is let in, waits (with a new time to give up at), or
    /// is refused.
    pub fn reconfigure(&mut self, config: BulkheadConfig, now: Micros) -> Rejoined<W> {
        let same_kind = std::mem::discriminant(&self.config) == std::mem::discriminant(&config);
        self.config = config;
        let mut out = Rejoined { admitted: Vec::new(), give_up: Vec::new(), refused: Vec::new() };
        if same_kind {
            while self.in_use < self.limit() {
                let Some((next, _)) = self.waiting.pop_front() else { break };
                self.in_use += 1;
                out.admitted.push(next);
            }
            return out;
        }
        let waiters: Vec<W> = self.waiting.drain(..).map(|(w, _)| w).collect();
        for waiter in waiters {
            match self.try_enter(waiter, now) {
                Admission::Admitted => out.admitted.push(waiter),
                Admission::Waiting { give_up_at: Some(at) } => out.give_up.push((waiter, at)),
                Admission::Waiting { give_up_at: None } => {}
                Admission::Refused => out.refused.push(waiter),
            }
        }
        out
    }

    /// A waiter's time to give up has come at `now`. True if it is still
    /// waiting and its wait has run out, and so is now refused; false for a
    /// waiter since let in, and for a timer set under an earlier
    /// configuration whose time is no longer the waiter's.
    pub fn give_up(&mut self, waiter: W, now: Micros) -> bool {
        let due = |&(w, at): &(W, Option<Micros>)| w == waiter && at.is_some_and(|at| at <= now);
        match self.waiting.iter().position(due) {
            Some(i) => {
                self.waiting.remove(i);
                self.refused += 1;
                true
            }
            None => false,
        }
    }

    /// Empties the queue of waiters, first come first, when the bulkhead is
    /// being replaced.
    pub fn drain_waiting(&mut self) -> Vec<W> {
        self.waiting.drain(..).map(|(w, _)| w).collect()
    }

    /// Removes a waiter without counting a refusal (its call was cancelled).
    pub fn forget(&mut self, waiter: W) {
        self.waiting.retain(|&(w, _)| w != waiter);
    }
}

/// What became of the waiters when a bulkhead took a new configuration
/// (see [`Bulkhead::reconfigure`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejoined<W> {
    /// Let in, each holding a permit, first come first.
    pub admitted: Vec<W>,
    /// Waiting anew, each to give up at the time given.
    pub give_up: Vec<(W, Micros)>,
    /// Refused under the new rules.
    pub refused: Vec<W>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semaphore_without_wait_refuses_past_the_limit() {
        let mut b =
            Bulkhead::new(BulkheadConfig::Semaphore { max_concurrent: 2, max_wait_ms: 0.0 });
        assert_eq!(b.try_enter(1, 0), Admission::Admitted);
        assert_eq!(b.try_enter(2, 0), Admission::Admitted);
        assert_eq!(b.try_enter(3, 0), Admission::Refused);
        assert_eq!(b.refused, 1);
        assert_eq!(b.release(), None);
        assert_eq!(b.try_enter(4, 0), Admission::Admitted);
        assert_eq!(b.in_use(), (2, 2));
    }

    #[test]
    fn semaphore_waiters_take_released_permits_in_order_or_give_up() {
        let mut b =
            Bulkhead::new(BulkheadConfig::Semaphore { max_concurrent: 1, max_wait_ms: 5.0 });
        assert_eq!(b.try_enter(1, 0), Admission::Admitted);
        assert_eq!(b.try_enter(2, 0), Admission::Waiting { give_up_at: Some(5_000) });
        assert_eq!(b.try_enter(3, 1_000), Admission::Waiting { give_up_at: Some(6_000) });
        assert!(b.give_up(2, 5_000));
        assert!(!b.give_up(2, 5_000), "a waiter gives up once");
        assert!(!b.give_up(3, 5_000), "a waiter's time has not come before its own");
        assert_eq!(b.release(), Some(3), "the permit passes to the next waiter");
        assert_eq!(b.in_use(), (1, 1));
        assert_eq!(b.release(), None);
        assert_eq!(b.in_use(), (0, 1));
        assert_eq!(b.refused, 1);
    }

    #[test]
    fn thread_pool_queues_up_to_its_bound() {
        let mut b = Bulkhead::new(BulkheadConfig::ThreadPool { threads: 1, queue: 1 });
        assert_eq!(b.try_enter(1, 0), Admission::Admitted);
        assert_eq!(b.try_enter(2, 0), Admission::Waiting { give_up_at: None });
        assert_eq!(b.try_enter(3, 0), Admission::Refused);
        assert_eq!(b.release(), Some(2));
        assert_eq!(b.try_enter(4, 0), Admission::Waiting { give_up_at: None });
    }

    #[test]
    fn a_new_limit_counts_the_calls_already_holding_permits() {
        let semaphore =
            |max_concurrent| BulkheadConfig::Semaphore { max_concurrent, max_wait_ms: 50.0 };
        let mut b = Bulkhead::new(semaphore(3));
        for w in 1..=3 {
            assert_eq!(b.try_enter(w, 0), Admission::Admitted);
        }
        assert_eq!(b.try_enter(4, 0), Admission::Waiting { give_up_at: Some(50_000) });
        assert_eq!(b.try_enter(5, 0), Admission::Waiting { give_up_at: Some(50_000) });

        // Raised by one: the first waiter gets the one new permit, no more.
        assert_eq!(b.reconfigure(semaphore(4), 0).admitted, vec![4]);
        assert_eq!(b.in_use(), (4, 4));
        assert_eq!(b.waiting(), 1);

        // Lowered to two: nobody is let in until two holders have left.
        let none = Rejoined { admitted: vec![], give_up: vec![], refused: vec![] };
        assert_eq!(b.reconfigure(semaphore(2), 0), none);
        assert_eq!(b.in_use(), (4, 2));
        assert_eq!(b.try_enter(6, 0), Admission::Waiting { give_up_at: Some(50_000) });
        assert_eq!(b.release(), None, "a permit above the limit is not passed on");
        assert_eq!(b.release(), None);
        assert_eq!(b.in_use(), (2, 2));
        assert_eq!(b.release(), Some(5), "back at the limit, a permit goes to the first waiter");
        assert_eq!(b.in_use(), (2, 2));
        assert_eq!(b.waiting(), 1);
    }

    #[test]
    fn a_new_kind_of_bulkhead_puts_its_own_rules_to_the_waiters() {
        // A semaphore with waiters becomes a pool: they queue, without a
        // time to give up, as far as the queue goes; the rest are refused.
        let mut b =
            Bulkhead::new(BulkheadConfig::Semaphore { max_concurrent: 1, max_wait_ms: 10.0 });
        assert_eq!(b.try_enter(1, 0), Admission::Admitted);
        for w in 2..=4 {
            b.try_enter(w, 0);
        }
        let r = b.reconfigure(BulkheadConfig::ThreadPool { threads: 2, queue: 1 }, 3_000);
        assert_eq!((r.admitted, r.give_up, r.refused), (vec![2], vec![], vec![4]));
        assert_eq!(b.in_use(), (2, 2));
        assert!(!b.give_up(3, 10_000), "a pool's waiter ignores the semaphore's timer");

        // And back: the waiter now waits as a semaphore's, with a new time.
        let r = b
            .reconfigure(BulkheadConfig::Semaphore { max_concurrent: 2, max_wait_ms: 5.0 }, 20_000);
        assert_eq!((r.admitted, r.give_up, r.refused), (vec![], vec![(3, 25_000)], vec![]));
        assert!(!b.give_up(3, 10_000), "the old timer is not the waiter's any more");
        assert!(b.give_up(3, 25_000));

        // A semaphore that does not wait refuses the waiters it has no room for.
        let mut b = Bulkhead::new(BulkheadConfig::ThreadPool { threads: 1, queue: 5 });
        for w in 1..=3 {
            b.try_enter(w, 0);
        }
        let r = b.reconfigure(BulkheadConfig::Semaphore { max_concurrent: 2, max_wait_ms: 0.0 }, 0);
        assert_eq!((r.admitted, r.give_up, r.refused), (vec![2], vec![], vec![3]));
        assert_eq!(b.refused, 1);
    }

    #[test]
    fn newcomers_do_not_overtake_waiters() {
        let mut b = Bulkhead::new(BulkheadConfig::ThreadPool { threads: 1, queue: 5 });
        b.try_enter(1, 0);
        b.try_enter(2, 0);
        assert_eq!(b.release(), Some(2));
        assert_eq!(b.try_enter(3, 0), Admission::Waiting { give_up_at: None });
    }
}
