//! Capacity that reacts: a horizontal autoscaler that adds and removes
//! instances, and outlier detection that stops a caller from sending to a
//! sick instance.
//!
//! Both are feedback loops with delays, which is what makes them worth
//! watching: the autoscaler acts on a metric averaged over its sync period
//! and its new instances serve only after they start, so a sudden surge is
//! met late; outlier detection needs several consecutive failures before it
//! ejects, and returns the instance on a timer whether or not it healed.
//!
//! - [`AutoscaleConfig`] follows the Kubernetes horizontal pod autoscaler:
//!   every sync period, desired = ⌈current × utilisation / target⌉,
//!   skipped within a tolerance of the target, clamped to [min, max]; scale
//!   up at once, scale down only to the highest recommendation seen during
//!   the stabilisation window; new instances serve after a start-up delay.
//! - [`OutlierConfig`] follows Envoy's consecutive-5xx outlier detection
//!   (reference semantics §3): a host is ejected when its run of 5xx
//!   answers reaches the threshold, for base × k (k counting its ejections,
//!   capped at the maximum), provided that no more than the maximum share
//!   of hosts would be ejected; it returns on the first interval tick after
//!   its time is up, and k falls by one per interval it stays healthy.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::time::{from_millis, from_secs, Micros};
use crate::Problem;

/// A Kubernetes-style horizontal autoscaler for one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscaleConfig {
    /// Utilisation of the workers to aim for, from 0 to 1. Default: 0.6.
    #[serde(default = "defaults::target")]
    pub target_utilisation: f64,
    /// How often the autoscaler looks, in seconds. Default: 15.
    #[serde(default = "defaults::sync_period_s")]
    pub sync_period_s: f64,
    /// How long a new instance takes before it serves, in seconds.
    /// Default: 10.
    #[serde(default = "defaults::startup_s")]
    pub startup_s: f64,
    /// Default: 1.
    #[serde(default = "defaults::min")]
    pub min_instances: u32,
    /// Default: 10.
    #[serde(default = "defaults::max")]
    pub max_instances: u32,
    /// Scale down only to the highest recommendation of this window, in
    /// seconds. Default: 300.
    #[serde(default = "defaults::stabilisation_s")]
    pub scale_down_stabilisation_s: f64,
    /// No change while utilisation / target is within 1 ± tolerance.
    /// Default: 0.1.
    #[serde(default = "defaults::tolerance")]
    pub tolerance: f64,
}

/// Envoy's consecutive-5xx outlier detection on one call edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutlierConfig {
    /// Default: 5.
    #[serde(default = "defaults::consecutive_5xx")]
    pub consecutive_5xx: u32,
    /// Default: 10 000 ms.
    #[serde(default = "defaults::interval_ms")]
    pub interval_ms: f64,
    /// Default: 30 000 ms.
    #[serde(default = "defaults::base_ejection_ms")]
    pub base_ejection_ms: f64,
    /// Default: 300 000 ms.
    #[serde(default = "defaults::max_ejection_ms")]
    pub max_ejection_ms: f64,
    /// Default: 10 (%). With fewer than ten hosts, Envoy's default ejects
    /// none: raise it for small services.
    #[serde(default = "defaults::max_ejection_percent")]
    pub max_ejection_percent: f64,
}

pub mod defaults {
    pub fn target() -> f64 {
        0.6
    }
    pub fn sync_period_s() -> f64 {
        15.0
    }
    pub fn startup_s() -> f64 {
        10.0
    }
    pub fn min() -> u32 {
        1
    }
    pub fn max() -> u32 {
        10
    }
    pub fn stabilisation_s() -> f64 {
        300.0
    }
    pub fn tolerance() -> f64 {
        0.1
    }
    pub fn consecutive_5xx() -> u32 {
        5
    }
    pub fn interval_ms() -> f64 {
        10_000.0
    }
    pub fn base_ejection_ms() -> f64 {
        30_000.0
    }
    pub fn max_ejection_ms() -> f64 {
        300_000.0
    }
    pub fn max_ejection_percent() -> f64 {
        10.0
    }
}

