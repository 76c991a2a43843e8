//! Circuit breakers.
//!
//! When a dependency is failing, every call a caller sends it costs a worker,
//! a connection and a timeout's worth of waiting, and adds load to a service
//! that is already in trouble; retries multiply that load. A circuit breaker
//! watches the outcomes of its calls and, once they are bad enough, stops
//! sending them for a while (OPEN): callers fail at once, cheaply, and the
//! dependency gets room to recover. After the wait it lets a few trial calls
//! through (HALF_OPEN) and, on their verdict, either resumes normal traffic
//! (CLOSED) or waits again. What "bad enough" means, how many trial calls go
//! and when the breaker notices that the wait is over differ between
//! implementations, and those differences show in a simulation: they decide
//! how long a brownout lasts and how hard recovery hits the dependency.
//!
//! Two breakers are offered, chosen by [`BreakerConfig`]'s `kind`:
//!
//! - **`failure_rate`** follows Resilience4j's `CircuitBreakerStateMachine`
//!   (SEMANTICS.md §1), with its defaults. Outcomes go into a sliding window,
//!   either the last N calls (`count_based`) or the calls of the last N
//!   one-second buckets keyed by the second the outcome was recorded in
//!   (`time_based`, Resilience4j's default SYNCHRONIZED variant: the bucket
//!   of second ⌊t⌋ leaves once ⌊now⌋ ≥ ⌊t⌋ + N). The window is evaluated
//!   only when an outcome is recorded, never because time passes or a call
//!   is refused. Below the minimum number of calls (capped at N for count
//!   windows, not for time windows) both rates are unknown; otherwise the
//!   breaker trips when the failure rate or the slow-call rate reaches its
//!   threshold, inclusive. A call is slow when its duration is strictly
//!   above the slow-call duration; slow calls still count as successes or
//!   failures. OPEN refuses every call, counting it as not permitted and
//!   recording nothing, and keeps the metrics that tripped it for display;
//!   outcomes of calls admitted earlier are still recorded there, without
//!   any transition. The first acquire strictly after the wait moves it to
//!   HALF_OPEN and is the first trial call; with `automatic_transition` the
//!   move happens at exactly the end of the wait instead, when the engine
//!   calls [`Breaker::tick`]. HALF_OPEN hands out `permitted_calls_in_half_open`
//!   permits in all, refuses further calls, and evaluates a fresh count
//!   window of that size whose minimum is min(minimum_calls, permits): at or
//!   above a threshold it opens again, below both it closes with a fresh
//!   window, under the minimum it waits. Recording does not hand permits
//!   back, and an outcome counts in whichever state it arrives, even if its
//!   call was admitted in an earlier one, both as in Resilience4j. A
//!   `max_wait_in_half_open_ms` of at least 1 ms bounds the wait for a
//!   verdict: when it runs out the breaker opens again.
//! - **`consecutive_failures`** is the simpler breaker of Polly's classic
//!   circuit breaker and Hystrix (SEMANTICS.md §5): it trips after N failures
//!   in a row (a success resets the count), refuses calls until the first
//!   acquire strictly after the wait, lets that one call through as the sole
//!   probe, and closes on the probe's success or opens again on its failure.
//!   Its thresholds are not rates, so its transitions carry no rates.
//!
//! Every transition is kept, however brief, until the engine takes it with
//! [`Breaker::take_transitions`]. Reading the state or the rates never changes
//! anything: in particular a lazy breaker still reads OPEN after its wait has
//! ended, until a caller asks to go through, exactly as Resilience4j's
//! `getState` does.
//!
//! Left out, because no scenario needs them yet: Resilience4j's forced and
//! disabled states, its metrics-only state, attempt-based wait functions
//! (the wait here is fixed), the choice of CLOSED after the half-open
//! maximum wait (here always OPEN, Resilience4j's default), and exception
//! predicates: the engine decides which outcomes are failures, and reports
//! an outcome the breaker should ignore with [`Breaker::on_ignored`].

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{check_count, check_positive, check_range};
use crate::time::{from_millis, Micros, SECOND};
use crate::validate::limits::MAX_MS;
use crate::Problem;

/// Largest count-based window: each call in it is remembered.
pub const MAX_COUNT_WINDOW: u32 = 100_000;
/// Largest time-based window, in seconds (one day).
pub const MAX_TIME_WINDOW_S: u32 = 86_400;
/// Largest minimum number of calls.
pub const MAX_MINIMUM_CALLS: u32 = 1_000_000;
/// Largest number of trial calls in HALF_OPEN.
pub const MAX_PERMITTED_CALLS: u32 = 100_000;
/// Largest number of consecutive failures before a consecutive breaker trips.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 100_000;

/// How the failure-rate breaker's sliding window counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlidingWindowType {
    /// The last `sliding_window_size` calls (Resilience4j COUNT_BASED).
    #[default]
    CountBased,
    /// The calls of the last `sliding_window_size` one-second buckets
    /// (Resilience4j TIME_BASED, SYNCHRONIZED variant).
    TimeBased,
}

/// A circuit breaker's configuration. Durations are in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BreakerConfig {
    /// Resilience4j's failure-rate breaker (SEMANTICS.md §1). Every default
    /// is Resilience4j's.
    FailureRate {
        /// Default: `count_based`.
        #[serde(default)]
        sliding_window_type: SlidingWindowType,
        /// Calls (count-based) or seconds (time-based) in the window.
        /// Default: 100.
        #[serde(default = "defaults::sliding_window_size")]
        sliding_window_size: u32,
        /// Outcomes needed in the window before its rates are known; capped
        /// at the window size for count-based windows. Default: 100.
        #[serde(default = "defaults::minimum_calls")]
        minimum_calls: u32,
        /// Failure rate, in per cent, at or above which the breaker trips.
        /// Default: 50.
        #[serde(default = "defaults::failure_rate_threshold")]
        failure_rate_threshold: f64,
        /// Slow-call rate, in per cent, at or above which the breaker trips.
        /// Default: 100.
        #[serde(default = "defaults::slow_call_rate_threshold")]
        slow_call_rate_threshold: f64,
        /// A call lasting strictly longer than this is slow. Default: 60000.
        #[serde(default = "defaults::slow_call_duration_ms")]
        slow_call_duration_ms: f64,
        /// How long the breaker stays OPEN. Default: 60000.
        #[serde(default = "defaults::wait_in_open_ms")]
        wait_in_open_ms: f64,
        /// Trial calls let through in HALF_OPEN. Default: 10.
        #[serde(default = "defaults::permitted_calls_in_half_open")]
        permitted_calls_in_half_open: u32,
        /// Longest stay in HALF_OPEN before opening again; 0 waits for the
        /// trial calls however long they take. Default: 0.
        #[serde(default)]
        max_wait_in_half_open_ms: f64,
        /// Move to HALF_OPEN at exactly the end of the wait rather than on
        /// the first call after it. Default: false.
        #[serde(default)]
        automatic_transition: bool,
    },
    /// A breaker that trips after consecutive failures and probes with a
    /// single call (Polly's classic breaker, Hystrix's probe; SEMANTICS.md
    /// §5).
    ConsecutiveFailures {
        /// Failures in a row that trip the breaker. Default: 5 (the
        /// threshold of Envoy's consecutive-5xx outlier detection, §3).
        #[serde(default = "defaults::consecutive_failures")]
        failures: u32,
        /// How long the breaker stays OPEN. Default: 5000 (Hystrix's sleep
        /// window, §5).
        #[serde(default = "defaults::consecutive_wait_in_open_ms")]
        wait_in_open_ms: f64,
    },
}

