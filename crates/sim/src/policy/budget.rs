//! Retry budgets.
//!
//! Retries help when failures are rare and independent, and hurt when they
//! are not: if a dependency is overloaded, every retry is more load on it,
//! and with retries at several hops the load multiplies (three tries per hop
//! over three hops is 27 attempts at the bottom). A per-call retry count
//! cannot tell the two situations apart; a budget shared by all of a
//! caller's calls can, because it sees how many calls are failing or how
//! many retries are already in flight, and it stops retrying when retrying
//! has stopped paying. Two designs are widely deployed, and both are offered:
//!
//! - **`token_bucket`**, gRPC's retry throttling (proposal A6, grpc-java's
//!   `RetriableStream.Throttle`; SEMANTICS.md §4). Tokens start at
//!   `max_tokens` and stay within [0, max_tokens]. Each qualified failure
//!   removes one token first; a retry is then allowed only if more than
//!   max_tokens / 2 remain. Each success adds `token_ratio`. As gRPC does,
//!   tokens are kept in thousandths, so `token_ratio` counts to three
//!   decimal places (it is rounded there; grpc-java truncates, which differs
//!   only for ratios with more decimals) and ten successes at 0.1 are exactly
//!   one token. The failures that count are the caller's to decide: gRPC
//!   counts the attempts that failed with a retryable status.
//! - **`percent`**, Envoy's retry budget (`RetryBudget` in the cluster's
//!   circuit breakers; SEMANTICS.md §3): the retries in flight may not
//!   exceed max(⌊percent/100 · active requests⌋, min_concurrency), where
//!   active requests are those outstanding and pending towards the cluster
//!   (in Envoy, retries in flight are among them). Defaults 20 % and 3. It
//!   keeps no history, so successes and failures do not move it.
//!
//! Envoy computes percent/100 · active in floating point, which can land
//! just below an integer (29/100 · 100 = 28.999…); here the product is
//! taken before the division, which is exact for whole percentages, so the
//! floor is the mathematical one.

use serde::{Deserialize, Serialize};

use super::{check_count, check_range};
use crate::Problem;

/// Largest `max_tokens`, as in gRPC's implementations (grpc-swift requires
/// 1…1000).
pub const MAX_TOKENS: f64 = 1_000.0;
/// Largest `min_concurrency`.
pub const MAX_MIN_CONCURRENCY: u32 = 1_000_000;

/// Thousandths of a token: gRPC keeps three decimal places.
const MILLI: f64 = 1_000.0;
/// One token, in thousandths.
const ONE_TOKEN: u64 = 1_000;

/// A retry budget's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RetryBudgetConfig {
    /// gRPC retry throttling. The defaults are the example of the gRPC
    /// proposal (A6), which throttles once failures exceed about 10 % of
    /// calls.
    TokenBucket {
        /// Tokens when full, and at the start. Default: 10.
        #[serde(default = "defaults::max_tokens")]
        max_tokens: f64,
        /// Tokens added by each success. Default: 0.1.
        #[serde(default = "defaults::token_ratio")]
        token_ratio: f64,
    },
    /// Envoy's retry budget, with Envoy's defaults.
    Percent {
        /// Retries in flight allowed, in per cent of active requests.
        /// Default: 20.
        #[serde(default = "defaults::percent")]
        percent: f64,
        /// Retries in flight allowed however few requests are active.
        /// Default: 3.
        #[serde(default = "defaults::min_concurrency")]
        min_concurrency: u32,
    },
}

/// Default values, named so that the docs and serde share them.
pub mod defaults {
    pub fn max_tokens() -> f64 {
        10.0
    }
    pub fn token_ratio() -> f64 {
        0.1
    }
    pub fn percent() -> f64 {
        20.0
    }
    pub fn min_concurrency() -> u32 {
        3
    }
}