fn check(
    problems: &mut Vec<Problem>,
    field: String,
    value: f64,
    (min, max): (f64, f64),
    unit: &str,
) {
    if !value.is_finite() || value < min || value > max {
        problems.push(Problem {
            field,
            message: format!("{value} is out of range: expected {min} to {max}{unit}"),
        });
    }
}

impl AutoscaleConfig {
    pub fn validate(&self, field: &str, problems: &mut Vec<Problem>) {
        let at = |f: &str| format!("{field}.{f}");
        check(problems, at("target_utilisation"), self.target_utilisation, (0.01, 1.0), "");
        check(problems, at("sync_period_s"), self.sync_period_s, (0.1, 3_600.0), " s");
        check(problems, at("startup_s"), self.startup_s, (0.0, 3_600.0), " s");
        check(
            problems,
            at("scale_down_stabilisation_s"),
            self.scale_down_stabilisation_s,
            (0.0, 86_400.0),
            " s",
        );
        check(problems, at("tolerance"), self.tolerance, (0.0, 1.0), "");
        let max = crate::validate::limits::MAX_INSTANCES;
        if self.min_instances == 0 || self.min_instances > max {
            problems.push(Problem {
                field: at("min_instances"),
                message: format!("{} is out of range: expected 1 to {max}", self.min_instances),
            });
        }
        if self.max_instances < self.min_instances || self.max_instances > max {
            problems.push(Problem {
                field: at("max_instances"),
                message: format!(
                    "{} is out of range: expected min_instances ({}) to {max}",
                    self.max_instances, self.min_instances
                ),
            });
        }
    }
}

impl OutlierConfig {
    pub fn validate(&self, field: &str, problems: &mut Vec<Problem>) {
        let at = |f: &str| format!("{field}.{f}");
        if self.consecutive_5xx == 0 || self.consecutive_5xx > 1_000 {
            problems.push(Problem {
                field: at("consecutive_5xx"),
                message: format!("{} is out of range: expected 1 to 1000", self.consecutive_5xx),
            });
        }
        check(problems, at("interval_ms"), self.interval_ms, (1.0, 86_400_000.0), " ms");
        check(problems, at("base_ejection_ms"), self.base_ejection_ms, (1.0, 86_400_000.0), " ms");
        check(problems, at("max_ejection_ms"), self.max_ejection_ms, (1.0, 86_400_000.0), " ms");
        check(problems, at("max_ejection_percent"), self.max_ejection_percent, (0.0, 100.0), " %");
    }
}

/// The autoscaler's memory: recent recommendations, for the scale-down
/// stabilisation window.
#[derive(Clone, Debug)]
pub struct Autoscaler {
    pub config: AutoscaleConfig,
    recommendations: VecDeque<(Micros, u32)>,
}

impl Autoscaler {
    pub fn new(config: AutoscaleConfig) -> Self {
        Autoscaler { config, recommendations: VecDeque::new() }
    }

    pub fn period(&self) -> Micros {
        from_secs(self.config.sync_period_s).max(1)
    }

    pub fn startup(&self) -> Micros {
        from_secs(self.config.startup_s)
    }

    /// The number of instances to have, given `current` instances (serving
    /// or starting) of which `serving` served over the last period, with
    /// their workers busy `utilisation` of the time.
    ///
    /// As Kubernetes does for pods that are not ready, instances still
    /// starting count as idle: the load is what the serving ones carried,
    /// so a surge is not counted twice while new instances start.
    pub fn desired(&mut self, now: Micros, current: u32, serving: u32, utilisation: f64) -> u32 {
        let c = &self.config;
        let ratio = utilisation / c.target_utilisation;
        let needed = (serving as f64 * ratio).ceil() as u32;
        let recommended = if (ratio - 1.0).abs() <= c.tolerance { current } else { needed };
        let recommended = recommended.clamp(c.min_instances, c.max_instances);
        let window = from_secs(c.scale_down_stabilisation_s);
        self.recommendations.push_back((now, recommended));
        while self.recommendations.front().is_some_and(|&(t, _)| t + window < now) {
            self.recommendations.pop_front();
        }
        if recommended >= current {
            recommended
        } else {
            // Scale down only as far as every recent recommendation allows.
            let highest = self.recommendations.iter().map(|&(_, r)| r).max().unwrap_or(current);
            highest.min(current)
        }
    }
}

