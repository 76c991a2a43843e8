//! The pause before a retry.
//!
//! A caller that retries at once turns one failure into a burst of load at
//! the worst moment, and many callers that failed together retry together:
//! their retries arrive in synchronized waves that keep a recovering service
//! down. Backing off exponentially spreads each caller's retries over time;
//! jitter spreads *different* callers' retries apart, which is what breaks
//! the waves. This module follows the formulas of the AWS Architecture Blog's
//! "Exponential Backoff and Jitter" and its simulator (SEMANTICS.md §6):
//!
//! - expo(n) = min(cap, base · multiplierⁿ), with n = 1 for the first retry;
//! - no jitter: expo(n);
//! - full jitter: U(0, expo(n));
//! - equal jitter: expo(n)/2 + U(0, expo(n)/2);
//! - decorrelated jitter: s₀ = base, sₙ = min(cap, U(base, 3·sₙ₋₁)).
//!
//! **Exponent convention.** The first retry uses n = 1, so its ceiling is
//! base · multiplier, not base. That is what the AWS simulator does (its
//! client increments the attempt count before computing the backoff), and
//! the jitter comparisons everyone quotes were measured with it. Other
//! libraries start lower: gRPC draws the first retry from U(0, initial)
//! (n − 1 in our terms) and Envoy's first interval is its base. A scenario
//! that wants gRPC's numbers sets `base_ms` to initial / multiplier.
//!
//! The multiplier defaults to the blog's 2. The numbers default to Envoy's
//! retry back-off, base 25 ms and cap 10 × base = 250 ms (SEMANTICS.md §3),
//! with full jitter as Envoy and gRPC use; with n = 1 the ceilings are 50,
//! 100, 200, 250, 250… ms, where Envoy's are 25, 50, 100, 200, 250….
//!
//! The cap bounds the ceiling, not the spread: once the ceiling reaches the
//! cap, full and equal jitter still draw across [0, cap) and [cap/2, cap),
//! so callers stay spread out however long the outage lasts. `fixed` keeps
//! the ceiling at base for every retry, where jitter, if any, applies too.
//! Decorrelated jitter is its own recurrence: it uses base and cap and grows
//! by its own factor of 3, whatever `kind` and `multiplier` say.
//!
//! Decorrelated jitter remembers the previous pause, so a [`Backoff`] is a
//! value each call owns (one per call, not one per edge), and the first
//! retry of a call restarts the recurrence from the base. Every delay takes
//! exactly one draw from the stream, whatever the jitter, so that switching
//! between jitters changes the delays and nothing else drawn from the same
//! stream.

use serde::{Deserialize, Serialize};

use super::check_range;
use crate::rng::Stream;
use crate::time::{from_millis, Micros};
use crate::validate::limits::MAX_MS;
use crate::Problem;

/// Largest multiplier: beyond 10 the second retry is already a hundred
/// times the base, and the cap does all the work.
pub const MAX_MULTIPLIER: f64 = 10.0;

/// How the ceiling of the pause grows with the retry number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackoffKind {
    /// The same ceiling, base, for every retry.
    Fixed,
    /// min(cap, base · multiplierⁿ) for retry n.
    #[default]
    Exponential,
}

/// How the pause is drawn below its ceiling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// The ceiling itself.
    None,
    /// Uniform in [0, ceiling).
    #[default]
    Full,
    /// Half the ceiling plus uniform in [0, ceiling/2).
    Equal,
    /// min(cap, U(base, 3 · previous pause)), starting from base.
    Decorrelated,
}

/// A backoff configuration. Durations are in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackoffConfig {
    /// Default: `exponential`.
    #[serde(default)]
    pub kind: BackoffKind,
    /// The base pause. Default: 25 (Envoy's).
    #[serde(default = "defaults::base_ms")]
    pub base_ms: f64,
    /// Growth per retry of an exponential backoff. Default: 2 (the AWS
    /// formulas').
    #[serde(default = "defaults::multiplier")]
    pub multiplier: f64,
    /// The largest ceiling of an exponential backoff, and the largest
    /// decorrelated pause. Default: 250 (Envoy's 10 × base).
    #[serde(default = "defaults::cap_ms")]
    pub cap_ms: f64,
    /// Default: `full`.
    #[serde(default)]
    pub jitter: Jitter,
}