impl RetryBudgetConfig {
    /// Pushes a problem for every out-of-range value; `field` is the path of
    /// this configuration in the scenario, such as `calls[0].retry_budget`.
    pub fn validate(&self, field: &str, problems: &mut Vec<Problem>) {
        match *self {
            RetryBudgetConfig::TokenBucket { max_tokens, token_ratio } => {
                // gRPC requires both above zero and keeps three decimals, so
                // 0.001 is the smallest value that is not zero.
                let range = (0.001, MAX_TOKENS);
                check_range(problems, field, "max_tokens", max_tokens, range, "tokens");
                check_range(problems, field, "token_ratio", token_ratio, range, "tokens");
            }
            RetryBudgetConfig::Percent { percent, min_concurrency } => {
                check_range(problems, field, "percent", percent, (0.0, 100.0), "%");
                let range = (0, MAX_MIN_CONCURRENCY);
                check_count(problems, field, "min_concurrency", min_concurrency, range, "retries");
            }
        }
    }
}

/// A caller's retry budget: tell it every outcome, ask it before retrying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryBudget {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// Amounts in thousandths of a token.
    TokenBucket { max: u64, ratio: u64, tokens: u64 },
    /// `percent` in thousandths of a per cent, so that whole and decimal
    /// percentages both compute exactly.
    Percent { milli_percent: u64, min_concurrency: u32 },
}

impl RetryBudget {
    /// A fresh budget: a full bucket of tokens. The configuration is expected
    /// to be valid; out-of-range numbers are clamped.
    pub fn new(config: &RetryBudgetConfig) -> RetryBudget {
        let milli = |x: f64, max: f64| (x.clamp(0.0, max) * MILLI).round() as u64;
        let kind = match *config {
            RetryBudgetConfig::TokenBucket { max_tokens, token_ratio } => {
                let max = milli(max_tokens, MAX_TOKENS);
                Kind::TokenBucket { max, ratio: milli(token_ratio, MAX_TOKENS), tokens: max }
            }
            RetryBudgetConfig::Percent { percent, min_concurrency } => {
                Kind::Percent { milli_percent: milli(percent, 100.0), min_concurrency }
            }
        };
        RetryBudget { kind }
    }

    /// Reports a successful call: a token bucket gains `token_ratio`, up to
    /// its maximum.
    pub fn on_success(&mut self) {
        if let Kind::TokenBucket { max, ratio, tokens } = &mut self.kind {
            *tokens = (*tokens + *ratio).min(*max);
        }
    }

    /// Reports a failed call that counts against the budget: a token bucket
    /// loses one token, down to zero. Call it before [`RetryBudget::allows_retry`]
    /// for the retry that failure would cause, as gRPC does.
    pub fn on_failure(&mut self) {
        if let Kind::TokenBucket { tokens, .. } = &mut self.kind {
            *tokens = tokens.saturating_sub(ONE_TOKEN);
        }
    }

    /// Whether one more retry may start, given the requests active towards
    /// the callee (outstanding and pending, retries included) and the
    /// retries among them. A token bucket reads only its tokens; a percent
    /// budget only the two counts. Asking changes nothing.
    pub fn allows_retry(&self, active_requests: u32, active_retries: u32) -> bool {
        match self.kind {
            Kind::TokenBucket { max, tokens, .. } => tokens > max / 2,
            Kind::Percent { .. } => self
                .max_concurrent_retries(active_requests)
                .is_some_and(|allowed| u64::from(active_retries) < allowed),
        }
    }

    /// The tokens in a token bucket, for display; `None` for a percent
    /// budget, which has none.
    pub fn tokens(&self) -> Option<f64> {
        match self.kind {
            Kind::TokenBucket { tokens, .. } => Some(tokens as f64 / MILLI),
            Kind::Percent { .. } => None,
        }
    }