/// One host as seen by one caller's outlier detection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostHealth {
    pub consecutive_5xx: u32,
    pub ejected_until: Option<Micros>,
    /// Ejections so far, less one per healthy interval (Envoy's multiplier).
    pub ejections: u32,
}

/// A caller's outlier detection over the instances of one callee.
#[derive(Clone, Debug)]
pub struct OutlierDetector {
    pub config: OutlierConfig,
    pub hosts: Vec<HostHealth>,
}

impl OutlierDetector {
    pub fn new(config: OutlierConfig, hosts: usize) -> Self {
        OutlierDetector { config, hosts: vec![HostHealth::default(); hosts] }
    }

    pub fn interval(&self) -> Micros {
        from_millis(self.config.interval_ms).max(1)
    }

    fn ensure(&mut self, host: usize) {
        if self.hosts.len() <= host {
            self.hosts.resize(host + 1, HostHealth::default());
        }
    }

    /// Forgets a host: its slot now holds a new instance.
    pub fn forget(&mut self, host: usize) {
        if let Some(h) = self.hosts.get_mut(host) {
            *h = HostHealth::default();
        }
    }

    pub fn is_ejected(&self, host: usize) -> bool {
        self.hosts.get(host).is_some_and(|h| h.ejected_until.is_some())
    }

    /// Records an answer from `host`; returns the time it is ejected until
    /// if this answer ejects it. `hosts` is how many hosts the callee has.
    pub fn record(
        &mut self,
        now: Micros,
        host: usize,
        is_5xx: bool,
        hosts: usize,
    ) -> Option<Micros> {
        self.ensure(host);
        let h = &mut self.hosts[host];
        if !is_5xx {
            h.consecutive_5xx = 0;
            return None;
        }
        h.consecutive_5xx += 1;
        if h.ejected_until.is_some() || h.consecutive_5xx < self.config.consecutive_5xx {
            return None;
        }
        let ejected = self.hosts.iter().filter(|h| h.ejected_until.is_some()).count();
        // Envoy's cap: eject only if the ejected share stays within the
        // maximum once this host is out.
        if 100.0 * (ejected + 1) as f64 > self.config.max_ejection_percent * hosts.max(1) as f64 {
            return None;
        }
        let h = &mut self.hosts[host];
        let base = from_millis(self.config.base_ejection_ms);
        let max = from_millis(self.config.max_ejection_ms);
        // The multiplier grows while base × k stays below max + base.
        if base.saturating_mul(h.ejections as u64) < max.saturating_add(base) {
            h.ejections += 1;
        }
        let until = now.saturating_add(base.saturating_mul(h.ejections as u64).min(max));
        h.ejected_until = Some(until);
        h.consecutive_5xx = 0;
        Some(until)
    }

