//! # brownout-sim
//!
//! The simulation core of Brownout: a deterministic discrete-event model of
//! requests flowing through a graph of services, and of the policies callers
//! put around their calls. It knows nothing of browsers: the web app and the
//! command-line runner both drive it through [`Sim`].
//!
//! ```text
//!  Scenario ──validate──► Sim::new ──► advance_to(t) ──► metrics(), dots()
//!                                  ▲
//!            set_error_rate / set_retries / set_load (live changes)
//! ```
//!
//! Guarantees:
//! - **Deterministic.** The same scenario and seed give the same run, event
//!   for event, on native targets and on wasm: time is integer microseconds,
//!   equal-time events fire in the order they were scheduled, and every
//!   random draw comes from a seeded stream computed without the platform's
//!   maths library ([`rng`]).
//! - **Conservative.** Every client request ends in exactly one
//!   [`Outcome`]; requests sent = requests ended + requests in flight.
//! - **Bounded.** Metrics keep a fixed number of one-second buckets.
//! - **Total.** Invalid scenarios are refused by [`Sim::new`] with every
//!   problem listed; invalid live changes are refused with a
//!   [`ParamError`]. Nothing panics on user input.
//!
//! ```
//! use brownout_sim::{Scenario, Sim, time::SECOND};
//!
//! let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
//! sim.set_error_rate(2, 1.0).unwrap();
//! sim.advance_to(60 * SECOND);
//! // Three tries per hop over three hops: 27 attempts at payments.
//! assert_eq!(sim.measured_amplification(2), Some(27.0));
//! ```

pub mod bulkhead;
pub mod capacity;
pub mod chaos;
pub mod file;
pub mod lesson;
pub mod metrics;
pub mod overrides;
pub mod packed;
pub mod phase;
pub mod policy;
pub mod presets;
pub mod report;
pub mod rng;
pub mod scenario;
mod sim;
pub mod theory;
pub mod time;
mod validate;

pub use file::{parse_scenario, FileError, FileProblem};
pub use lesson::{Compare, Control, Lesson, Measure, PhaseSpec, Question};
pub use metrics::{
    ClientCounters, Counters, EdgeCounters, Metrics, Percentiles, PolicyEvent, PolicyEventKind,
    Rejections, ServiceCounters, ShedCause,
};
pub use presets::{preset, Preset, PRESETS};
pub use report::{Report, SecondReport};
pub use scenario::{
    Arrivals, CallSpec, FailureKind, FanOut, Layer, Load, PolicyLocation, RateChange, Scenario,
    ScriptOutcome, ScriptStep, ServiceSpec, ServiceTime, CLIENT,
};
pub use sim::{
    Dot, DotKind, Edge, EdgePolicies, Node, Outcome, ParamError, Progress, ServiceLoad, Sim,
};
pub use validate::{validate, Problem, ScenarioError};
