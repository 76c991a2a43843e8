//! What queueing theory and simple probability predict, for checking the
//! simulation and for showing the prediction beside the measurement.

/// Expected attempts reaching the bottom of a chain of `hops` calls, per
/// client request, when every hop makes up to `tries` tries, the bottom
/// service fails each attempt independently with probability `p`, and the
/// services above fail only when their own call fails.
///
/// Going up one hop, a failure is "all `tries` tries failed": q₀ = p,
/// qₖ₊₁ = qₖ^tries, and hop k multiplies the attempts below it by the mean
/// number of tries it makes, (1 − qₖ^tries) / (1 − qₖ). The product
/// telescopes to (1 − p^(tries^hops)) / (1 − p), which is tries^hops at
/// p = 1: two retries (three tries) over three hops give 3³ = 27.
///
/// Timeouts and queue rejections are outside this model: it is the
/// amplification the retry policy alone causes.
pub fn expected_attempts(p: f64, tries: u32, hops: u32) -> f64 {
    let p = p.clamp(0.0, 1.0);
    let per_request = tries.max(1) as f64;
    if p >= 1.0 {
        return per_request.powi(hops as i32);
    }
    let exponent = per_request.powi(hops as i32);
    (1.0 - p.powf(exponent)) / (1.0 - p)
}

/// Mean time a request waits in the queue of an M/M/c system, in the units
/// of `1 / mu`: arrival rate `lambda`, service rate `mu` per server, `c`
/// servers (Erlang C). `None` when the system is not stable (λ ≥ cμ).
pub fn mmc_mean_wait(lambda: f64, mu: f64, c: u32) -> Option<f64> {
    let a = lambda / mu;
    let c_f = c as f64;
    if c == 0 || a >= c_f {
        return None;
    }
    // Σ_{k<c} a^k/k! and a^c/c!, built term by term to avoid factorials.
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / (k + 1) as f64;
    }
    let tail = term * c_f / (c_f - a);
    let erlang_c = tail / (sum + tail);
    Some(erlang_c / (c_f * mu - lambda))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amplification_at_certain_failure_is_tries_to_the_hops() {
        assert_eq!(expected_attempts(1.0, 3, 3), 27.0);
        assert_eq!(expected_attempts(1.0, 1, 3), 1.0);
        assert_eq!(expected_attempts(1.0, 4, 2), 16.0);
    }

    #[test]
    fn amplification_without_failures_is_one() {
        assert_eq!(expected_attempts(0.0, 3, 3), 1.0);
    }

    #[test]
    fn one_hop_is_a_geometric_sum() {
        let p: f64 = 0.3;
        let expected = 1.0 + p + p * p;
        assert!((expected_attempts(p, 3, 1) - expected).abs() < 1e-12);
    }

    #[test]
    fn erlang_c_matches_mm1() {
        // M/M/1: Wq = ρ / (μ − λ).
        let (lambda, mu) = (0.8, 1.0);
        let wq = mmc_mean_wait(lambda, mu, 1).unwrap();
        assert!((wq - 0.8 / 0.2).abs() < 1e-9);
        assert_eq!(mmc_mean_wait(1.0, 1.0, 1), None);
    }
}