    /// An interval tick: returns the hosts whose ejection is over; hosts
    /// that stayed in through a whole interval lose one from their
    /// multiplier.
    pub fn tick(&mut self, now: Micros) -> Vec<usize> {
        let mut returned = Vec::new();
        for (i, h) in self.hosts.iter_mut().enumerate() {
            match h.ejected_until {
                Some(until) if now >= until => {
                    h.ejected_until = None;
                    h.consecutive_5xx = 0;
                    returned.push(i);
                }
                Some(_) => {}
                None => h.ejections = h.ejections.saturating_sub(1),
            }
        }
        returned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn hpa() -> AutoscaleConfig {
        AutoscaleConfig {
            target_utilisation: 0.5,
            sync_period_s: 15.0,
            startup_s: 10.0,
            min_instances: 1,
            max_instances: 10,
            scale_down_stabilisation_s: 300.0,
            tolerance: 0.1,
        }
    }

    #[test]
    fn the_autoscaler_scales_by_the_utilisation_ratio_within_bounds() {
        let mut a = Autoscaler::new(hpa());
        assert_eq!(a.desired(0, 2, 2, 1.0), 4, "2 × 1.0 / 0.5");
        assert_eq!(a.desired(15 * SECOND, 4, 4, 0.52), 4, "within tolerance: no change");
        assert_eq!(a.desired(30 * SECOND, 4, 4, 0.9), 8, "⌈4 × 1.8⌉ = 8");
        assert_eq!(a.desired(45 * SECOND, 8, 8, 1.0), 10, "clamped to max");
    }

    #[test]
    fn starting_instances_count_as_idle() {
        let mut a = Autoscaler::new(hpa());
        // Two serve at full load while two more start: the load needs 4,
        // which are already there.
        assert_eq!(a.desired(0, 4, 2, 1.0), 4);
    }

    #[test]
    fn scaling_down_waits_for_the_stabilisation_window() {
        let mut a = Autoscaler::new(hpa());
        assert_eq!(a.desired(0, 4, 4, 0.5), 4);
        // Utilisation drops: the recommendation is 1, but 4 was recommended
        // within the last 300 s.
        assert_eq!(a.desired(15 * SECOND, 4, 4, 0.1), 4);
        assert_eq!(a.desired(299 * SECOND, 4, 4, 0.1), 4);
        assert_eq!(a.desired(301 * SECOND, 4, 4, 0.1), 1, "the window has passed");
    }

    fn envoy(max_percent: f64) -> OutlierConfig {
        OutlierConfig {
            consecutive_5xx: 5,
            interval_ms: 10_000.0,
            base_ejection_ms: 30_000.0,
            max_ejection_ms: 300_000.0,
            max_ejection_percent: max_percent,
        }
    }

    #[test]
    fn five_consecutive_5xx_eject_a_host_and_a_success_resets_the_run() {
        let mut d = OutlierDetector::new(envoy(50.0), 2);
        for _ in 0..4 {
            assert_eq!(d.record(0, 0, true, 2), None);
        }
        assert_eq!(d.record(0, 0, false, 2), None, "a success resets the count");
        for _ in 0..4 {
            assert_eq!(d.record(0, 0, true, 2), None);
        }
        assert_eq!(d.record(SECOND, 0, true, 2), Some(31 * SECOND), "base × 1");
        assert!(d.is_ejected(0));
    }

    #[test]
    fn the_maximum_ejection_share_protects_small_clusters() {
        // Envoy's default 10 %: with two hosts, ejecting one is 50 %.
        let mut d = OutlierDetector::new(envoy(10.0), 2);
        for _ in 0..10 {
            assert_eq!(d.record(0, 0, true, 2), None);
        }
        // At 50 %, one of two may go but not both.
        let mut d = OutlierDetector::new(envoy(50.0), 2);
        (0..5).for_each(|_| assert!(d.record(0, 0, true, 2).is_none() || d.is_ejected(0)));
        assert!(d.is_ejected(0));
        (0..5).for_each(|_| assert_eq!(d.record(0, 1, true, 2), None));
        assert!(!d.is_ejected(1));
    }

    #[test]
    fn ejections_return_on_ticks_and_grow_with_repeats() {
        let mut d = OutlierDetector::new(envoy(100.0), 1);
        (0..5).for_each(|_| {
            d.record(0, 0, true, 1);
        });
        assert_eq!(d.hosts[0].ejected_until, Some(30 * SECOND));
        assert!(d.tick(20 * SECOND).is_empty(), "not yet");
        assert_eq!(d.tick(30 * SECOND), vec![0], "back on the first tick after its time");
        // Ejected again straight away: twice the base.
        let until = (0..5).filter_map(|_| d.record(31 * SECOND, 0, true, 1)).last();
        assert_eq!(until, Some(91 * SECOND));
        assert_eq!(d.tick(100 * SECOND), vec![0]);
        // Two healthy intervals bring the multiplier back to zero.
        d.tick(110 * SECOND);
        d.tick(120 * SECOND);
        assert_eq!(d.hosts[0].ejections, 0);
    }

    #[test]
    fn ejection_time_is_capped() {
        let mut config = envoy(100.0);
        config.max_ejection_ms = 50_000.0;
        let mut d = OutlierDetector::new(config, 1);
        let mut now = 0;
        let mut last = 0;
        for _ in 0..5 {
            let until = (0..5).filter_map(|_| d.record(now, 0, true, 1)).last().unwrap();
            last = until - now;
            now = until;
            d.tick(now);
        }
        assert_eq!(last, 50 * SECOND);
    }
}