/// Default values, named so that the docs and serde share them.
pub mod defaults {
    use super::{BreakerConfig, SlidingWindowType};

    pub fn sliding_window_size() -> u32 {
        100
    }
    pub fn minimum_calls() -> u32 {
        100
    }
    pub fn failure_rate_threshold() -> f64 {
        50.0
    }
    pub fn slow_call_rate_threshold() -> f64 {
        100.0
    }
    pub fn slow_call_duration_ms() -> f64 {
        60_000.0
    }
    pub fn wait_in_open_ms() -> f64 {
        60_000.0
    }
    pub fn permitted_calls_in_half_open() -> u32 {
        10
    }
    pub fn consecutive_failures() -> u32 {
        5
    }
    pub fn consecutive_wait_in_open_ms() -> f64 {
        5_000.0
    }

    /// Resilience4j's failure-rate breaker with every default.
    pub fn failure_rate() -> BreakerConfig {
        BreakerConfig::FailureRate {
            sliding_window_type: SlidingWindowType::CountBased,
            sliding_window_size: sliding_window_size(),
            minimum_calls: minimum_calls(),
            failure_rate_threshold: failure_rate_threshold(),
            slow_call_rate_threshold: slow_call_rate_threshold(),
            slow_call_duration_ms: slow_call_duration_ms(),
            wait_in_open_ms: wait_in_open_ms(),
            permitted_calls_in_half_open: permitted_calls_in_half_open(),
            max_wait_in_half_open_ms: 0.0,
            automatic_transition: false,
        }
    }

    /// The consecutive-failures breaker with every default.
    pub fn consecutive() -> BreakerConfig {
        BreakerConfig::ConsecutiveFailures {
            failures: consecutive_failures(),
            wait_in_open_ms: consecutive_wait_in_open_ms(),
        }
    }
}

impl Default for BreakerConfig {
    /// Resilience4j's defaults: the most used breaker, as it ships.
    fn default() -> Self {
        defaults::failure_rate()
    }
}

impl BreakerConfig {
    /// Pushes a problem for every out-of-range value; `field` is the path of
    /// this configuration in the scenario, such as `calls[0].breaker`.
    pub fn validate(&self, field: &str, problems: &mut Vec<Problem>) {
        // Resilience4j refuses waits under 1 ms and slow-call durations under
        // 1 ns; time here has microsecond resolution, so 0.001 ms is the
        // shortest slow-call duration that means anything.
        match self {
            BreakerConfig::FailureRate {
                sliding_window_type,
                sliding_window_size,
                minimum_calls,
                failure_rate_threshold,
                slow_call_rate_threshold,
                slow_call_duration_ms,
                wait_in_open_ms,
                permitted_calls_in_half_open,
                max_wait_in_half_open_ms,
                automatic_transition: _,
            } => {
                let (max_size, unit) = match sliding_window_type {
                    SlidingWindowType::CountBased => (MAX_COUNT_WINDOW, "calls"),
                    SlidingWindowType::TimeBased => (MAX_TIME_WINDOW_S, "seconds"),
                };
                let size = *sliding_window_size;
                check_count(problems, field, "sliding_window_size", size, (1, max_size), unit);
                let minimum = *minimum_calls;
                check_count(problems, field, "minimum_calls", minimum, (1, MAX_MINIMUM_CALLS), "");
                let threshold = *failure_rate_threshold;
                check_positive(problems, field, "failure_rate_threshold", threshold, 100.0, "%");
                let threshold = *slow_call_rate_threshold;
                check_positive(problems, field, "slow_call_rate_threshold", threshold, 100.0, "%");
                let slow = *slow_call_duration_ms;
                check_range(problems, field, "slow_call_duration_ms", slow, (0.001, MAX_MS), "ms");
                let wait = *wait_in_open_ms;
                check_range(problems, field, "wait_in_open_ms", wait, (1.0, MAX_MS), "ms");
                let permitted = *permitted_calls_in_half_open;
                let range = (1, MAX_PERMITTED_CALLS);
                check_count(problems, field, "permitted_calls_in_half_open", permitted, range, "");
                // Resilience4j reads this bound in whole milliseconds and
                // ignores it below 1 ms; a value between 0 and 1 would look
                // like a bound and act as none, so it is refused.
                let max_wait = *max_wait_in_half_open_ms;
                if !(max_wait == 0.0 || (1.0..=MAX_MS).contains(&max_wait)) {
                    problems.push(Problem {
                        field: format!("{field}.max_wait_in_half_open_ms"),
                        message: format!(
                            "{max_wait} is out of range: expected 0 (no bound) or 1 to {MAX_MS} ms"
                        ),
                    });
                }
            }
            BreakerConfig::ConsecutiveFailures { failures, wait_in_open_ms } => {
                let range = (1, MAX_CONSECUTIVE_FAILURES);
                check_count(problems, field, "failures", *failures, range, "failures");
                let wait = *wait_in_open_ms;
                check_range(problems, field, "wait_in_open_ms", wait, (1.0, MAX_MS), "ms");
            }
        }
    }
}

/// Where a breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through; outcomes are watched.
    Closed,
    /// Calls are refused until the wait is over.
    Open,
    /// A limited number of trial calls decide what comes next.
    HalfOpen,
}

/// A call the breaker did not let through. This is an outcome of the
/// simulation, not a Rust error: the caller fails fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The state that refused: OPEN, or HALF_OPEN with every trial permit
    /// handed out.
    pub state: BreakerState,
}

/// Outcomes and refusals over the breaker's whole life, for display and
/// reports. (Resilience4j's own counters restart with each state; these do
/// not, so that a report can add them up.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BreakerCounters {
    /// Outcomes recorded as successes, slow ones included.
    pub successes: u64,
    /// Outcomes recorded as failures, slow ones included.
    pub failures: u64,
    /// Outcomes whose duration was above the slow-call duration (always 0
    /// for the consecutive-failures breaker, which has no such duration).
    pub slow: u64,
    /// Calls refused.
    pub not_permitted: u64,
}

/// One change of state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    /// When it happened.
    pub at: Micros,
    pub from: BreakerState,
    pub to: BreakerState,
    /// The failure rate, in per cent, of the window the breaker was reading
    /// just before the change (the one that decided it); `None` below the
    /// minimum number of calls and for the consecutive-failures breaker.
    pub failure_rate: Option<f64>,
    /// The slow-call rate of that window, likewise.
    pub slow_call_rate: Option<f64>,
}

/// A circuit breaker: see the module documentation for its semantics.
#[derive(Clone, Debug)]
pub struct Breaker {
    core: Core,
    state: BreakerState,
    /// When the current state began.
    entered_at: Micros,
    counters: BreakerCounters,
    /// Transitions not yet taken by the engine.
    transitions: Vec<Transition>,
}

#[derive(Clone, Debug)]
enum Core {
    Rate {
        rule: RateRule,
        /// The metrics of the current state; OPEN keeps those of the state
        /// that tripped it.
        window: Window,
        /// HALF_OPEN permits not yet handed out.
        permits_left: u32,
    },
    Consecutive {
        threshold: u32,
        wait: Micros,
        failures_in_a_row: u32,
        /// Whether HALF_OPEN's single probe has been handed out.
        probe_out: bool,
    },
}

/// The failure-rate configuration, converted to simulation units.
#[derive(Clone, Debug)]
struct RateRule {
    window_type: SlidingWindowType,
    window_size: u32,
    minimum_calls: u32,
    failure_threshold: f64,
    slow_threshold: f64,
    slow_duration: Micros,
    wait: Micros,
    permitted: u32,
    max_wait_in_half_open: Option<Micros>,
    automatic: bool,
}

