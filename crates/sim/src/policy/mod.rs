//! Resilience policies as pure state machines.
//!
//! A caller that wraps its calls in a circuit breaker, waits between retries
//! or spends a retry budget is making decisions from its own recent history.
//! Each of those decisions lives here as a small value that the engine owns
//! and drives: it is told the time and the outcomes, and it answers whether
//! a call may go, how long to wait, whether a retry is affordable. None of
//! them reads a clock, schedules an event or draws from an unseeded
//! generator, so a policy behaves the same in a test, on the command line and
//! in the browser, and each can be checked on its own against the behaviour
//! its reference implementation documents (`SEMANTICS.md`).
//!
//! - [`breaker`]: circuit breakers, after Resilience4j's failure-rate breaker
//!   (SEMANTICS.md §1) and the consecutive-failure breakers of Hystrix and
//!   Polly (§5).
//! - [`backoff`]: the pause before a retry, after the AWS formulas for
//!   exponential backoff with jitter (§6).
//! - [`budget`]: how many retries a caller may afford, after gRPC's retry
//!   throttling (§4) and Envoy's retry budget (§3).
//!
//! Configurations are plain serde data with documented defaults; each has a
//! `validate` that lists every out-of-range value with the range it accepts,
//! in the same words as scenario validation. The state machines assume a
//! validated configuration but never panic on another one.

pub mod backoff;
pub mod breaker;
pub mod budget;

pub use backoff::{Backoff, BackoffConfig, BackoffKind, Jitter};
pub use breaker::{
    Breaker, BreakerConfig, BreakerCounters, BreakerState, Refused, SlidingWindowType, Transition,
};
pub use budget::{RetryBudget, RetryBudgetConfig};

use crate::Problem;

/// Pushes a problem unless `value` is a finite number within [min, max].
pub(crate) fn check_range(
    problems: &mut Vec<Problem>,
    field: &str,
    name: &str,
    value: f64,
    (min, max): (f64, f64),
    unit: &str,
) {
    if !value.is_finite() || value < min || value > max {
        problems.push(Problem {
            field: format!("{field}.{name}"),
            message: format!(
                "{value} is out of range: expected {min} to {max}{}",
                with_space(unit)
            ),
        });
    }
}

/// Pushes a problem unless `value` is a finite number above zero and at most
/// `max`: for percentages and ratios where zero would switch the policy off
/// in a way its reference implementation refuses.
pub(crate) fn check_positive(
    problems: &mut Vec<Problem>,
    field: &str,
    name: &str,
    value: f64,
    max: f64,
    unit: &str,
) {
    if !value.is_finite() || value <= 0.0 || value > max {
        problems.push(Problem {
            field: format!("{field}.{name}"),
            message: format!(
                "{value} is out of range: expected more than 0, at most {max}{}",
                with_space(unit)
            ),
        });
    }
}

/// Pushes a problem unless the count `value` is within [min, max].
pub(crate) fn check_count(
    problems: &mut Vec<Problem>,
    field: &str,
    name: &str,
    value: u32,
    (min, max): (u32, u32),
    unit: &str,
) {
    if value < min || value > max {
        problems.push(Problem {
            field: format!("{field}.{name}"),
            message: format!(
                "{value} is out of range: expected {min} to {max}{}",
                with_space(unit)
            ),
        });
    }
}

fn with_space(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}
