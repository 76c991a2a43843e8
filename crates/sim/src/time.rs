//! Simulated time.
//!
//! Time is an integer count of microseconds since the start of a run, never a
//! float, so that a run is bit-for-bit the same on every platform: floats
//! appear only where a duration is drawn or configured, and are rounded to
//! whole microseconds at once.

/// A point in simulated time, or a duration, in microseconds.
pub type Micros = u64;

/// Microseconds in one simulated second.
pub const SECOND: Micros = 1_000_000;

/// Microseconds in one simulated millisecond.
pub const MILLISECOND: Micros = 1_000;

/// Converts milliseconds (as configured in a scenario) to microseconds,
/// rounding to the nearest microsecond. Negative and NaN inputs give zero;
/// scenario validation rejects them before they get here.
pub fn from_millis(ms: f64) -> Micros {
    if ms.is_nan() || ms <= 0.0 {
        return 0;
    }
    let us = (ms * MILLISECOND as f64).round();
    if us >= u64::MAX as f64 {
        u64::MAX
    } else {
        us as Micros
    }
}

/// Converts seconds to microseconds, with the same rounding as [`from_millis`].
pub fn from_secs(s: f64) -> Micros {
    from_millis(s * 1_000.0)
}

/// Converts microseconds to seconds, for display and rates.
pub fn to_secs(t: Micros) -> f64 {
    t as f64 / SECOND as f64
}