impl Breaker {
    /// A CLOSED breaker with empty metrics. The configuration is expected to
    /// be valid; sizes and counts of zero are raised to one so that nothing
    /// divides by zero or waits forever.
    pub fn new(config: &BreakerConfig) -> Breaker {
        let core = match *config {
            BreakerConfig::FailureRate {
                sliding_window_type,
                sliding_window_size,
                minimum_calls,
                failure_rate_threshold,
                slow_call_rate_threshold,
                slow_call_duration_ms,
                wait_in_open_ms,
                permitted_calls_in_half_open,
                max_wait_in_half_open_ms,
                automatic_transition,
            } => {
                let max_wait = from_millis(max_wait_in_half_open_ms);
                let rule = RateRule {
                    window_type: sliding_window_type,
                    window_size: sliding_window_size.max(1),
                    minimum_calls: minimum_calls.max(1),
                    failure_threshold: failure_rate_threshold,
                    slow_threshold: slow_call_rate_threshold,
                    slow_duration: from_millis(slow_call_duration_ms),
                    wait: from_millis(wait_in_open_ms),
                    permitted: permitted_calls_in_half_open.max(1),
                    max_wait_in_half_open: (max_wait > 0).then_some(max_wait),
                    automatic: automatic_transition,
                };
                Core::Rate { window: Window::closed(&rule), permits_left: 0, rule }
            }
            BreakerConfig::ConsecutiveFailures { failures, wait_in_open_ms } => Core::Consecutive {
                threshold: failures.max(1),
                wait: from_millis(wait_in_open_ms),
                failures_in_a_row: 0,
                probe_out: false,
            },
        };
        Breaker {
            core,
            state: BreakerState::Closed,
            entered_at: 0,
            counters: BreakerCounters::default(),
            transitions: Vec::new(),
        }
    }

    /// Asks to let one call through at `now`. OPEN refuses, unless the wait
    /// ended strictly before `now`: then the breaker moves to HALF_OPEN and
    /// this call is its first trial call. HALF_OPEN admits while trial
    /// permits remain. Every refusal is counted as not permitted.
    pub fn try_acquire(&mut self, now: Micros) -> Result<(), Refused> {
        if self.state == BreakerState::Open && now > self.wait_end() {
            self.enter(BreakerState::HalfOpen, now);
        }
        let admitted = match self.state {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => match &mut self.core {
                Core::Rate { permits_left, .. } => {
                    let admitted = *permits_left > 0;
                    *permits_left = permits_left.saturating_sub(1);
                    admitted
                }
                Core::Consecutive { probe_out, .. } => !std::mem::replace(probe_out, true),
            },
        };
        if admitted {
            Ok(())
        } else {
            self.counters.not_permitted += 1;
            Err(Refused { state: self.state })
        }
    }

    /// Records the outcome of a call that ended at `now` after `duration`,
    /// and makes any transition it calls for. Outcomes arriving while OPEN
    /// (from calls admitted before the breaker tripped) are recorded without
    /// any transition.
    pub fn on_result(&mut self, now: Micros, duration: Micros, failed: bool) {
        if failed {
            self.counters.failures += 1;
        } else {
            self.counters.successes += 1;
        }
        let state = self.state;
        let next = match &mut self.core {
            Core::Rate { rule, window, .. } => {
                let slow = duration > rule.slow_duration;
                if slow {
                    self.counters.slow += 1;
                }
                window.record(now, failed, slow);
                match (state, window.verdict(now, rule)) {
                    (BreakerState::Open, _) | (_, Verdict::Unknown) => None,
                    (_, Verdict::Exceeded) => Some(BreakerState::Open),
                    (BreakerState::HalfOpen, Verdict::Below) => Some(BreakerState::Closed),
                    (BreakerState::Closed, Verdict::Below) => None,
                }
            }
            Core::Consecutive { threshold, failures_in_a_row, .. } => match state {
                BreakerState::Closed if failed => {
                    *failures_in_a_row += 1;
                    (*failures_in_a_row >= *threshold).then_some(BreakerState::Open)
                }
                BreakerState::Closed => {
                    *failures_in_a_row = 0;
                    None
                }
                // Any outcome while HALF_OPEN is the verdict, as in Hystrix,
                // whose markSuccess and markNonSuccess act on whichever
                // command completes first.
                BreakerState::HalfOpen if failed => Some(BreakerState::Open),
                BreakerState::HalfOpen => Some(BreakerState::Closed),
                BreakerState::Open => None,
            },
        };
        if let Some(to) = next {
            self.enter(to, now);
        }
    }

    /// Forgets a call whose outcome should count neither way (Resilience4j's
    /// ignored exceptions): in HALF_OPEN its permit is handed back, so that
    /// another trial call can take its place. The permits never exceed the
    /// configured number, even if the ignored call was admitted before the
    /// breaker reached HALF_OPEN.
    pub fn on_ignored(&mut self) {
        if self.state != BreakerState::HalfOpen {
            return;
        }
        match &mut self.core {
            Core::Rate { rule, permits_left, .. } => {
                *permits_left = (*permits_left + 1).min(rule.permitted);
            }
            Core::Consecutive { probe_out, .. } => *probe_out = false,
        }
    }

    /// Makes the transitions that are due by `now` without any call: OPEN to
    /// HALF_OPEN at the end of the wait when the transition is automatic, and
    /// HALF_OPEN to OPEN when the half-open maximum wait runs out. Call it at
    /// [`Breaker::next_tick`]; calling it at other times does no harm. When
    /// a tick and a call fall on the same instant, tick first: an automatic
    /// breaker is HALF_OPEN from exactly the end of its wait.
    pub fn tick(&mut self, now: Micros) {
        if self.next_tick().is_some_and(|due| due <= now) {
            let to = match self.state {
                BreakerState::Open => BreakerState::HalfOpen,
                _ => BreakerState::Open,
            };
            self.enter(to, now);
        }
    }

    /// When [`Breaker::tick`] must next be called, or `None` if no transition
    /// can happen without a call or an outcome.
    pub fn next_tick(&self) -> Option<Micros> {
        let Core::Rate { rule, .. } = &self.core else { return None };
        match self.state {
            BreakerState::Open if rule.automatic => Some(self.wait_end()),
            BreakerState::HalfOpen => {
                rule.max_wait_in_half_open.map(|max| self.entered_at.saturating_add(max))
            }
            _ => None,
        }
    }

    /// The current state. Reading it changes nothing: a lazy breaker whose
    /// wait has ended still reads OPEN until a call asks to go through.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// When the current state began.
    pub fn state_since(&self) -> Micros {
        self.entered_at
    }

    /// The failure rate of the current window at `now`, in per cent; `None`
    /// below the minimum number of calls, and always for the
    /// consecutive-failures breaker. In OPEN this is the window that tripped
    /// the breaker.
    pub fn failure_rate(&self, now: Micros) -> Option<f64> {
        self.rates(now).0
    }

    /// The slow-call rate of the current window at `now`, in per cent, with
    /// the same conventions as [`Breaker::failure_rate`].
    pub fn slow_call_rate(&self, now: Micros) -> Option<f64> {
        self.rates(now).1
    }

    /// Outcomes in the current window at `now` (0 for the
    /// consecutive-failures breaker).
    pub fn buffered_calls(&self, now: Micros) -> u64 {
        match &self.core {
            Core::Rate { window, .. } => window.tally(now).calls,
            Core::Consecutive { .. } => 0,
        }
    }