    /// The retries a percent budget allows in flight with `active_requests`
    /// active, for display; `None` for a token bucket.
    pub fn max_concurrent_retries(&self, active_requests: u32) -> Option<u64> {
        match self.kind {
            Kind::TokenBucket { .. } => None,
            Kind::Percent { milli_percent, min_concurrency } => {
                // Thousandths of a per cent: divide by 100 · 1000, exactly.
                let share = milli_percent * u64::from(active_requests) / 100_000;
                Some(share.max(u64::from(min_concurrency)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(max_tokens: f64, token_ratio: f64) -> RetryBudget {
        RetryBudget::new(&RetryBudgetConfig::TokenBucket { max_tokens, token_ratio })
    }

    fn percent(percent: f64, min_concurrency: u32) -> RetryBudget {
        RetryBudget::new(&RetryBudgetConfig::Percent { percent, min_concurrency })
    }

    #[test]
    fn grpc_bucket_throttles_at_half_and_refills_by_the_ratio() {
        // The gRPC proposal's example: 10 tokens, 0.1 per success.
        let mut budget = bucket(10.0, 0.1);
        assert_eq!(budget.tokens(), Some(10.0));
        assert!(budget.allows_retry(0, 0));
        for failure in 1..=4 {
            budget.on_failure();
            assert!(budget.allows_retry(0, 0), "after {failure} failures");
        }
        assert_eq!(budget.tokens(), Some(6.0));
        // The fifth failure leaves 5 tokens: not more than 10 / 2.
        budget.on_failure();
        assert_eq!(budget.tokens(), Some(5.0));
        assert!(!budget.allows_retry(0, 0));
        // One success: 5.1 > 5.
        budget.on_success();
        assert_eq!(budget.tokens(), Some(5.1));
        assert!(budget.allows_retry(0, 0));
        // Down to 4.1; ten successes are exactly one token, so the ninth
        // leaves 5.0 (no retry) and the tenth 5.1.
        budget.on_failure();
        for _ in 0..9 {
            budget.on_success();
        }
        assert_eq!(budget.tokens(), Some(5.0));
        assert!(!budget.allows_retry(0, 0));
        budget.on_success();
        assert_eq!(budget.tokens(), Some(5.1));
        assert!(budget.allows_retry(0, 0));
    }

    #[test]
    fn grpc_tokens_stay_within_zero_and_the_maximum() {
        let mut budget = bucket(10.0, 0.1);
        budget.on_success();
        assert_eq!(budget.tokens(), Some(10.0), "a full bucket stays full");
        for _ in 0..25 {
            budget.on_failure();
        }
        assert_eq!(budget.tokens(), Some(0.0));
        // From empty, 51 successes at 0.1 make 5.1 tokens.
        for _ in 0..50 {
            budget.on_success();
        }
        assert!(!budget.allows_retry(0, 0));
        budget.on_success();
        assert_eq!(budget.tokens(), Some(5.1));
        assert!(budget.allows_retry(0, 0));
    }

    #[test]
    fn grpc_half_is_taken_in_thousandths_for_odd_maxima() {
        // Max 3: the threshold is 1.5 tokens. After one failure 2 > 1.5.
        let mut budget = bucket(3.0, 1.0);
        budget.on_failure();
        assert!(budget.allows_retry(0, 0));
        budget.on_failure();
        assert_eq!(budget.tokens(), Some(1.0));
        assert!(!budget.allows_retry(0, 0));
        // A ratio with more than three decimals counts three.
        let mut budget = bucket(10.0, 0.0004);
        budget.on_failure();
        budget.on_success();
        assert_eq!(budget.tokens(), Some(9.0));
    }

    #[test]
    fn the_bucket_ignores_the_active_counts_and_asking_changes_nothing() {
        let budget = bucket(10.0, 0.1);
        assert!(budget.allows_retry(0, 1_000));
        assert!(budget.allows_retry(u32::MAX, u32::MAX));
        assert_eq!(budget.tokens(), Some(10.0));
        assert_eq!(budget.max_concurrent_retries(100), None);
    }

    #[test]
    fn envoy_budget_allows_a_percentage_of_active_requests() {
        // 20 % of 100 active requests: 20 retries in flight.
        let budget = percent(20.0, 3);
        assert_eq!(budget.max_concurrent_retries(100), Some(20));
        assert!(budget.allows_retry(100, 19));
        assert!(!budget.allows_retry(100, 20));
        assert!(!budget.allows_retry(100, 21));
        // 20 % of 4 is 0.8, floored to 0: the minimum of 3 applies.
        assert_eq!(budget.max_concurrent_retries(4), Some(3));
        assert!(budget.allows_retry(4, 2));
        assert!(!budget.allows_retry(4, 3));
        assert_eq!(budget.max_concurrent_retries(0), Some(3));
        // 20 % of 19 is 3.8: floored to 3. Of 20, exactly 4.
        assert_eq!(budget.max_concurrent_retries(19), Some(3));
        assert_eq!(budget.max_concurrent_retries(20), Some(4));
    }

    #[test]
    fn envoy_budget_floors_exactly_and_keeps_no_history() {
        // 29 % of 100 is 29, where 0.29 · 100 in floating point is 28.99….
        assert_eq!(percent(29.0, 0).max_concurrent_retries(100), Some(29));
        assert_eq!(percent(12.5, 0).max_concurrent_retries(8), Some(1));
        assert_eq!(percent(0.0, 0).max_concurrent_retries(1_000), Some(0));
        assert!(!percent(0.0, 0).allows_retry(1_000, 0));
        assert_eq!(percent(100.0, 0).max_concurrent_retries(u32::MAX), Some(u64::from(u32::MAX)));
        let mut budget = percent(20.0, 3);
        let before = budget.clone();
        budget.on_failure();
        budget.on_success();
        assert_eq!(budget, before);
        assert_eq!(budget.tokens(), None);
    }

    #[test]
    fn configs_read_from_toml_with_defaults() {
        let config: RetryBudgetConfig = toml::from_str("kind = \"token_bucket\"").unwrap();
        assert_eq!(config, RetryBudgetConfig::TokenBucket { max_tokens: 10.0, token_ratio: 0.1 });
        let config: RetryBudgetConfig = toml::from_str("kind = \"percent\"").unwrap();
        assert_eq!(config, RetryBudgetConfig::Percent { percent: 20.0, min_concurrency: 3 });
        let config: RetryBudgetConfig =
            toml::from_str("kind = \"percent\"\npercent = 50\nmin_concurrency = 0").unwrap();
        assert_eq!(config, RetryBudgetConfig::Percent { percent: 50.0, min_concurrency: 0 });
        assert!(toml::from_str::<RetryBudgetConfig>("kind = \"percent\"\nmax_tokens = 3").is_err());
        assert!(toml::from_str::<RetryBudgetConfig>("kind = \"leaky\"").is_err());
    }

    #[test]
    fn validation_names_every_out_of_range_value() {
        let mut problems = Vec::new();
        RetryBudgetConfig::TokenBucket { max_tokens: 10.0, token_ratio: 0.1 }
            .validate("b", &mut problems);
        RetryBudgetConfig::Percent { percent: 20.0, min_concurrency: 3 }
            .validate("b", &mut problems);
        assert_eq!(problems, []);

        let bad = RetryBudgetConfig::TokenBucket { max_tokens: 0.0, token_ratio: 1_001.0 };
        bad.validate("calls[2].retry_budget", &mut problems);
        let bad = RetryBudgetConfig::Percent { percent: 120.0, min_concurrency: 2_000_000 };
        bad.validate("calls[3].retry_budget", &mut problems);
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "calls[2].retry_budget.max_tokens",
                "calls[2].retry_budget.token_ratio",
                "calls[3].retry_budget.percent",
                "calls[3].retry_budget.min_concurrency",
            ]
        );
        assert_eq!(problems[0].message, "0 is out of range: expected 0.001 to 1000 tokens");
        assert_eq!(problems[2].message, "120 is out of range: expected 0 to 100 %");
    }
}