/// Default values, named so that the docs and serde share them.
pub mod defaults {
    pub fn base_ms() -> f64 {
        25.0
    }
    pub fn multiplier() -> f64 {
        2.0
    }
    pub fn cap_ms() -> f64 {
        250.0
    }
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            kind: BackoffKind::default(),
            base_ms: defaults::base_ms(),
            multiplier: defaults::multiplier(),
            cap_ms: defaults::cap_ms(),
            jitter: Jitter::default(),
        }
    }
}

impl BackoffConfig {
    /// Pushes a problem for every out-of-range value; `field` is the path of
    /// this configuration in the scenario, such as `calls[0].backoff`.
    pub fn validate(&self, field: &str, problems: &mut Vec<Problem>) {
        check_range(problems, field, "base_ms", self.base_ms, (0.0, MAX_MS), "ms");
        let multiplier = self.multiplier;
        check_range(problems, field, "multiplier", multiplier, (1.0, MAX_MULTIPLIER), "");
        check_range(problems, field, "cap_ms", self.cap_ms, (0.0, MAX_MS), "ms");
        // A cap below the base would silently replace the base; it matters
        // only where the cap is used.
        let cap_used = self.kind == BackoffKind::Exponential || self.jitter == Jitter::Decorrelated;
        let both_finite = self.cap_ms.is_finite() && self.base_ms.is_finite();
        if cap_used && both_finite && self.cap_ms < self.base_ms {
            problems.push(Problem {
                field: format!("{field}.cap_ms"),
                message: format!(
                    "{} is below base_ms ({}): expected at least base_ms, at most {MAX_MS} ms",
                    self.cap_ms, self.base_ms
                ),
            });
        }
    }
}

/// The backoff of one call: ask it for the pause before each retry.
#[derive(Clone, Debug)]
pub struct Backoff {
    kind: BackoffKind,
    jitter: Jitter,
    base_ms: f64,
    multiplier: f64,
    cap_ms: f64,
    /// The previous decorrelated pause, in milliseconds.
    previous_ms: f64,
}

impl Backoff {
    /// A fresh backoff for one call. The configuration is expected to be
    /// valid; negative or non-finite numbers are read as zero.
    pub fn new(config: &BackoffConfig) -> Backoff {
        let sane = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
        let base_ms = sane(config.base_ms);
        Backoff {
            kind: config.kind,
            jitter: config.jitter,
            base_ms,
            multiplier: sane(config.multiplier).max(1.0),
            cap_ms: sane(config.cap_ms),
            previous_ms: base_ms,
        }
    }

    /// The ceiling expo(n) of retry `retry` in milliseconds, before jitter:
    /// the pause itself when there is no jitter. Retry 1 is the first retry;
    /// 0 is read as 1.
    pub fn ceiling_ms(&self, retry: u32) -> f64 {
        match self.kind {
            BackoffKind::Fixed => self.base_ms,
            BackoffKind::Exponential => {
                let n = f64::from(retry.max(1));
                // libm rather than the platform's pow: the same bits on
                // native and wasm. An overflow to infinity meets the cap.
                let expo = self.base_ms * libm::pow(self.multiplier, n);
                if expo.is_finite() {
                    expo.min(self.cap_ms)
                } else {
                    self.cap_ms
                }
            }
        }
    }