    /// Failures in a row so far in CLOSED (consecutive-failures breaker;
    /// 0 for the other).
    pub fn consecutive_failures(&self) -> u32 {
        match &self.core {
            Core::Rate { .. } => 0,
            Core::Consecutive { failures_in_a_row, .. } => *failures_in_a_row,
        }
    }

    /// Outcomes and refusals over the breaker's life.
    pub fn counters(&self) -> BreakerCounters {
        self.counters
    }

    /// Every transition since the last call, oldest first. The engine should
    /// take them regularly: they are kept until taken.
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.transitions)
    }

    fn wait_end(&self) -> Micros {
        let wait = match &self.core {
            Core::Rate { rule, .. } => rule.wait,
            Core::Consecutive { wait, .. } => *wait,
        };
        self.entered_at.saturating_add(wait)
    }

    fn rates(&self, now: Micros) -> (Option<f64>, Option<f64>) {
        match &self.core {
            Core::Rate { window, .. } => window.rates(now),
            Core::Consecutive { .. } => (None, None),
        }
    }

    /// Moves to `to` at `now`, recording the transition with the rates of the
    /// window being left, and resets what the new state starts afresh.
    fn enter(&mut self, to: BreakerState, now: Micros) {
        let (failure_rate, slow_call_rate) = self.rates(now);
        self.transitions.push(Transition {
            at: now,
            from: self.state,
            to,
            failure_rate,
            slow_call_rate,
        });
        self.state = to;
        self.entered_at = now;
        match &mut self.core {
            Core::Rate { rule, window, permits_left } => match to {
                BreakerState::Closed => *window = Window::closed(rule),
                BreakerState::HalfOpen => {
                    *window = Window::half_open(rule);
                    *permits_left = rule.permitted;
                }
                // OPEN keeps the metrics of the state it came from.
                BreakerState::Open => {}
            },
            Core::Consecutive { failures_in_a_row, probe_out, .. } => {
                *failures_in_a_row = 0;
                *probe_out = false;
            }
        }
    }
}

/// What a window says after an outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Fewer calls than the minimum: no rate is known.
    Unknown,
    /// Both rates below their thresholds.
    Below,
    /// A rate at or above its threshold.
    Exceeded,
}

/// Counts of outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    calls: u64,
    failures: u64,
    slow: u64,
}

impl Tally {
    fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failures += u64::from(failed);
        self.slow += u64::from(slow);
    }

    fn remove(&mut self, other: Tally) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }
}

/// A sliding window of outcomes with the minimum it needs before its rates
/// are known.
#[derive(Clone, Debug)]
struct Window {
    minimum: u64,
    kind: WindowKind,
}

#[derive(Clone, Debug)]
enum WindowKind {
    /// The last `size` outcomes, oldest first, as (failed, slow).
    Count { size: usize, outcomes: VecDeque<(bool, bool)>, tally: Tally },
    /// One bucket per second that had outcomes, oldest first; `tally` sums
    /// them all, including buckets that have aged out but not yet been
    /// dropped (dropping happens only when an outcome is recorded, so that
    /// reading never changes anything).
    Time { seconds: u64, buckets: VecDeque<(u64, Tally)>, tally: Tally },
}

impl Window {
    /// The window of CLOSED: as configured, with the minimum capped at the
    /// size for count-based windows only.
    fn closed(rule: &RateRule) -> Window {
        match rule.window_type {
            SlidingWindowType::CountBased => Window::count(rule.window_size, rule.minimum_calls),
            SlidingWindowType::TimeBased => Window {
                minimum: u64::from(rule.minimum_calls),
                kind: WindowKind::Time {
                    seconds: u64::from(rule.window_size),
                    buckets: VecDeque::new(),
                    tally: Tally::default(),
                },
            },
        }
    }

    /// The window of HALF_OPEN: a count window as large as the number of
    /// permits, whatever the configured window type.
    fn half_open(rule: &RateRule) -> Window {
        Window::count(rule.permitted, rule.minimum_calls)
    }

    fn count(size: u32, minimum_calls: u32) -> Window {
        Window {
            minimum: u64::from(minimum_calls.min(size)),
            kind: WindowKind::Count {
                size: size as usize,
                outcomes: VecDeque::new(),
                tally: Tally::default(),
            },
        }
    }

    fn record(&mut self, now: Micros, failed: bool, slow: bool) {
        match &mut self.kind {
            WindowKind::Count { size, outcomes, tally } => {
                if outcomes.len() >= *size {
                    if let Some((old_failed, old_slow)) = outcomes.pop_front() {
                        let mut old = Tally::default();
                        old.add(old_failed, old_slow);
                        tally.remove(old);
                    }
                }
                outcomes.push_back((failed, slow));
                tally.add(failed, slow);
            }
            WindowKind::Time { seconds, buckets, tally } => {
                let second = now / SECOND;
                while let Some(&(start, old)) = buckets.front() {
                    if start.saturating_add(*seconds) > second {
                        break;
                    }
                    tally.remove(old);
                    buckets.pop_front();
                }
                // Time never goes backwards in the engine; were it to, the
                // outcome would join the newest bucket rather than be lost.
                match buckets.back_mut() {
                    Some((start, bucket)) if *start >= second => bucket.add(failed, slow),
                    _ => {
                        let mut bucket = Tally::default();
                        bucket.add(failed, slow);
                        buckets.push_back((second, bucket));
                    }
                }
                tally.add(failed, slow);
            }
        }
    }

    /// The outcomes in the window at `now`, without changing it.
    fn tally(&self, now: Micros) -> Tally {
        match &self.kind {
            WindowKind::Count { tally, .. } => *tally,
            WindowKind::Time { seconds, buckets, tally } => {
                let second = now / SECOND;
                let mut current = *tally;
                for &(start, bucket) in buckets {
                    if start.saturating_add(*seconds) > second {
                        break;
                    }
                    current.remove(bucket);
                }
                current
            }
        }
    }

    /// Failure and slow-call rates in per cent, or `None` below the minimum.
    fn rates(&self, now: Micros) -> (Option<f64>, Option<f64>) {
        let tally = self.tally(now);
        if tally.calls == 0 || tally.calls < self.minimum {
            return (None, None);
        }
        let calls = tally.calls as f64;
        (Some(tally.failures as f64 * 100.0 / calls), Some(tally.slow as f64 * 100.0 / calls))
    }