    /// The pause before retry `retry` (1 for the first retry of the call),
    /// drawing exactly once from `rng`.
    pub fn delay(&mut self, retry: u32, rng: &mut Stream) -> Micros {
        let u = rng.uniform();
        let ms = match self.jitter {
            Jitter::None => self.ceiling_ms(retry),
            Jitter::Full => u * self.ceiling_ms(retry),
            Jitter::Equal => {
                let half = self.ceiling_ms(retry) / 2.0;
                half + u * half
            }
            Jitter::Decorrelated => {
                if retry <= 1 {
                    self.previous_ms = self.base_ms;
                }
                let high = 3.0 * self.previous_ms;
                let pause = (self.base_ms + u * (high - self.base_ms)).min(self.cap_ms);
                self.previous_ms = pause;
                pause
            }
        };
        from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MILLISECOND as MS;

    const DRAWS: usize = 100_000;

    fn config(kind: BackoffKind, jitter: Jitter) -> BackoffConfig {
        BackoffConfig { kind, base_ms: 25.0, multiplier: 2.0, cap_ms: 10_000.0, jitter }
    }

    /// `DRAWS` pauses for the given retry, each from a fresh backoff.
    fn draws(config: &BackoffConfig, retry: u32) -> Vec<f64> {
        let mut rng = Stream::new(42, 7);
        (0..DRAWS).map(|_| Backoff::new(config).delay(retry, &mut rng) as f64 / MS as f64).collect()
    }

    fn mean(xs: &[f64]) -> f64 {
        xs.iter().sum::<f64>() / xs.len() as f64
    }

    fn variance(xs: &[f64]) -> f64 {
        let m = mean(xs);
        xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64
    }

    fn spread(xs: &[f64]) -> (f64, f64) {
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (min, max)
    }

    fn close(actual: f64, expected: f64, relative: f64) -> bool {
        (actual - expected).abs() <= relative * expected.abs()
    }

    #[test]
    fn no_jitter_is_base_times_multiplier_to_the_retry_number() {
        // n = 1 for the first retry: 50, 100, 200, 400 ms with base 25.
        let mut backoff = Backoff::new(&config(BackoffKind::Exponential, Jitter::None));
        let mut rng = Stream::new(1, 1);
        let pauses: Vec<_> = (1..=4).map(|n| backoff.delay(n, &mut rng)).collect();
        assert_eq!(pauses, [50 * MS, 100 * MS, 200 * MS, 400 * MS]);
        // Retry 0 is read as the first retry.
        assert_eq!(backoff.delay(0, &mut rng), 50 * MS);
        // Another multiplier: 25 · 3² for the second retry.
        let triple =
            BackoffConfig { multiplier: 3.0, ..config(BackoffKind::Exponential, Jitter::None) };
        assert_eq!(Backoff::new(&triple).delay(2, &mut rng), 225 * MS);
    }

    #[test]
    fn the_cap_bounds_the_ceiling_even_for_huge_retry_numbers() {
        let backoff = Backoff::new(&config(BackoffKind::Exponential, Jitter::None));
        assert_eq!(backoff.ceiling_ms(8), 6_400.0);
        assert_eq!(backoff.ceiling_ms(9), 10_000.0);
        assert_eq!(backoff.ceiling_ms(u32::MAX), 10_000.0);
        let defaults = Backoff::new(&BackoffConfig::default());
        let ceilings: Vec<_> = (1..=5).map(|n| defaults.ceiling_ms(n)).collect();
        assert_eq!(ceilings, [50.0, 100.0, 200.0, 250.0, 250.0]);
    }

    #[test]
    fn fixed_keeps_the_base_for_every_retry() {
        let mut backoff = Backoff::new(&config(BackoffKind::Fixed, Jitter::None));
        let mut rng = Stream::new(1, 1);
        for n in 1..=20 {
            assert_eq!(backoff.delay(n, &mut rng), 25 * MS);
        }
        // With full jitter the mean is half the base.
        let xs = draws(&config(BackoffKind::Fixed, Jitter::Full), 7);
        assert!(close(mean(&xs), 12.5, 0.02), "mean {}", mean(&xs));
    }

    #[test]
    fn full_jitter_is_uniform_below_the_ceiling() {
        // Retry 3: expo = 200 ms. U(0, 200): mean 100, variance 200²/12.
        let xs = draws(&config(BackoffKind::Exponential, Jitter::Full), 3);
        let (min, max) = spread(&xs);
        assert!(min >= 0.0 && max <= 200.0, "[{min}, {max}]");
        assert!(min < 1.0 && max > 199.0, "the draws cover the range: [{min}, {max}]");
        assert!(close(mean(&xs), 100.0, 0.02), "mean {}", mean(&xs));
        assert!(close(variance(&xs), 200.0 * 200.0 / 12.0, 0.03), "variance {}", variance(&xs));
        // A quarter of the draws in each quarter of the range, within 1 %.
        for quarter in 0..4 {
            let (low, high) = (50.0 * quarter as f64, 50.0 * (quarter + 1) as f64);
            let share = xs.iter().filter(|&&x| x >= low && x < high).count() as f64 / DRAWS as f64;
            assert!((share - 0.25).abs() < 0.01, "quarter {quarter}: {share}");
        }
    }

    #[test]
    fn equal_jitter_keeps_half_the_ceiling_and_spreads_the_rest() {
        // Retry 3: expo = 200 ms. 100 + U(0, 100): mean 150, variance 100²/12.
        let xs = draws(&config(BackoffKind::Exponential, Jitter::Equal), 3);
        let (min, max) = spread(&xs);
        assert!(min >= 100.0 && max <= 200.0, "[{min}, {max}]");
        assert!(close(mean(&xs), 150.0, 0.01), "mean {}", mean(&xs));
        assert!(close(variance(&xs), 100.0 * 100.0 / 12.0, 0.03), "variance {}", variance(&xs));
    }

    #[test]
    fn jitter_keeps_spreading_once_the_cap_is_reached() {
        // Retry 20 is far past the cap of 10 s.
        let none = draws(&config(BackoffKind::Exponential, Jitter::None), 20);
        assert!(none.iter().all(|&x| x == 10_000.0), "without jitter every pause is the cap");
        let full = draws(&config(BackoffKind::Exponential, Jitter::Full), 20);
        let (min, max) = spread(&full);
        assert!(max <= 10_000.0 && max - min > 9_900.0, "full: [{min}, {max}]");
        assert!(close(mean(&full), 5_000.0, 0.02), "full mean {}", mean(&full));
        let equal = draws(&config(BackoffKind::Exponential, Jitter::Equal), 20);
        let (min, max) = spread(&equal);
        assert!(min >= 5_000.0 && max <= 10_000.0 && max - min > 4_900.0, "equal: [{min}, {max}]");
    }

    #[test]
    fn decorrelated_jitter_grows_from_the_base_and_stays_within_the_cap() {
        let config = config(BackoffKind::Exponential, Jitter::Decorrelated);
        // The first pause is U(base, 3·base): [25, 75), mean 50.
        let first = draws(&config, 1);
        let (min, max) = spread(&first);
        assert!(min >= 25.0 && max <= 75.0, "[{min}, {max}]");
        assert!(close(mean(&first), 50.0, 0.01), "mean {}", mean(&first));
        // Along one call's retries every pause is within [base, cap], each at
        // most three times the previous, and the cap is reached.
        let mut rng = Stream::new(9, 9);
        let mut backoff = Backoff::new(&config);
        let mut previous = 25.0;
        let mut reached_cap = false;
        for n in 1..=200 {
            let pause = backoff.delay(n, &mut rng) as f64 / MS as f64;
            assert!((25.0..=10_000.0).contains(&pause), "retry {n}: {pause}");
            assert!(pause <= 3.0 * previous + 0.001, "retry {n}: {pause} after {previous}");
            reached_cap |= pause == 10_000.0;
            previous = pause;
        }
        assert!(reached_cap);
        // Near the cap, pauses keep spreading below it: from a pause at the
        // cap the next is U(base, 3·cap) cut at the cap, below it a third of
        // the time, and a pause far below restarts the climb.
        let tail: Vec<f64> =
            (0..DRAWS).map(|_| backoff.delay(2, &mut rng) as f64 / MS as f64).collect();
        let at_cap = tail.iter().filter(|&&x| x == 10_000.0).count() as f64 / DRAWS as f64;
        assert!(at_cap > 0.25 && at_cap < 0.75, "share at the cap: {at_cap}");
        let (min, _) = spread(&tail);
        assert!(min < 100.0, "the smallest pause near the cap: {min}");
        // A call's first retry restarts from the base.
        let restarted = backoff.delay(1, &mut rng) as f64 / MS as f64;
        assert!((25.0..75.0).contains(&restarted), "{restarted}");
    }

    #[test]
    fn the_same_seed_gives_the_same_pauses_and_each_pause_takes_one_draw() {
        let config = BackoffConfig::default();
        let run = |seed| {
            let mut rng = Stream::new(seed, 3);
            let mut backoff = Backoff::new(&config);
            (1..=6).map(|n| backoff.delay(n, &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
        // Whatever the jitter, the stream advances by one draw per pause.
        for jitter in [Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let mut rng = Stream::new(1, 2);
            let mut backoff = Backoff::new(&BackoffConfig { jitter, ..BackoffConfig::default() });
            backoff.delay(1, &mut rng);
            let mut reference = Stream::new(1, 2);
            reference.uniform();
            assert_eq!(rng.uniform(), reference.uniform(), "{jitter:?}");
        }
    }

    #[test]
    fn configs_read_from_toml_with_defaults() {
        let config: BackoffConfig = toml::from_str("").unwrap();
        assert_eq!(config, BackoffConfig::default());
        assert_eq!(
            config,
            BackoffConfig {
                kind: BackoffKind::Exponential,
                base_ms: 25.0,
                multiplier: 2.0,
                cap_ms: 250.0,
                jitter: Jitter::Full
            }
        );
        let config: BackoffConfig =
            toml::from_str("kind = \"fixed\"\nbase_ms = 500\njitter = \"none\"").unwrap();
        assert_eq!(
            (config.kind, config.base_ms, config.jitter),
            (BackoffKind::Fixed, 500.0, Jitter::None)
        );
        assert!(toml::from_str::<BackoffConfig>("jitter = \"some\"").is_err());
        assert!(toml::from_str::<BackoffConfig>("base = 3").is_err());
    }

    #[test]
    fn validation_names_every_out_of_range_value() {
        let mut problems = Vec::new();
        BackoffConfig::default().validate("b", &mut problems);
        // A fixed backoff longer than the default cap is fine: no cap applies.
        let fixed =
            BackoffConfig { kind: BackoffKind::Fixed, base_ms: 500.0, ..BackoffConfig::default() };
        fixed.validate("b", &mut problems);
        assert_eq!(problems, []);

        let bad = BackoffConfig {
            kind: BackoffKind::Exponential,
            base_ms: -1.0,
            multiplier: 0.5,
            cap_ms: f64::INFINITY,
            jitter: Jitter::Full,
        };
        bad.validate("calls[0].backoff", &mut problems);
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["calls[0].backoff.base_ms", "calls[0].backoff.multiplier", "calls[0].backoff.cap_ms"]
        );
        assert_eq!(problems[0].message, "-1 is out of range: expected 0 to 86400000 ms");
        assert_eq!(problems[1].message, "0.5 is out of range: expected 1 to 10");

        let mut problems = Vec::new();
        let inverted = BackoffConfig { base_ms: 300.0, cap_ms: 200.0, ..BackoffConfig::default() };
        inverted.validate("b", &mut problems);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "b.cap_ms");
        assert_eq!(
            problems[0].message,
            "200 is below base_ms (300): expected at least base_ms, at most 86400000 ms"
        );
    }
}