    fn verdict(&self, now: Micros, rule: &RateRule) -> Verdict {
        match self.rates(now) {
            (Some(failure_rate), Some(slow_rate)) => {
                if failure_rate >= rule.failure_threshold || slow_rate >= rule.slow_threshold {
                    Verdict::Exceeded
                } else {
                    Verdict::Below
                }
            }
            _ => Verdict::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MILLISECOND as MS;

    /// A count-based breaker whose other settings are easy to reason about:
    /// 1 s wait, 3 trial calls, nothing slow, lazy transition.
    fn count_config(size: u32, minimum: u32, threshold: f64) -> BreakerConfig {
        BreakerConfig::FailureRate {
            sliding_window_type: SlidingWindowType::CountBased,
            sliding_window_size: size,
            minimum_calls: minimum,
            failure_rate_threshold: threshold,
            slow_call_rate_threshold: 100.0,
            slow_call_duration_ms: 60_000.0,
            wait_in_open_ms: 1_000.0,
            permitted_calls_in_half_open: 3,
            max_wait_in_half_open_ms: 0.0,
            automatic_transition: false,
        }
    }

    fn with(config: BreakerConfig, change: impl FnOnce(&mut BreakerConfig)) -> BreakerConfig {
        let mut config = config;
        change(&mut config);
        config
    }

    fn set_permitted(config: &mut BreakerConfig, n: u32) {
        if let BreakerConfig::FailureRate { permitted_calls_in_half_open, .. } = config {
            *permitted_calls_in_half_open = n;
        }
    }

    /// One call admitted and finished at `now` with the given outcome.
    fn call(breaker: &mut Breaker, now: Micros, failed: bool) {
        breaker.try_acquire(now).expect("the call should have been admitted");
        breaker.on_result(now, 10 * MS, failed);
    }

    /// Plays a script of outcomes ('S' success, 'F' failure), one call per
    /// millisecond from `start`, and returns the state after each.
    fn play(breaker: &mut Breaker, start: Micros, script: &str) -> Vec<BreakerState> {
        script
            .chars()
            .enumerate()
            .map(|(i, c)| {
                call(breaker, start + i as Micros * MS, c == 'F');
                breaker.state()
            })
            .collect()
    }

    use BreakerState::{Closed, HalfOpen, Open};

    fn path(transitions: &[Transition]) -> Vec<(BreakerState, BreakerState)> {
        transitions.iter().map(|t| (t.from, t.to)).collect()
    }

    #[test]
    fn rates_are_unknown_below_the_minimum_and_the_fifth_record_trips() {
        // Window 10, minimum 5, threshold 50 %: four failures are not enough
        // to know a rate, the fifth record makes it 4/5 = 80 %.
        let mut breaker = Breaker::new(&count_config(10, 5, 50.0));
        for (i, state) in play(&mut breaker, 0, "FFFF").into_iter().enumerate() {
            assert_eq!(state, Closed, "after failure {}", i + 1);
        }
        assert_eq!(breaker.failure_rate(4 * MS), None);
        assert_eq!(breaker.buffered_calls(4 * MS), 4);
        assert_eq!(play(&mut breaker, 4 * MS, "S"), [Open]);
        let transitions = breaker.take_transitions();
        assert_eq!(
            transitions,
            [Transition {
                at: 4 * MS,
                from: Closed,
                to: Open,
                failure_rate: Some(80.0),
                slow_call_rate: Some(0.0),
            }]
        );
    }

    #[test]
    fn trips_at_exactly_the_threshold_not_below() {
        // 2 failures in 5 is 40 %: below 50 %, stays CLOSED with a known
        // rate. A third failure makes 3 in 6, exactly 50 %: inclusive, trips.
        let mut breaker = Breaker::new(&count_config(10, 5, 50.0));
        assert_eq!(play(&mut breaker, 0, "SSSFF"), [Closed; 5]);
        assert_eq!(breaker.failure_rate(5 * MS), Some(40.0));
        assert_eq!(play(&mut breaker, 5 * MS, "F"), [Open]);
        assert_eq!(breaker.take_transitions()[0].failure_rate, Some(50.0));
    }

    #[test]
    fn the_count_window_slides_over_the_last_calls() {
        // Window 10 full of successes: each failure pushes one success out,
        // so the fifth failure makes 5 in 10 = 50 % and trips.
        let mut breaker = Breaker::new(&count_config(10, 10, 50.0));
        assert_eq!(play(&mut breaker, 0, "SSSSSSSSSS"), [Closed; 10]);
        let states = play(&mut breaker, 10 * MS, "FFFFF");
        assert_eq!(states, [Closed, Closed, Closed, Closed, Open]);
        assert_eq!(breaker.buffered_calls(15 * MS), 10);
        assert_eq!(breaker.failure_rate(15 * MS), Some(50.0));
    }

    #[test]
    fn resilience4j_defaults_need_a_hundred_calls() {
        let mut breaker = Breaker::new(&BreakerConfig::default());
        let states = play(&mut breaker, 0, &"F".repeat(100));
        assert!(states[..99].iter().all(|&s| s == Closed));
        assert_eq!(states[99], Open);
        // And wait 60 s: the first call strictly after is admitted.
        let opened = 99 * MS;
        assert!(breaker.try_acquire(opened + 60 * SECOND).is_err());
        assert!(breaker.try_acquire(opened + 60 * SECOND + 1).is_ok());
        assert_eq!(breaker.state(), HalfOpen);
    }

    #[test]
    fn count_minimum_is_capped_at_the_window_size() {
        // Window 2 with minimum 5: the minimum becomes 2.
        let mut breaker = Breaker::new(&count_config(2, 5, 50.0));
        assert_eq!(play(&mut breaker, 0, "SF"), [Closed, Open]);
    }

    #[test]
    fn open_refuses_counts_refusals_and_records_nothing() {
        let mut breaker = Breaker::new(&count_config(10, 5, 50.0));
        play(&mut breaker, 0, "FFFFF");
        let opened = 4 * MS;
        for i in 0..7 {
            let refused = breaker.try_acquire(opened + 100 * MS * i);
            assert_eq!(refused, Err(Refused { state: Open }));
        }
        assert_eq!(
            breaker.counters(),
            BreakerCounters { successes: 0, failures: 5, slow: 0, not_permitted: 7 }
        );
        // OPEN shows the metrics that tripped it; refusals did not add any.
        assert_eq!(breaker.buffered_calls(opened + SECOND), 5);
        assert_eq!(breaker.failure_rate(opened + SECOND), Some(100.0));
        assert_eq!(breaker.state(), Open);
    }

    #[test]
    fn outcomes_of_earlier_calls_are_recorded_while_open_without_transition() {
        let mut breaker = Breaker::new(&count_config(10, 5, 50.0));
        // Five calls admitted while CLOSED; four fail and trip the breaker.
        for i in 0..5 {
            breaker.try_acquire(i * MS).unwrap();
        }
        for i in 0..4 {
            breaker.on_result(10 * MS + i * MS, 5 * MS, true);
        }
        assert_eq!(breaker.state(), Closed, "4 outcomes are below the minimum");
        breaker.on_result(14 * MS, 5 * MS, true);
        assert_eq!(breaker.state(), Open);
        // A straggler admitted before the trip succeeds: recorded into the
        // kept metrics (5 failures, 1 success), no transition.
        breaker.try_acquire(15 * MS).unwrap_err();
        breaker.on_result(16 * MS, 5 * MS, false);
        assert_eq!(breaker.state(), Open);
        assert_eq!(breaker.buffered_calls(16 * MS), 6);
        assert_eq!(path(&breaker.take_transitions()), [(Closed, Open)]);
        assert_eq!(breaker.counters().successes, 1);
    }

    #[test]
    fn lazy_half_open_on_the_first_acquire_strictly_after_the_wait() {
        let mut breaker = Breaker::new(&count_config(10, 5, 50.0));
        play(&mut breaker, 0, "FFFFF");
        let opened = 4 * MS;
        let wait_end = opened + SECOND;
        assert_eq!(breaker.next_tick(), None, "a lazy breaker needs no timer");
        // Reading the state after the wait changes nothing.
        assert_eq!(breaker.state(), Open);
        assert_eq!(breaker.try_acquire(wait_end), Err(Refused { state: Open }));
        assert_eq!(breaker.state(), Open);
        // One microsecond later the caller becomes trial call 1 of 3.
        assert_eq!(breaker.try_acquire(wait_end + 1), Ok(()));
        assert_eq!(breaker.state(), HalfOpen);
        assert_eq!(breaker.state_since(), wait_end + 1);
        assert_eq!(breaker.try_acquire(wait_end + 2), Ok(()));
        assert_eq!(breaker.try_acquire(wait_end + 3), Ok(()));
        // With three trial calls pending, a fourth is refused.
        assert_eq!(breaker.try_acquire(wait_end + 4), Err(Refused { state: HalfOpen }));
        assert_eq!(breaker.counters().not_permitted, 2);
        let transitions = breaker.take_transitions();
        assert_eq!(path(&transitions), [(Closed, Open), (Open, HalfOpen)]);
        assert_eq!(transitions[1].at, wait_end + 1);
        // The move to HALF_OPEN reports the metrics OPEN was keeping.
        assert_eq!(transitions[1].failure_rate, Some(100.0));
        // HALF_OPEN starts with a fresh window.
        assert_eq!(breaker.buffered_calls(wait_end + 4), 0);
        assert_eq!(breaker.failure_rate(wait_end + 4), None);
    }

    #[test]
    fn automatic_half_open_at_exactly_the_end_of_the_wait() {
        let config = with(count_config(10, 5, 50.0), |c| {
            if let BreakerConfig::FailureRate { automatic_transition, .. } = c {
                *automatic_transition = true;
            }
        });
        let mut breaker = Breaker::new(&config);
        assert_eq!(breaker.next_tick(), None, "nothing to time while CLOSED");
        play(&mut breaker, 0, "FFFFF");
        let wait_end = 4 * MS + SECOND;
        assert_eq!(breaker.next_tick(), Some(wait_end));
        breaker.tick(wait_end - 1);
        assert_eq!(breaker.state(), Open);
        breaker.tick(wait_end);
        assert_eq!(breaker.state(), HalfOpen);
        assert_eq!(breaker.take_transitions()[1].at, wait_end);
        assert_eq!(breaker.next_tick(), None, "no half-open bound configured");
        // All three permits are still there for callers.
        for i in 0..3 {
            assert!(breaker.try_acquire(wait_end + i).is_ok());
        }
        assert!(breaker.try_acquire(wait_end + 3).is_err());
    }

    /// A breaker (window 10, minimum 5, threshold 50 %, `permitted` trial
    /// calls) that has just moved to HALF_OPEN at the returned time, with no
    /// permit handed out yet.
    fn half_open(permitted: u32) -> (Breaker, Micros) {
        let config = with(count_config(10, 5, 50.0), |c| {
            set_permitted(c, permitted);
            if let BreakerConfig::FailureRate { automatic_transition, .. } = c {
                *automatic_transition = true;
            }
        });
        let mut breaker = Breaker::new(&config);
        play(&mut breaker, 0, "FFFFF");
        let at = breaker.next_tick().unwrap();
        breaker.tick(at);
        assert_eq!(breaker.state(), HalfOpen);
        breaker.take_transitions();
        (breaker, at)
    }

    #[test]
    fn half_open_below_the_threshold_closes_with_a_fresh_window() {
        // Three trial calls, minimum min(5, 3) = 3: S F S is 33 % < 50 %.
        let (mut breaker, at) = half_open(3);
        assert_eq!(play(&mut breaker, at, "SFS"), [HalfOpen, HalfOpen, Closed]);
        let transitions = breaker.take_transitions();
        assert_eq!(path(&transitions), [(HalfOpen, Closed)]);
        let rate = transitions[0].failure_rate.unwrap();
        assert!((rate - 100.0 / 3.0).abs() < 1e-9);
        // CLOSED starts afresh: rates unknown, five new records needed.
        assert_eq!(breaker.buffered_calls(at + 3 * MS), 0);
        assert_eq!(breaker.failure_rate(at + 3 * MS), None);
        let states = play(&mut breaker, at + 3 * MS, "FFFFF");
        assert_eq!(states, [Closed, Closed, Closed, Closed, Open]);
    }

    #[test]
    fn half_open_at_the_threshold_opens_again_and_restarts_the_wait() {
        // Four trial calls, minimum 4: S S F F is exactly 50 %.
        let (mut breaker, at) = half_open(4);
        assert_eq!(play(&mut breaker, at, "SSFF"), [HalfOpen, HalfOpen, HalfOpen, Open]);
        let transitions = breaker.take_transitions();
        assert_eq!(path(&transitions), [(HalfOpen, Open)]);
        assert_eq!(transitions[0].failure_rate, Some(50.0));
        let reopened = at + 3 * MS;
        assert_eq!(breaker.next_tick(), Some(reopened + SECOND));
        // OPEN keeps the half-open metrics for display.
        assert_eq!(breaker.buffered_calls(reopened), 4);
    }

    #[test]
    fn half_open_waits_for_its_minimum_however_bad_the_first_outcomes() {
        // Four trial calls, minimum min(5, 4) = 4: three failures (100 %) are
        // not yet a verdict; a success makes 3/4 = 75 % and opens.
        let (mut breaker, at) = half_open(4);
        assert_eq!(play(&mut breaker, at, "FFF"), [HalfOpen; 3]);
        assert_eq!(breaker.failure_rate(at + 3 * MS), None);
        assert_eq!(play(&mut breaker, at + 3 * MS, "S"), [Open]);
        assert_eq!(breaker.take_transitions()[0].failure_rate, Some(75.0));
    }

    #[test]
    fn an_ignored_trial_call_returns_its_permit_but_never_adds_one() {
        let (mut breaker, at) = half_open(1);
        assert!(breaker.try_acquire(at).is_ok());
        assert!(breaker.try_acquire(at + 1).is_err());
        breaker.on_ignored();
        assert!(breaker.try_acquire(at + 2).is_ok());
        // Two ignored outcomes (one from a call admitted long ago) give back
        // one permit only: there is only one.
        breaker.on_ignored();
        breaker.on_ignored();
        assert!(breaker.try_acquire(at + 3).is_ok());
        assert!(breaker.try_acquire(at + 4).is_err());
        assert_eq!(breaker.counters().not_permitted, 2);
        assert_eq!(breaker.buffered_calls(at + 4), 0, "ignored outcomes are not recorded");
        // In CLOSED an ignored outcome changes nothing.
        let mut closed = Breaker::new(&count_config(10, 5, 50.0));
        closed.on_ignored();
        assert_eq!(closed.counters(), BreakerCounters::default());
    }

    #[test]
    fn max_wait_in_half_open_opens_again_when_it_runs_out() {
        let config = with(count_config(10, 5, 50.0), |c| {
            if let BreakerConfig::FailureRate { max_wait_in_half_open_ms, .. } = c {
                *max_wait_in_half_open_ms = 500.0;
            }
        });
        let mut breaker = Breaker::new(&config);
        play(&mut breaker, 0, "FFFFF");
        let entered = 4 * MS + SECOND + 1;
        // One trial call goes and never answers.
        breaker.try_acquire(entered).unwrap();
        assert_eq!(breaker.next_tick(), Some(entered + 500 * MS));
        breaker.tick(entered + 500 * MS - 1);
        assert_eq!(breaker.state(), HalfOpen);
        breaker.tick(entered + 500 * MS);
        assert_eq!(breaker.state(), Open);
        let transitions = breaker.take_transitions();
        assert_eq!(path(&transitions), [(Closed, Open), (Open, HalfOpen), (HalfOpen, Open)]);
        assert_eq!(transitions[2].at, entered + 500 * MS);
        assert_eq!(transitions[2].failure_rate, None, "no trial call had answered");
        // The wait starts again; the breaker is lazy, so no timer.
        assert_eq!(breaker.next_tick(), None);
        assert!(breaker.try_acquire(entered + 500 * MS + SECOND).is_err());
        assert!(breaker.try_acquire(entered + 500 * MS + SECOND + 1).is_ok());
    }

    #[test]
    fn a_verdict_before_the_max_wait_cancels_it() {
        let config = with(count_config(10, 5, 50.0), |c| {
            set_permitted(c, 1);
            if let BreakerConfig::FailureRate { max_wait_in_half_open_ms, .. } = c {
                *max_wait_in_half_open_ms = 500.0;
            }
        });
        let mut breaker = Breaker::new(&config);
        play(&mut breaker, 0, "FFFFF");
        let entered = 4 * MS + SECOND + 1;
        assert_eq!(play(&mut breaker, entered, "S"), [Closed]);
        assert_eq!(breaker.next_tick(), None);
        breaker.tick(entered + SECOND);
        assert_eq!(breaker.state(), Closed);
    }

    #[test]
    fn slow_calls_trip_the_breaker_and_still_count_as_successes() {
        // Slow above 100 ms, threshold 50 %, window and minimum 4.
        let config = BreakerConfig::FailureRate {
            sliding_window_type: SlidingWindowType::CountBased,
            sliding_window_size: 4,
            minimum_calls: 4,
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 50.0,
            slow_call_duration_ms: 100.0,
            wait_in_open_ms: 1_000.0,
            permitted_calls_in_half_open: 3,
            max_wait_in_half_open_ms: 0.0,
            automatic_transition: false,
        };
        let mut breaker = Breaker::new(&config);
        // 100 ms exactly is not slow (strictly above); 101 ms is.
        for (i, duration) in [100, 101, 50].into_iter().enumerate() {
            breaker.try_acquire(i as Micros).unwrap();
            breaker.on_result(i as Micros, duration * MS, false);
        }
        assert_eq!(breaker.state(), Closed);
        assert_eq!(breaker.slow_call_rate(3), None, "3 calls are below the minimum");
        breaker.try_acquire(3).unwrap();
        breaker.on_result(3, 200 * MS, false);
        assert_eq!(breaker.state(), Open);
        let transition = &breaker.take_transitions()[0];
        assert_eq!(transition.slow_call_rate, Some(50.0));
        assert_eq!(transition.failure_rate, Some(0.0));
        assert_eq!(
            breaker.counters(),
            BreakerCounters { successes: 4, failures: 0, slow: 2, not_permitted: 0 }
        );
    }

    #[test]
    fn the_default_slow_threshold_trips_only_when_every_call_is_slow() {
        // Slow-call rate threshold 100 %: trips at 100 %, inclusive.
        let config = BreakerConfig::FailureRate {
            sliding_window_type: SlidingWindowType::CountBased,
            sliding_window_size: 2,
            minimum_calls: 2,
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration_ms: 1.0,
            wait_in_open_ms: 1_000.0,
            permitted_calls_in_half_open: 3,
            max_wait_in_half_open_ms: 0.0,
            automatic_transition: false,
        };
        let mut breaker = Breaker::new(&config);
        breaker.on_result(0, 2 * MS, false);
        breaker.on_result(1, MS, false);
        assert_eq!(breaker.state(), Closed, "one slow call in two is 50 %");
        breaker.on_result(2, 2 * MS, false);
        assert_eq!(breaker.state(), Closed, "the window is now [1 ms, 2 ms]");
        breaker.on_result(3, 2 * MS, false);
        assert_eq!(breaker.state(), Open);
    }

    fn time_config(seconds: u32, minimum: u32) -> BreakerConfig {
        BreakerConfig::FailureRate {
            sliding_window_type: SlidingWindowType::TimeBased,
            sliding_window_size: seconds,
            minimum_calls: minimum,
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration_ms: 60_000.0,
            wait_in_open_ms: 1_000.0,
            permitted_calls_in_half_open: 3,
            max_wait_in_half_open_ms: 0.0,
            automatic_transition: false,
        }
    }

    #[test]
    fn time_window_buckets_leave_once_whole_seconds_have_passed() {
        // Window 10 s, minimum 3, threshold 50 %.
        let mut breaker = Breaker::new(&time_config(10, 3));
        call(&mut breaker, 500 * MS, true); // bucket 0
        call(&mut breaker, 1_200 * MS, true); // bucket 1
        assert_eq!(breaker.buffered_calls(9_999 * MS), 2);
        // At 10.0 s bucket 0 has left (10 ≥ 0 + 10), bucket 1 has not. Had it
        // stayed, this success would have made 2 F in 3 and tripped.
        call(&mut breaker, 10 * SECOND, false);
        assert_eq!(breaker.state(), Closed);
        assert_eq!(breaker.buffered_calls(10 * SECOND), 2);
        assert_eq!(breaker.failure_rate(10 * SECOND), None, "2 calls, minimum 3");
        call(&mut breaker, 10_500 * MS, false);
        let rate = breaker.failure_rate(10_500 * MS).unwrap();
        assert!((rate - 100.0 / 3.0).abs() < 1e-9);
        // Reading at 11 s sees bucket 1 gone, without changing anything: a
        // read at an earlier time still sees it.
        assert_eq!(breaker.failure_rate(11 * SECOND), None);
        assert_eq!(breaker.buffered_calls(11 * SECOND), 2);
        assert_eq!(breaker.buffered_calls(10_500 * MS), 3);
        // Two failures at 11 s: {S, S, F, F} in buckets 10 and 11 is 50 %.
        call(&mut breaker, 11 * SECOND, true);
        assert_eq!(breaker.state(), Closed, "S S F is 33 %");
        call(&mut breaker, 11 * SECOND, true);
        assert_eq!(breaker.state(), Open);
        assert_eq!(breaker.take_transitions()[0].failure_rate, Some(50.0));
    }

    #[test]
    fn time_window_minimum_is_not_capped_at_the_window_size() {
        // A 2-second window with minimum 5: five failures within one second
        // are needed, not two.
        let mut breaker = Breaker::new(&time_config(2, 5));
        let states = play(&mut breaker, 100 * MS, "FFFFF");
        assert_eq!(states, [Closed, Closed, Closed, Closed, Open]);
    }

    #[test]
    fn time_based_breakers_probe_with_a_count_window_of_the_permits() {
        let mut breaker = Breaker::new(&time_config(10, 3));
        play(&mut breaker, 0, "FFF");
        let at = 2 * MS + SECOND + 1;
        // Three permits, minimum min(3, 3) = 3: S S S closes.
        assert_eq!(play(&mut breaker, at, "SSS"), [HalfOpen, HalfOpen, Closed]);
    }

    fn consecutive(failures: u32) -> Breaker {
        Breaker::new(&BreakerConfig::ConsecutiveFailures { failures, wait_in_open_ms: 5_000.0 })
    }

    #[test]
    fn consecutive_breaker_trips_on_n_failures_in_a_row() {
        let mut breaker = consecutive(3);
        let states = play(&mut breaker, 0, "FFSFF");
        assert_eq!(states, [Closed; 5], "the success reset the count");
        assert_eq!(breaker.consecutive_failures(), 2);
        assert_eq!(play(&mut breaker, 5 * MS, "F"), [Open]);
        let transitions = breaker.take_transitions();
        assert_eq!(
            transitions,
            [Transition {
                at: 5 * MS,
                from: Closed,
                to: Open,
                failure_rate: None,
                slow_call_rate: None
            }]
        );
        assert_eq!(breaker.failure_rate(5 * MS), None);
        assert_eq!(breaker.next_tick(), None);
    }

    #[test]
    fn consecutive_breaker_sends_a_single_probe_and_closes_on_its_success() {
        let mut breaker = consecutive(3);
        play(&mut breaker, 0, "FFF");
        let wait_end = 2 * MS + 5 * SECOND;
        assert_eq!(breaker.try_acquire(wait_end), Err(Refused { state: Open }));
        assert_eq!(breaker.try_acquire(wait_end + 1), Ok(()));
        assert_eq!(breaker.state(), HalfOpen);
        assert_eq!(breaker.try_acquire(wait_end + 2), Err(Refused { state: HalfOpen }));
        breaker.on_result(wait_end + 3, MS, false);
        assert_eq!(breaker.state(), Closed);
        assert_eq!(breaker.counters().not_permitted, 2);
        // The count starts again from zero.
        assert_eq!(play(&mut breaker, wait_end + 4, "FF"), [Closed, Closed]);
        assert_eq!(play(&mut breaker, wait_end + 10 * MS, "F"), [Open]);
        let expected = [(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed), (Closed, Open)];
        assert_eq!(path(&breaker.take_transitions()), expected);
    }

    #[test]
    fn consecutive_breaker_reopens_when_the_probe_fails() {
        let mut breaker = consecutive(1);
        play(&mut breaker, 0, "F");
        let probe_at = 5 * SECOND + 1;
        breaker.try_acquire(probe_at).unwrap();
        breaker.on_result(probe_at + 10 * MS, 10 * MS, true);
        assert_eq!(breaker.state(), Open);
        assert_eq!(breaker.state_since(), probe_at + 10 * MS);
        // A fresh wait from the probe's failure.
        assert!(breaker.try_acquire(probe_at + 10 * MS + 5 * SECOND).is_err());
        assert!(breaker.try_acquire(probe_at + 10 * MS + 5 * SECOND + 1).is_ok());
    }

    #[test]
    fn consecutive_breaker_ignores_outcomes_while_open_and_can_resend_an_ignored_probe() {
        let mut breaker = consecutive(2);
        play(&mut breaker, 0, "FF");
        // A straggler's success while OPEN changes nothing but the counter.
        breaker.on_result(10 * MS, MS, false);
        assert_eq!(breaker.state(), Open);
        assert_eq!(breaker.counters().successes, 1);
        let probe_at = MS + 5 * SECOND + 1;
        breaker.try_acquire(probe_at).unwrap();
        assert!(breaker.try_acquire(probe_at).is_err());
        breaker.on_ignored();
        assert!(breaker.try_acquire(probe_at).is_ok());
        assert_eq!(breaker.state(), HalfOpen);
    }

    #[test]
    fn take_transitions_drains_and_keeps_brief_states() {
        let (mut breaker, at) = half_open(1);
        play(&mut breaker, at, "S");
        assert_eq!(path(&breaker.take_transitions()), [(HalfOpen, Closed)]);
        assert!(breaker.take_transitions().is_empty());
        // A lazy breaker that opens, half-opens and closes within one call's
        // time reports all three moves.
        let mut breaker = Breaker::new(&with(count_config(1, 1, 50.0), |c| set_permitted(c, 1)));
        play(&mut breaker, 0, "F");
        play(&mut breaker, SECOND + 1, "S");
        let expected = [(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)];
        assert_eq!(path(&breaker.take_transitions()), expected);
    }

    #[test]
    fn reading_never_changes_the_breaker() {
        let mut breaker = Breaker::new(&time_config(10, 1));
        play(&mut breaker, 0, "S");
        let before = format!("{breaker:?}");
        for t in [0, SECOND, 30 * SECOND, u64::MAX] {
            let _ = (breaker.state(), breaker.failure_rate(t), breaker.slow_call_rate(t));
            let _ = (breaker.buffered_calls(t), breaker.counters(), breaker.next_tick());
        }
        assert_eq!(format!("{breaker:?}"), before);
    }

    #[test]
    fn configs_read_from_toml_with_defaults_and_refuse_unknown_fields() {
        let config: BreakerConfig = toml::from_str("kind = \"failure_rate\"").unwrap();
        assert_eq!(config, BreakerConfig::default());
        assert_eq!(config, defaults::failure_rate());
        let config: BreakerConfig = toml::from_str(
            "kind = \"failure_rate\"\nsliding_window_type = \"time_based\"\n\
             sliding_window_size = 10\nautomatic_transition = true",
        )
        .unwrap();
        let BreakerConfig::FailureRate {
            sliding_window_type,
            sliding_window_size,
            minimum_calls,
            ..
        } = config
        else {
            panic!("wrong kind");
        };
        assert_eq!(sliding_window_type, SlidingWindowType::TimeBased);
        assert_eq!((sliding_window_size, minimum_calls), (10, 100));
        let config: BreakerConfig = toml::from_str("kind = \"consecutive_failures\"").unwrap();
        assert_eq!(
            config,
            BreakerConfig::ConsecutiveFailures { failures: 5, wait_in_open_ms: 5_000.0 }
        );
        assert!(toml::from_str::<BreakerConfig>("kind = \"failure_rate\"\nwindow = 3").is_err());
        let unknown = "kind = \"consecutive_failures\"\nminimum_calls = 3";
        assert!(toml::from_str::<BreakerConfig>(unknown).is_err());
        assert!(toml::from_str::<BreakerConfig>("kind = \"sometimes\"").is_err());
        // And back again through JSON.
        let json = serde_json::to_string(&BreakerConfig::default()).unwrap();
        assert_eq!(serde_json::from_str::<BreakerConfig>(&json).unwrap(), BreakerConfig::default());
    }

    #[test]
    fn validation_names_every_out_of_range_value() {
        let mut problems = Vec::new();
        BreakerConfig::default().validate("b", &mut problems);
        defaults::consecutive().validate("b", &mut problems);
        assert_eq!(problems, []);

        let bad = BreakerConfig::FailureRate {
            sliding_window_type: SlidingWindowType::TimeBased,
            sliding_window_size: 86_401,
            minimum_calls: 0,
            failure_rate_threshold: 0.0,
            slow_call_rate_threshold: 100.5,
            slow_call_duration_ms: 0.0,
            wait_in_open_ms: 0.5,
            permitted_calls_in_half_open: 0,
            max_wait_in_half_open_ms: 0.5,
            automatic_transition: false,
        };
        bad.validate("calls[1].breaker", &mut problems);
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "calls[1].breaker.sliding_window_size",
                "calls[1].breaker.minimum_calls",
                "calls[1].breaker.failure_rate_threshold",
                "calls[1].breaker.slow_call_rate_threshold",
                "calls[1].breaker.slow_call_duration_ms",
                "calls[1].breaker.wait_in_open_ms",
                "calls[1].breaker.permitted_calls_in_half_open",
                "calls[1].breaker.max_wait_in_half_open_ms",
            ]
        );
        assert_eq!(problems[0].message, "86401 is out of range: expected 1 to 86400 seconds");
        assert_eq!(problems[2].message, "0 is out of range: expected more than 0, at most 100 %");
        assert_eq!(
            problems[7].message,
            "0.5 is out of range: expected 0 (no bound) or 1 to 86400000 ms"
        );

        let mut problems = Vec::new();
        count_config(100_001, 5, f64::NAN).validate("b", &mut problems);
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].message, "100001 is out of range: expected 1 to 100000 calls");
        assert_eq!(problems[1].field, "b.failure_rate_threshold");

        let mut problems = Vec::new();
        let consecutive = BreakerConfig::ConsecutiveFailures { failures: 0, wait_in_open_ms: -1.0 };
        consecutive.validate("b", &mut problems);
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["b.failures", "b.wait_in_open_ms"]);
    }
}
