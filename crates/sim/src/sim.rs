//! The discrete-event engine.
//!
//! # Entities
//!
//! - A **root** is one client request. It lives until it has an outcome and
//!   every piece of work it set off anywhere in the graph has finished; only
//!   then is it *settled* and its attempts counted towards amplification.
//! - A **call** is one logical call from a caller (the client or a job) to a
//!   callee, wrapped in the caller's policies.
//! - A **frame** is one policy's part in a call, in the configured order of
//!   wrapping (retry, breaker, bulkhead, timeout by default). Frames form a
//!   chain from the outermost policy down to a **leaf**, which is one try on
//!   the wire. A retry frame outlives its attempts and hangs a new chain
//!   under itself for each; a timeout frame that fires cuts its chain off,
//!   and the work below it goes on as orphaned work unless the call cancels
//!   it.
//! - A **job** is one try being served at a service: queued, working, or
//!   waiting on its own calls while holding its worker.
//! - A **message** is a request or a response on its way along an edge: the
//!   dots on the page.
//!
//! # Events
//!
//! Events are ordered by time, then by the order they were scheduled, so
//! that equal-time events fire first in, first out and a run is the same
//! every time. An event that refers to something already gone (the timeout
//! of a frame that has completed, a retry of a call that was cancelled) finds
//! its key stale in its slot map and does nothing: nothing is ever removed
//! from the queue.
//!
//! Timers are the exception that keeps this cheap. Nearly every try is
//! answered long before its timer would fire, so most timers are stale by
//! the time they are due. A timer that falls due no earlier than the last
//! of its kind on its edge (the usual case: a fixed timeout after each try)
//! waits in a first-in-first-out [`TimerQueue`] instead of the heap; the
//! heap holds only one entry per non-empty queue, for its earliest live
//! timer, and stale timers are dropped from the front of the queue without
//! ever going through the heap. Each timer keeps the sequence number it was
//! scheduled with, so events fire in exactly the order they would if every
//! timer were in the heap; only the no-op firings of stale timers are gone.
//!
//! # Life of a call
//!
//! ```text
//!  enter ─► retry ─► breaker ─► bulkhead ─► timeout ─► leaf: request on the wire
//!                      │refuse     │refuse/wait  │fire                │
//!  finish ◄─ retry? ◄──┴─ record ◄─┴─ release ◄──┴──────────◄ response
//! ```
//! Each policy acts once on the way in and once on the way out, in the
//! configured order; the result a policy passes outward is what the policy
//! outside it sees.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::rc::Rc;

use slotmap::{new_key_type, SlotMap};

use crate::bulkhead::BulkheadConfig;
use crate::bulkhead::{Admission, Bulkhead, Rejoined};
use crate::capacity::{Autoscaler, OutlierDetector};
use crate::chaos::{Fault, FaultKind, Hypothesis};
use crate::metrics::{Metrics, PolicyEvent, PolicyEventKind, ShedCause};
use crate::policy::backoff::{Backoff, BackoffConfig, BackoffKind, Jitter};
use crate::policy::breaker::BreakerConfig;
use crate::policy::breaker::{Breaker, BreakerCounters, BreakerState};
use crate::policy::budget::RetryBudget;
use crate::policy::budget::RetryBudgetConfig;
use crate::rng::{streams, Stream};
use crate::scenario::{
    Arrivals, FailureKind, FanOut, Layer, Load, Scenario, ScriptOutcome, ScriptStep, ServiceTime,
    CLIENT,
};
use crate::time::{from_millis, from_secs, Micros, SECOND};
use crate::validate::{limits, validate, ScenarioError};

new_key_type! {
    struct RootKey;
    struct CallKey;
    struct FrameKey;
    struct JobKey;
    struct MsgKey;
}

/// Where a call comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Client,
    Service(usize),
}

/// How a client request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A full answer.
    Success,
    /// A valid answer with parts served by fallbacks.
    Degraded,
    /// The entry service answered with an error.
    Error,
    /// The client stopped waiting.
    Timeout,
    /// Turned away by the entry service or the client's own policies.
    Rejected(FailureKind),
}

/// What a callee answers to one try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    Success { degraded: bool },
    Error,
    Rejected,
}

/// How a try, a policy or a call ended, as the caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Res {
    Ok { degraded: bool },
    Fail(FailureKind),
}

/// What a dot on the page stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DotKind {
    /// A request on its first try.
    FirstTry,
    /// A request on a retry.
    Retry,
    /// A successful, full response.
    Success,
    /// A valid response with parts from fallbacks.
    Degraded,
    /// An error response.
    Error,
    /// A "turned away" response: queue full, shed, or past its deadline.
    Rejected,
    /// A response nobody waits for any more: the caller gave up.
    Orphan,
}

/// One message in flight, for drawing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dot {
    /// Index of the edge it travels on.
    pub edge: usize,
    /// True for a response, travelling from callee back to caller.
    pub response: bool,
    /// How far along, from 0 (just sent) to 1 (arriving).
    pub progress: f32,
    pub kind: DotKind,
}

/// A call edge, as the simulation uses it.
#[derive(Clone, Debug)]
pub struct Edge {
    pub from: Node,
    pub to: usize,
    pub latency: Micros,
    pub timeout: Micros,
    pub retries: u32,
    pub backoff: Micros,
}

/// The live state of one service, summed over its instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceLoad {
    pub busy_workers: u32,
    pub workers: u32,
    pub queued: u32,
    pub queue_capacity: u32,
    /// Tries at the service: queued plus being served.
    pub in_flight: u32,
    /// Instances serving, and instances starting up.
    pub instances: u32,
    pub starting: u32,
}

/// The live state of the policies on one edge, for display.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgePolicies {
    pub breaker: Option<BreakerState>,
    /// Failure rate the breaker computes now, in percent.
    pub failure_rate: Option<f64>,
    /// What the breaker has recorded and refused so far.
    pub breaker_counters: Option<BreakerCounters>,
    /// Bulkhead permits in use, the limit, and calls waiting.
    pub bulkhead: Option<(u32, u32, usize)>,
    /// Tokens left in a token-bucket retry budget.
    pub budget_tokens: Option<f64>,
    /// Calls under way on the edge, and retries among their tries.
    pub active_calls: u32,
    pub active_retries: u32,
}

struct Instance {
    busy: u32,
    queue: VecDeque<JobKey>,
    /// Chaos kills holding the instance down (faults may overlap).
    down: u32,
    state: InstanceState,
    /// Starts so far in this slot: a start-up event for an earlier one,
    /// cancelled since, is recognised and ignored.
    generation: u32,
}

/// Where an instance is in its life under the autoscaler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InstanceState {
    /// Starting up: counted by the autoscaler, not yet routed to.
    Starting,
    /// Serving.
    Ready,
    /// Being removed: finishes its work, takes no new tries.
    Draining,
    /// Removed; kept in place so that indices stay stable.
    Off,
}

impl Instance {
    fn new(state: InstanceState) -> Self {
        Instance { busy: 0, queue: VecDeque::new(), down: 0, state, generation: 0 }
    }
}

struct Service {
    workers: u32,
    queue_capacity: u32,
    service_time: ServiceTime,
    error_rate: f64,
    fan_out: FanOut,
    script: Vec<ScriptStep>,
    /// Requests taken so far: the next script step.
    script_next: u64,
    shed_after: Option<Micros>,
    /// Outgoing edges, called in this order.
    calls: Vec<usize>,
    /// Busy workers and queued tries over all instances, and since when
    /// those counts hold.
    busy: u32,
    queued: u32,
    occupancy_since: Micros,
    instances: Vec<Instance>,
    /// Ready instances, kept in step with the instances' states.
    ready: u32,
    /// Busy and offered worker time since the autoscaler last looked.
    busy_since_sync: u64,
    capacity_since_sync: u64,
    autoscaler: Option<Autoscaler>,
    times: Stream,
    errors: Stream,
}

/// The policies of one edge, with their live state.
struct EdgeState {
    spec: crate::scenario::CallSpec,
    /// The policies around each call, outermost first.
    layers: Rc<[LayerKind]>,
    breaker: Option<Breaker>,
    bulkhead: Option<Bulkhead<FrameKey>>,
    budget: Option<RetryBudget>,
    /// The backoff each new call starts from (decorrelated jitter then
    /// keeps its own history per call).
    backoff: BackoffConfig,
    active_calls: u32,
    active_retries: u32,
    /// The caller's round-robin over the callee's instances.
    next_instance: usize,
    outliers: Option<OutlierDetector>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LayerKind {
    /// The overall deadline: a timeout around everything else.
    Deadline,
    Retry,
    Breaker,
    Bulkhead,
    /// The per-try timeout.
    TryTimeout,
}

fn layers_of(spec: &crate::scenario::CallSpec) -> Rc<[LayerKind]> {
    let mut layers = Vec::new();
    if spec.deadline_ms.is_some() {
        layers.push(LayerKind::Deadline);
    }
    for layer in &spec.order {
        match layer {
            Layer::Retry => layers.push(LayerKind::Retry),
            Layer::Breaker if spec.breaker.is_some() => layers.push(LayerKind::Breaker),
            Layer::Bulkhead if spec.bulkhead.is_some() => layers.push(LayerKind::Bulkhead),
            Layer::Timeout => layers.push(LayerKind::TryTimeout),
            _ => {}
        }
    }
    layers.into()
}

struct Root {
    sent: Micros,
    epoch: u64,
    /// Attempts this request caused at each service.
    attempts: Vec<u32>,
    /// Jobs and request messages of this request still in the graph.
    open: u32,
    outcome: Option<Outcome>,
    /// Successful executions at the callee of each non-idempotent call
    /// made for this request, kept while any work of it goes on: a repeat
    /// is a duplicate side effect, even after the caller has moved on.
    executions: Vec<(CallKey, u32)>,
}

enum Owner {
    Client,
    Job(JobKey),
}

struct Call {
    root: RootKey,
    owner: Owner,
    edge: usize,
    /// The edge's policies as they were when the call began: a live change
    /// applies to the calls that start after it.
    layers: Rc<[LayerKind]>,
    /// Tries sent so far.
    tries: u32,
    started: Micros,
    /// The deadline the caller itself works under, if one was propagated.
    inherited_deadline: Option<Micros>,
    /// The outermost frame now under way.
    top: Option<FrameKey>,
}

enum FrameKind {
    /// One try on the wire: its request while it travels, then its job.
    Leaf {
        instance: usize,
        job: Option<JobKey>,
        request: Option<MsgKey>,
    },
    /// `holds_retry` while a retry it decided on is pending or under way:
    /// Envoy's count of retries in progress, for a percentage budget.
    Retry {
        attempts: u32,
        backoff: Backoff,
        holds_retry: bool,
    },
    Breaker {
        since: Micros,
    },
    Bulkhead {
        holding: bool,
    },
    Timer {
        fires_at: Micros,
        overall: bool,
    },
}

struct Frame {
    call: CallKey,
    edge: usize,
    depth: usize,
    parent: Option<FrameKey>,
    child: Option<FrameKey>,
    kind: FrameKind,
}

enum JobState {
    Queued,
    Working,
    /// Waiting on calls: `pending` are unanswered, `next` is the index of
    /// the next call to make in sequence, `failed` says whether any failed.
    Calling {
        pending: u32,
        next: usize,
        failed: bool,
    },
}

struct Job {
    root: RootKey,
    service: usize,
    instance: usize,
    /// When the try reached the service.
    arrived: Micros,
    /// What a scripted service's step decided: true for an error.
    scripted_error: Option<bool>,
    /// The try this job answers, and the edge it came on.
    leaf: FrameKey,
    call: CallKey,
    edge: usize,
    /// The caller's deadline, when it was propagated.
    deadline: Option<Micros>,
    /// Whether a fallback answered one of its calls.
    degraded: bool,
    /// Its own calls still under way.
    calls: Vec<CallKey>,
    state: JobState,
}

enum Payload {
    Request { leaf: FrameKey, call: CallKey, instance: usize, deadline: Option<Micros> },
    Response { leaf: FrameKey, reply: Reply },
}

struct Message {
    root: RootKey,
    edge: usize,
    sent: Micros,
    arrives: Micros,
    kind: DotKind,
    payload: Payload,
    /// A request whose caller cancelled it on the way: dropped on arrival.
    cancelled: bool,
}

#[derive(Clone, Copy)]
enum Event {
    /// The next client request arrives, if the load generation still matches.
    Arrival(u64),
    /// Constant arrivals plan again at a change of rate, if the load
    /// generation still matches.
    ArrivalReplan(u64),
    Deliver(MsgKey),
    WorkDone(JobKey),
    TimerFires(FrameKey),
    /// The front timer of a [`TimerQueue`] (its index in `Sim::timers`) is
    /// due.
    TimerQueueDue(usize),
    RetryDue(FrameKey),
    BulkheadGiveUp(FrameKey),
    /// A waiter that was handed a bulkhead permit goes on inside.
    BulkheadAdmit(FrameKey),
    BreakerTick(usize),
    FaultStarts(usize),
    FaultEnds(usize),
    CheckHypothesis,
    AutoscaleSync(usize),
    InstanceReady(usize, usize, u32),
    OutlierTick(usize),
}

/// One edge's timers that fall due in the order they were scheduled.
///
/// Why: with a fixed timeout per edge, timers come due first in, first out,
/// so a queue keeps them in order at O(1) a timer, where the heap would
/// sort them at O(log n) each, only to find most of them stale.
#[derive(Default)]
struct TimerQueue {
    /// Timers by (due time, sequence), both non-decreasing front to back.
    pending: VecDeque<QueuedTimer>,
    /// Whether the heap holds an [`Event::TimerQueueDue`] for this queue: it
    /// then stands for the front timer, with that timer's time and sequence.
    in_heap: bool,
}

#[derive(Clone, Copy)]
struct QueuedTimer {
    at: Micros,
    seq: u64,
    frame: FrameKey,
}

/// Lists that requests and jobs leave behind, kept for the next ones.
///
/// Why: every request has a list of attempts per service and every job a
/// list of its calls; allocating and freeing two lists per request was a
/// few per cent of the engine's time. The spares never outnumber the
/// requests and jobs alive at the busiest moment.
#[derive(Default)]
struct Spare {
    attempts: Vec<Vec<u32>>,
    calls: Vec<Vec<CallKey>>,
}

impl Spare {
    /// A list of `n` zeroes.
    fn attempts(&mut self, n: usize) -> Vec<u32> {
        let mut list = self.attempts.pop().unwrap_or_default();
        list.clear();
        list.resize(n, 0);
        list
    }

    fn give_attempts(&mut self, list: Vec<u32>) {
        self.attempts.push(list);
    }

    /// An empty list.
    fn calls(&mut self) -> Vec<CallKey> {
        self.calls.pop().unwrap_or_default()
    }

    fn give_calls(&mut self, mut list: Vec<CallKey>) {
        list.clear();
        self.calls.push(list);
    }
}

/// A chaos fault with what it resolves to in this graph.
struct FaultState {
    spec: Fault,
    service: Option<usize>,
    edge: Option<usize>,
    active: bool,
    /// Ended early by an aborted experiment: a pending start is ignored.
    cancelled: bool,
    /// Instances this fault took down, to bring back at its end.
    killed: Vec<usize>,
}

struct Scheduled {
    at: Micros,
    seq: u64,
    event: Event,
}

// In wasm32 an entry is 32 bytes, which LLVM copies inline even when
// optimising for size (the page's build); at 40 bytes it would call
// `memory.copy` on every move in the heap, which V8 runs several times
// slower (bench/README.md, "The floor"). Keep events to 16 bytes there.
#[cfg(target_arch = "wasm32")]
const _: () = assert!(std::mem::size_of::<Scheduled>() <= 32);

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    // Reversed: the heap's greatest element is the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Whether [`Sim::advance_to`] reached the requested time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Reached,
    /// The event budget ran out first; simulated time stopped at the last
    /// event processed.
    OutOfBudget,
}

/// A parameter change that was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("no service has index {0}")]
    NoSuchService(usize),
    #[error("no call edge has index {0}")]
    NoSuchEdge(usize),
    #[error("{0}")]
    Invalid(String),
    #[error("{name} must be within {min} to {max}, not {value}")]
    OutOfRange { name: &'static str, value: f64, min: f64, max: f64 },
}

/// A running simulation of one scenario.
pub struct Sim {
    scenario: Scenario,
    now: Micros,
    /// The end of the second the metrics are collecting: the first event
    /// at or after it closes that second first.
    second_end: Micros,
    seq: u64,
    events: BinaryHeap<Scheduled>,
    /// True from the moment an event is taken up until it schedules its
    /// first event or ends: the event is then still the heap's top, to be
    /// replaced (see [`Sim::enqueue`]).
    handling: bool,
    /// The timers that wait outside the heap (see the module's notes on
    /// events): two queues per edge, at `2 * edge` its per-try timeouts and
    /// at `2 * edge + 1` its overall deadlines. Why two: each kind alone
    /// falls due in order, but a long deadline queued before a short try
    /// timeout would send every later try timer to the heap.
    timers: Vec<TimerQueue>,
    /// Every timer to the heap, none to the queues: for tests only (see
    /// [`Sim::set_timers_in_heap`]).
    timers_in_heap: bool,
    services: Vec<Service>,
    edges: Vec<Edge>,
    edge_states: Vec<EdgeState>,
    entry: usize,
    /// The client load as it is now (live changes included).
    load: Load,
    /// The highest rate the load ever asks for: Poisson arrivals under a
    /// changing rate are drawn at this rate and thinned.
    peak_rate: f64,
    arrival_generation: u64,
    arrivals: Stream,
    /// Jitter draws for backoff, one stream for all edges.
    jitter: Stream,
    epoch: u64,
    roots: SlotMap<RootKey, Root>,
    calls: SlotMap<CallKey, Call>,
    frames: SlotMap<FrameKey, Frame>,
    jobs: SlotMap<JobKey, Job>,
    messages: SlotMap<MsgKey, Message>,
    metrics: Metrics,
    spare: Spare,
    events_processed: u64,
    changed_at: Micros,
    faults: Vec<FaultState>,
    hypothesis: Option<Hypothesis>,
    hypothesis_pending: bool,
    chaos: Stream,
}

impl Sim {
    /// Builds a simulation at time zero, or says everything wrong with the
    /// scenario.
    pub fn new(scenario: Scenario) -> Result<Sim, ScenarioError> {
        validate(&scenario)?;
        let index_of = |name: &str| scenario.services.iter().position(|s| s.name == name);

        let edges: Vec<Edge> = scenario
            .calls
            .iter()
            .map(|c| Edge {
                from: if c.from == CLIENT {
                    Node::Client
                } else {
                    Node::Service(index_of(&c.from).unwrap_or(0))
                },
                to: index_of(&c.to).unwrap_or(0),
                latency: from_millis(c.latency_ms),
                timeout: from_millis(c.timeout_ms).max(1),
                retries: c.retries,
                backoff: from_millis(c.backoff_ms),
            })
            .collect();
        let edge_states = scenario
            .calls
            .iter()
            .map(|c| EdgeState {
                spec: c.clone(),
                layers: layers_of(c),
                breaker: c.breaker.as_ref().map(Breaker::new),
                bulkhead: c.bulkhead.clone().map(Bulkhead::new),
                budget: c.retry_budget.as_ref().map(RetryBudget::new),
                backoff: backoff_of(c),
                active_calls: 0,
                active_retries: 0,
                next_instance: 0,
                outliers: c.outlier_detection.clone().map(|o| OutlierDetector::new(o, 0)),
            })
            .collect();
        let entry = edges.iter().position(|e| e.from == Node::Client).unwrap_or(0);
        let seed = scenario.seed;
        let services = scenario
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| Service {
                workers: s.workers,
                queue_capacity: s.queue,
                service_time: s.service_time.clone(),
                error_rate: s.error_rate,
                fan_out: s.fan_out,
                script: s.script.clone(),
                script_next: 0,
                shed_after: s.shed_after_queue_ms.map(from_millis),
                calls: (0..edges.len()).filter(|&e| edges[e].from == Node::Service(i)).collect(),
                busy: 0,
                queued: 0,
                occupancy_since: 0,
                instances: (0..s.instances).map(|_| Instance::new(InstanceState::Ready)).collect(),
                ready: s.instances,
                busy_since_sync: 0,
                capacity_since_sync: 0,
                autoscaler: s.autoscale.clone().map(Autoscaler::new),
                times: Stream::new(seed, streams::service_time(i)),
                errors: Stream::new(seed, streams::errors(i)),
            })
            .collect();

        let mut sim = Sim {
            metrics: Metrics::new(scenario.services.len(), edges.len()),
            load: scenario.load.clone(),
            peak_rate: peak_rate(&scenario.load),
            arrivals: Stream::new(seed, streams::ARRIVALS),
            jitter: Stream::new(seed, streams::JITTER),
            scenario,
            now: 0,
            second_end: SECOND,
            seq: 0,
            events: BinaryHeap::new(),
            handling: false,
            timers: (0..2 * edges.len()).map(|_| TimerQueue::default()).collect(),
            timers_in_heap: false,
            services,
            edges,
            edge_states,
            entry,
            arrival_generation: 0,
            epoch: 0,
            roots: SlotMap::with_key(),
            calls: SlotMap::with_key(),
            frames: SlotMap::with_key(),
            jobs: SlotMap::with_key(),
            messages: SlotMap::with_key(),
            spare: Spare::default(),
            events_processed: 0,
            changed_at: 0,
            faults: Vec::new(),
            hypothesis: None,
            hypothesis_pending: false,
            chaos: Stream::new(seed, streams::CHAOS),
        };
        sim.schedule_arrival();
        sim.plan_chaos();
        for service in 0..sim.services.len() {
            if let Some(period) = sim.services[service].autoscaler.as_ref().map(Autoscaler::period)
            {
                sim.schedule(period, Event::AutoscaleSync(service));
            }
        }
        for edge in 0..sim.edge_states.len() {
            if let Some(interval) = sim.edge_states[edge].outliers.as_ref().map(|o| o.interval()) {
                sim.schedule(interval, Event::OutlierTick(edge));
            }
        }
        Ok(sim)
    }

    // ----- reading ------------------------------------------------------

    /// The current simulated time.
    pub fn now(&self) -> Micros {
        self.now
    }

    /// The scenario as it runs now, live changes included.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Index of the edge on which client requests enter.
    pub fn entry_edge(&self) -> usize {
        self.entry
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Events processed since the start of the run.
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Client requests that have not ended yet.
    pub fn requests_in_flight(&self) -> u64 {
        self.roots.values().filter(|r| r.outcome.is_none()).count() as u64
    }

    /// Live entities: roots, calls, frames, jobs and messages. For tests
    /// that check nothing is leaked.
    #[doc(hidden)]
    pub fn live_entities(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.roots.len(),
            self.calls.len(),
            self.frames.len(),
            self.jobs.len(),
            self.messages.len(),
        )
    }

    /// The client's request rate now, in requests per second.
    pub fn current_rate(&self) -> f64 {
        rate_at(&self.load, self.now)
    }

    /// Workers and queues of a service now.
    pub fn service_load(&self, service: usize) -> ServiceLoad {
        let Some(s) = self.services.get(service) else {
            return ServiceLoad::default();
        };
        let n = s.ready;
        let starting =
            s.instances.iter().filter(|i| i.state == InstanceState::Starting).count() as u32;
        ServiceLoad {
            busy_workers: s.busy,
            workers: s.workers * working_instances(s),
            queued: s.queued,
            queue_capacity: s.queue_capacity * n,
            in_flight: s.busy + s.queued,
            instances: n,
            starting,
        }
    }

    /// The live state of an edge's policies. Reading it changes nothing.
    pub fn edge_policies(&self, edge: usize) -> Option<EdgePolicies> {
        let e = self.edge_states.get(edge)?;
        Some(EdgePolicies {
            breaker: e.breaker.as_ref().map(Breaker::state),
            failure_rate: e.breaker.as_ref().and_then(|b| b.failure_rate(self.now)),
            breaker_counters: e.breaker.as_ref().map(Breaker::counters),
            bulkhead: e.bulkhead.as_ref().map(|b| {
                let (used, limit) = b.in_use();
                (used, limit, b.waiting())
            }),
            budget_tokens: e.budget.as_ref().and_then(RetryBudget::tokens),
            active_calls: e.active_calls,
            active_retries: e.active_retries,
        })
    }

    /// Number of hops from the client to a service along the longest path.
    pub fn depth(&self, service: usize) -> u32 {
        let mut best = 0;
        for e in &self.edges {
            if e.to == service {
                let above = match e.from {
                    Node::Client => 0,
                    Node::Service(s) => self.depth(s),
                };
                best = best.max(above + 1);
            }
        }
        best
    }

    /// Every message in flight, for drawing.
    pub fn dots(&self) -> impl Iterator<Item = Dot> + '_ {
        let now = self.now;
        self.messages.values().map(move |m| {
            let span = m.arrives.saturating_sub(m.sent).max(1);
            Dot {
                edge: m.edge,
                response: matches!(m.payload, Payload::Response { .. }),
                progress: (now.saturating_sub(m.sent) as f32 / span as f32).clamp(0.0, 1.0),
                kind: m.kind,
            }
        })
    }

    /// Attempts at `service` per client request, over the requests that
    /// settled recently under the current parameters; `None` until one has.
    pub fn measured_amplification(&self, service: usize) -> Option<f64> {
        let settled = self.metrics.recent_settled(self.now);
        if settled.requests == 0 {
            return None;
        }
        settled.attempts.get(service).map(|&a| a as f64 / settled.requests as f64)
    }

    // ----- changing parameters while running -----------------------------

    /// Sets a service's error probability (0 to 1).
    pub fn set_error_rate(&mut self, service: usize, p: f64) -> Result<(), ParamError> {
        check("error rate", p, 0.0, 1.0)?;
        let s = self.services.get_mut(service).ok_or(ParamError::NoSuchService(service))?;
        s.error_rate = p;
        self.scenario.services[service].error_rate = p;
        self.parameters_changed();
        Ok(())
    }

    /// Sets a service's time to serve one try: its distribution keeps its
    /// shape and is scaled so that its mean is `mean_ms` (a scripted step
    /// with its own duration keeps it). Tries already being served keep the
    /// time they drew.
    pub fn set_mean_service_time(
        &mut self,
        service: usize,
        mean_ms: f64,
    ) -> Result<(), ParamError> {
        check("service time", mean_ms, 0.001, limits::MAX_MS)?;
        let s = self.services.get_mut(service).ok_or(ParamError::NoSuchService(service))?;
        let scaled = match s.service_time {
            ServiceTime::Fixed { .. } => ServiceTime::Fixed { ms: mean_ms },
            ServiceTime::Exponential { .. } => ServiceTime::Exponential { mean_ms },
            ServiceTime::LogNormal { sigma, .. } => {
                // The mean of a log-normal is median × e^(σ²/2).
                let median_ms = mean_ms / libm::exp(sigma * sigma / 2.0);
                ServiceTime::LogNormal { median_ms, sigma }
            }
        };
        s.service_time = scaled.clone();
        self.scenario.services[service].service_time = scaled;
        self.parameters_changed();
        Ok(())
    }

    /// Sets the retries of every call edge.
    pub fn set_retries(&mut self, retries: u32) -> Result<(), ParamError> {
        check("retries", retries as f64, 0.0, limits::MAX_RETRIES as f64)?;
        for ((edge, spec), state) in
            self.edges.iter_mut().zip(&mut self.scenario.calls).zip(&mut self.edge_states)
        {
            edge.retries = retries;
            spec.retries = retries;
            state.spec.retries = retries;
        }
        self.parameters_changed();
        Ok(())
    }

    /// Sets the client's request rate, in requests per second. A rate set
    /// by hand replaces the scenario's schedule of rates.
    pub fn set_load(&mut self, rate_per_sec: f64) -> Result<(), ParamError> {
        check("load", rate_per_sec, 0.0, limits::MAX_RATE)?;
        self.load = Load { rate_per_sec, schedule: Vec::new(), ..self.load.clone() };
        self.scenario.load = self.load.clone();
        self.peak_rate = rate_per_sec;
        // Poisson arrivals are memoryless: drawing the next gap afresh at
        // the new rate is exact. The pending arrival goes stale.
        self.arrival_generation += 1;
        self.schedule_arrival();
        self.parameters_changed();
        Ok(())
    }

    /// Sets the per-try timeout of one edge, in milliseconds.
    pub fn set_timeout(&mut self, edge: usize, timeout_ms: f64) -> Result<(), ParamError> {
        check("timeout", timeout_ms, 1.0, limits::MAX_MS)?;
        let e = self.edges.get_mut(edge).ok_or(ParamError::NoSuchEdge(edge))?;
        e.timeout = from_millis(timeout_ms);
        self.scenario.calls[edge].timeout_ms = timeout_ms;
        self.edge_states[edge].spec.timeout_ms = timeout_ms;
        self.parameters_changed();
        Ok(())
    }

    /// Puts a circuit breaker on an edge (a fresh one, closed), or takes it
    /// off with `None`. Calls already under way keep the policies they
    /// started with.
    pub fn set_breaker(
        &mut self,
        edge: usize,
        breaker: Option<BreakerConfig>,
    ) -> Result<(), ParamError> {
        self.change_policies(edge, |spec| spec.breaker = breaker)
    }

    /// Puts a retry budget on an edge, or takes it off.
    pub fn set_retry_budget(
        &mut self,
        edge: usize,
        budget: Option<RetryBudgetConfig>,
    ) -> Result<(), ParamError> {
        self.change_policies(edge, |spec| spec.retry_budget = budget)
    }

    /// Puts a bulkhead on an edge, or takes it off.
    pub fn set_bulkhead(
        &mut self,
        edge: usize,
        bulkhead: Option<BulkheadConfig>,
    ) -> Result<(), ParamError> {
        self.change_policies(edge, |spec| spec.bulkhead = bulkhead)
    }

    /// Sets an edge's backoff between retries.
    pub fn set_backoff(&mut self, edge: usize, backoff: BackoffConfig) -> Result<(), ParamError> {
        self.change_policies(edge, |spec| spec.backoff = Some(backoff))
    }

    /// Sends every timer scheduled from now on to the heap as a plain
    /// `TimerFires` event, as the engine did before the timer queues;
    /// nothing else changes. It exists only so that tests can compare the
    /// two schedules: the same events in the same order, only the no-op
    /// firings of stale timers counted in [`Sim::events_processed`].
    /// Timers already queued stay in their queues.
    #[doc(hidden)]
    pub fn set_timers_in_heap(&mut self, on: bool) {
        self.timers_in_heap = on;
    }

    /// Applies a change to an edge's call spec, checks it as a scenario
    /// would be checked, and rebuilds the edge's policies from it.
    fn change_policies(
        &mut self,
        edge: usize,
        change: impl FnOnce(&mut crate::scenario::CallSpec),
    ) -> Result<(), ParamError> {
        let mut spec = self.scenario.calls.get(edge).ok_or(ParamError::NoSuchEdge(edge))?.clone();
        change(&mut spec);
        let mut problems = Vec::new();
        let field = format!("calls[{edge}]");
        if let Some(b) = &spec.breaker {
            b.validate(&format!("{field}.breaker"), &mut problems);
        }
        if let Some(b) = &spec.retry_budget {
            b.validate(&format!("{field}.retry_budget"), &mut problems);
        }
        if let Some(b) = &spec.bulkhead {
            b.validate(&format!("{field}.bulkhead"), &mut problems);
        }
        if let Some(b) = &spec.backoff {
            b.validate(&format!("{field}.backoff"), &mut problems);
        }
        if let Some(problem) = problems.into_iter().next() {
            return Err(ParamError::Invalid(problem.to_string()));
        }
        let state = &mut self.edge_states[edge];
        if state.spec.breaker != spec.breaker {
            state.breaker = spec.breaker.as_ref().map(Breaker::new);
        }
        if state.spec.retry_budget != spec.retry_budget {
            state.budget = spec.retry_budget.as_ref().map(RetryBudget::new);
        }
        // Calls that go on past the bulkhead now: waiters let in without a
        // permit when it goes, or with one when a bigger limit has room.
        let mut released = Vec::new();
        let mut rejoined = None;
        if state.spec.bulkhead != spec.bulkhead {
            match (state.bulkhead.as_mut(), spec.bulkhead.clone()) {
                // A new size or kind: the calls holding permits keep them
                // and count against the new limit; the waiters keep their
                // place, or ask again under a new kind's rules (see
                // `Bulkhead::reconfigure`).
                (Some(bulkhead), Some(config)) => {
                    rejoined = Some(bulkhead.reconfigure(config, self.now))
                }
                (old, config) => {
                    // Put on: the calls already under way started without
                    // one and stay outside it, as every policy applies to
                    // the calls that start after a change. Taken off: its
                    // waiters go on, and its holders return their permits
                    // to nothing.
                    if let Some(old) = old {
                        released = old.drain_waiting();
                    }
                    state.bulkhead = config.map(Bulkhead::new);
                    for frame in self.frames.values_mut() {
                        if frame.edge == edge {
                            if let FrameKind::Bulkhead { holding } = &mut frame.kind {
                                *holding = false;
                            }
                        }
                    }
                }
            }
        }
        let state = &mut self.edge_states[edge];
        state.backoff = backoff_of(&spec);
        state.layers = layers_of(&spec);
        state.spec = spec.clone();
        self.scenario.calls[edge] = spec;
        for frame in released {
            if let Some(f) = self.frames.get(frame) {
                let (call, depth) = (f.call, f.depth);
                self.enter(call, depth + 1, Some(frame));
            }
        }
        if let Some(Rejoined { admitted, give_up, refused }) = rejoined {
            // As when a holder returns its permit: the waiter holds one now
            // and goes on inside in an event of its own.
            for frame in admitted {
                if let Some(f) = self.frames.get_mut(frame) {
                    f.kind = FrameKind::Bulkhead { holding: true };
                    self.schedule(self.now, Event::BulkheadAdmit(frame));
                }
            }
            for (frame, at) in give_up {
                self.schedule(at, Event::BulkheadGiveUp(frame));
            }
            for frame in refused {
                if let Some(f) = self.frames.remove(frame) {
                    self.event(Some(edge), None, PolicyEventKind::BulkheadFull);
                    self.complete(f.call, f.parent, Res::Fail(FailureKind::BulkheadFull));
                }
            }
        }
        self.parameters_changed();
        Ok(())
    }

    /// When the parameters last changed: the measured amplification covers
    /// requests sent since then.
    pub fn last_change(&self) -> Micros {
        self.changed_at
    }

    /// Starts measuring amplification afresh: requests that began before
    /// the change no longer count.
    fn parameters_changed(&mut self) {
        self.epoch += 1;
        self.changed_at = self.now;
        self.metrics.restart_amplification();
        // A change can count at once (a bulkhead swapped lets its waiters
        // go on): keep the open second's bucket up to the totals, as after
        // every step.
        self.metrics.sync_open_second();
    }

    // ----- running -------------------------------------------------------

    /// Runs every event before time `t`, then sets the clock to `t`.
    ///
    /// The end is exclusive, so that after `advance_to(n * SECOND)` the
    /// seconds 0 to n − 1 are complete and nothing has been counted in
    /// second n yet: an event due exactly at `t` runs in the next advance.
    pub fn advance_to(&mut self, t: Micros) {
        while self.advance_to_within(t, u64::MAX) == Progress::OutOfBudget {}
    }

    /// Runs events before time `t`, but at most `budget` of them: a frame
    /// of animation must never stall, whatever the load.
    pub fn advance_to_within(&mut self, t: Micros, budget: u64) -> Progress {
        let mut done = 0;
        let mut progress = Progress::Reached;
        while let Some(next) = self.events.peek() {
            if next.at >= t {
                break;
            }
            if done == budget {
                progress = Progress::OutOfBudget;
                break;
            }
            let (at, event) = (next.at, next.event);
            // The event stays at the top while it is handled: the first
            // event it schedules takes its place (see `enqueue`).
            self.handling = true;
            if at >= self.second_end {
                self.close_seconds_to(at);
            }
            self.now = at;
            self.handle(event);
            if self.handling {
                self.handling = false;
                self.events.pop();
            }
            done += 1;
        }
        self.events_processed += done;
        if progress == Progress::Reached {
            self.now = self.now.max(t);
        }
        // Bring time-weighted figures up to the clock, so that what is read
        // now is complete.
        self.close_seconds_to(self.now);
        for service in 0..self.services.len() {
            self.account_occupancy(service, self.now);
        }
        self.metrics.sync_open_second();
        progress
    }

    /// Closes every second that ends at or before `t`: each service's
    /// occupancy is accounted up to the second's end, then the second's
    /// counts and latencies go into its bucket.
    fn close_seconds_to(&mut self, t: Micros) {
        while t >= self.second_end {
            let end = self.second_end;
            for service in 0..self.services.len() {
                self.account_occupancy(service, end);
            }
            self.metrics.close_second();
            self.second_end = (self.metrics.open_second() + 1) * SECOND;
        }
    }

    fn schedule(&mut self, at: Micros, event: Event) {
        self.seq += 1;
        self.enqueue(Scheduled { at, seq: self.seq, event });
    }

    /// Puts an entry in the heap. While an event is being handled it is
    /// still the heap's top, and the first entry it schedules overwrites it
    /// and sinks to its place: one sift where a pop and a push take two.
    /// The heap orders entries by (time, sequence), both unique together,
    /// so the order events come out in is the same either way.
    fn enqueue(&mut self, entry: Scheduled) {
        if self.handling {
            self.handling = false;
            *self.events.peek_mut().expect("the event being handled is the top") = entry;
        } else {
            self.events.push(entry);
        }
    }

    /// Schedules the timer of `frame` on `edge` (an `overall` deadline or a
    /// per-try timeout): in its queue when it falls due no earlier than the
    /// queue's last timer (the queue stays in order), in the heap otherwise
    /// (a shorter inherited deadline, a timeout changed while the run goes
    /// on), and always in the heap under [`Sim::set_timers_in_heap`].
    fn schedule_timer(&mut self, edge: usize, overall: bool, at: Micros, frame: FrameKey) {
        let index = 2 * edge + usize::from(overall);
        let queue = &mut self.timers[index];
        if self.timers_in_heap || queue.pending.back().is_some_and(|last| last.at > at) {
            self.schedule(at, Event::TimerFires(frame));
            return;
        }
        self.seq += 1;
        let seq = self.seq;
        queue.pending.push_back(QueuedTimer { at, seq, frame });
        if !queue.in_heap {
            queue.in_heap = true;
            self.enqueue(Scheduled { at, seq, event: Event::TimerQueueDue(index) });
        }
    }

    /// The front timer of queue `index` is due: it fires if its frame is
    /// still there. Then the stale timers behind it (their tries were
    /// answered) are dropped, and the heap is given the next live one.
    fn timer_queue_due(&mut self, index: usize) {
        // `in_heap` stays set while the timer fires: a timer that firing
        // schedules in this queue (a retry inside the timeout sends a new
        // try at once) joins it without a heap entry of its own, since the
        // one pushed below stands for the whole queue.
        let due = self.timers[index].pending.pop_front().expect("a queue in the heap has a timer");
        self.timer_fires(due.frame);
        let queue = &mut self.timers[index];
        while queue.pending.front().is_some_and(|t| !self.frames.contains_key(t.frame)) {
            queue.pending.pop_front();
        }
        match queue.pending.front() {
            Some(&QueuedTimer { at, seq, .. }) => {
                self.enqueue(Scheduled { at, seq, event: Event::TimerQueueDue(index) })
            }
            None => queue.in_heap = false,
        }
    }

    fn event(&mut self, edge: Option<usize>, service: Option<usize>, kind: PolicyEventKind) {
        // Refusals at the caller are counted per edge as well as logged:
        // the log keeps only the latest events, the counters keep them all.
        if let Some(e) = edge {
            match kind {
                PolicyEventKind::BreakerRejected => {
                    self.metrics.record(|m| m.edges[e].breaker_rejected += 1)
                }
                PolicyEventKind::BulkheadFull => {
                    self.metrics.record(|m| m.edges[e].bulkhead_full += 1)
                }
                PolicyEventKind::BudgetExhausted => {
                    self.metrics.record(|m| m.edges[e].budget_exhausted += 1)
                }
                _ => {}
            }
        }
        self.metrics.record_event(PolicyEvent { at_us: self.now, edge, service, kind });
    }

    /// Schedules the next arrival, or the next candidate arrival when the
    /// rate changes over time.
    ///
    /// Poisson arrivals under a changing rate r(t) are drawn by thinning: a
    /// candidate stream at the peak rate, each candidate kept with
    /// probability r(t) / peak. Constant arrivals are spaced 1 / r(now)
    /// apart; at a rate of zero they wait for the next scheduled change.
    fn schedule_arrival(&mut self) {
        let gap = match self.load.arrivals {
            Arrivals::Poisson => {
                if self.peak_rate <= 0.0 {
                    return;
                }
                let gap = self.arrivals.exponential(SECOND as f64 / self.peak_rate);
                (gap.round() as Micros).max(1)
            }
            Arrivals::Constant => {
                // The next arrival at today's rate, unless the rate changes
                // first: then plan again from the change, sending nothing.
                let rate = rate_at(&self.load, self.now);
                let gap = (rate > 0.0).then(|| ((SECOND as f64 / rate).round() as Micros).max(1));
                let look = next_look(&self.load, self.now).map(|at| at - self.now);
                match (gap, look) {
                    (Some(gap), Some(look)) if look < gap => {
                        let at = self.now + look.max(1);
                        self.schedule(at, Event::ArrivalReplan(self.arrival_generation));
                        return;
                    }
                    (Some(gap), _) => gap,
                    (None, Some(look)) => {
                        let at = self.now + look.max(1);
                        self.schedule(at, Event::ArrivalReplan(self.arrival_generation));
                        return;
                    }
                    (None, None) => return,
                }
            }
        };
        self.schedule(self.now.saturating_add(gap), Event::Arrival(self.arrival_generation));
    }

    /// Whether a candidate arrival now is a real one.
    fn keep_arrival(&mut self) -> bool {
        match self.load.arrivals {
            Arrivals::Constant => rate_at(&self.load, self.now) > 0.0,
            // Without a schedule every candidate is kept, with no draw.
            Arrivals::Poisson if self.load.schedule.is_empty() => true,
            Arrivals::Poisson => {
                let share = rate_at(&self.load, self.now) / self.peak_rate;
                self.arrivals.chance(share)
            }
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival(generation) => {
                if generation == self.arrival_generation {
                    if self.keep_arrival() {
                        self.client_request();
                    }
                    self.schedule_arrival();
                }
            }
            Event::ArrivalReplan(generation) => {
                if generation == self.arrival_generation {
                    self.schedule_arrival();
                }
            }
            Event::Deliver(msg) => self.deliver(msg),
            Event::WorkDone(job) => self.work_done(job),
            Event::TimerFires(frame) => self.timer_fires(frame),
            Event::TimerQueueDue(index) => self.timer_queue_due(index),
            Event::RetryDue(frame) => {
                if self.frames.contains_key(frame) {
                    self.retry_attempt(frame);
                }
            }
            Event::BulkheadGiveUp(frame) => self.bulkhead_give_up(frame),
            Event::BulkheadAdmit(frame) => {
                if let Some(f) = self.frames.get(frame) {
                    let (call, depth) = (f.call, f.depth);
                    self.enter(call, depth + 1, Some(frame));
                }
            }
            Event::FaultStarts(i) => self.fault_starts(i),
            Event::FaultEnds(i) => self.fault_ends(i),
            Event::CheckHypothesis => self.check_hypothesis(),
            Event::AutoscaleSync(service) => self.autoscale(service),
            Event::InstanceReady(service, instance, generation) => {
                self.instance_ready(service, instance, generation)
            }
            Event::OutlierTick(edge) => self.outlier_tick(edge),
            Event::BreakerTick(edge) => {
                if let Some(b) = self.edge_states[edge].breaker.as_mut() {
                    b.tick(self.now);
                }
                self.breaker_transitions(edge);
            }
        }
    }

    fn client_request(&mut self) {
        let root = self.roots.insert(Root {
            sent: self.now,
            epoch: self.epoch,
            attempts: self.spare.attempts(self.services.len()),
            open: 0,
            outcome: None,
            executions: Vec::new(),
        });
        self.metrics.record(|c| c.client.requests += 1);
        self.start_call(root, Owner::Client, self.entry, None);
    }

    // ----- calls and their policies ----------------------------------------

    fn start_call(
        &mut self,
        root: RootKey,
        owner: Owner,
        edge: usize,
        inherited_deadline: Option<Micros>,
    ) -> CallKey {
        let layers = self.edge_states[edge].layers.clone();
        let call = self.calls.insert(Call {
            root,
            owner,
            edge,
            layers,
            tries: 0,
            started: self.now,
            inherited_deadline,
            top: None,
        });
        self.edge_states[edge].active_calls += 1;
        self.metrics.record(|m| m.edges[edge].calls += 1);
        self.enter(call, 0, None);
        call
    }

    fn new_frame(
        &mut self,
        call: CallKey,
        depth: usize,
        parent: Option<FrameKey>,
        kind: FrameKind,
    ) -> FrameKey {
        let edge = self.calls[call].edge;
        let frame = self.frames.insert(Frame { call, edge, depth, parent, child: None, kind });
        match parent {
            Some(p) => self.frames[p].child = Some(frame),
            None => self.calls[call].top = Some(frame),
        }
        frame
    }

    /// The earliest time any timer around `frame` (or the caller's own
    /// propagated deadline) gives up: what a propagated deadline carries.
    fn deadline_above(&self, call: CallKey, mut frame: Option<FrameKey>) -> Option<Micros> {
        let mut earliest = self.calls[call].inherited_deadline;
        while let Some(f) = frame {
            let Some(fr) = self.frames.get(f) else { break };
            if let FrameKind::Timer { fires_at, .. } = fr.kind {
                earliest = Some(earliest.map_or(fires_at, |e| e.min(fires_at)));
            }
            frame = fr.parent;
        }
        earliest
    }

    /// Enters the policy at `depth` of a call's stack, under `parent`.
    fn enter(&mut self, call: CallKey, depth: usize, parent: Option<FrameKey>) {
        let edge = self.calls[call].edge;
        let Some(&layer) = self.calls[call].layers.get(depth) else {
            self.send_try(call, depth, parent);
            return;
        };
        match layer {
            LayerKind::Retry => {
                let backoff = Backoff::new(&self.edge_states[edge].backoff);
                let kind = FrameKind::Retry { attempts: 0, backoff, holds_retry: false };
                let frame = self.new_frame(call, depth, parent, kind);
                self.retry_attempt(frame);
            }
            LayerKind::Breaker => {
                let admitted = match self.edge_states[edge].breaker.as_mut() {
                    Some(b) => b.try_acquire(self.now).is_ok(),
                    None => true,
                };
                self.breaker_transitions(edge);
                if admitted {
                    let frame =
                        self.new_frame(call, depth, parent, FrameKind::Breaker { since: self.now });
                    self.enter(call, depth + 1, Some(frame));
                } else {
                    self.event(Some(edge), None, PolicyEventKind::BreakerRejected);
                    self.complete(call, parent, Res::Fail(FailureKind::BreakerOpen));
                }
            }
            LayerKind::Bulkhead => {
                let frame =
                    self.new_frame(call, depth, parent, FrameKind::Bulkhead { holding: false });
                let admission = match self.edge_states[edge].bulkhead.as_mut() {
                    Some(b) => b.try_enter(frame, self.now),
                    None => Admission::Admitted,
                };
                match admission {
                    Admission::Admitted => {
                        self.frames[frame].kind = FrameKind::Bulkhead { holding: true };
                        self.enter(call, depth + 1, Some(frame));
                    }
                    Admission::Waiting { give_up_at } => {
                        if let Some(at) = give_up_at {
                            self.schedule(at, Event::BulkheadGiveUp(frame));
                        }
                    }
                    Admission::Refused => {
                        self.frames.remove(frame);
                        self.event(Some(edge), None, PolicyEventKind::BulkheadFull);
                        self.complete(call, parent, Res::Fail(FailureKind::BulkheadFull));
                    }
                }
            }
            LayerKind::TryTimeout | LayerKind::Deadline => {
                let overall = layer == LayerKind::Deadline;
                let spec = &self.edge_states[edge].spec;
                let mut fires_at = if overall {
                    let deadline = from_millis(spec.deadline_ms.unwrap_or(0.0)).max(1);
                    self.calls[call].started.saturating_add(deadline)
                } else {
                    self.now.saturating_add(self.edges[edge].timeout)
                };
                // A caller that knows its own caller's deadline does not wait
                // past it.
                if let Some(d) = self.calls[call].inherited_deadline {
                    fires_at = fires_at.min(d.max(self.now + 1));
                }
                let frame =
                    self.new_frame(call, depth, parent, FrameKind::Timer { fires_at, overall });
                self.schedule_timer(edge, overall, fires_at, frame);
                self.enter(call, depth + 1, Some(frame));
            }
        }
    }

    fn retry_attempt(&mut self, frame: FrameKey) {
        let (call, depth) = (self.frames[frame].call, self.frames[frame].depth);
        if let FrameKind::Retry { attempts, .. } = &mut self.frames[frame].kind {
            *attempts += 1;
        }
        self.enter(call, depth + 1, Some(frame));
    }

    /// The leaf: one try goes on the wire.
    fn send_try(&mut self, call: CallKey, depth: usize, parent: Option<FrameKey>) {
        let c = &mut self.calls[call];
        c.tries += 1;
        let (root, edge, try_no) = (c.root, c.edge, c.tries);
        let retry = try_no > 1;
        let instance = self.pick_instance(edge);
        let kind = FrameKind::Leaf { instance, job: None, request: None };
        let leaf = self.new_frame(call, depth, parent, kind);
        self.metrics.record(|m| {
            m.edges[edge].tries += 1;
            m.edges[edge].retries += retry as u64;
        });
        if retry {
            self.event(Some(edge), None, PolicyEventKind::Retry { try_no });
        }
        let deadline = if self.edge_states[edge].spec.propagate_deadline {
            self.deadline_above(call, parent)
        } else {
            None
        };
        self.roots[root].open += 1;
        let dot = if retry { DotKind::Retry } else { DotKind::FirstTry };
        let request =
            self.send(root, edge, dot, Payload::Request { leaf, call, instance, deadline });
        if let Some(FrameKind::Leaf { request: slot, .. }) =
            self.frames.get_mut(leaf).map(|f| &mut f.kind)
        {
            *slot = request;
        }
    }

    /// A result comes out of the frame below `parent`: hand it to `parent`,
    /// or finish the call when there is none. A parent that is gone was cut
    /// off by a timer: the result is orphaned and goes no further.
    fn complete(&mut self, call: CallKey, parent: Option<FrameKey>, res: Res) {
        match parent {
            None => self.finish_call(call, res),
            Some(frame) if self.frames.contains_key(frame) => self.exit(frame, res),
            Some(_) => {}
        }
    }

    /// The policy of `frame` sees the result from inside it.
    fn exit(&mut self, frame: FrameKey, res: Res) {
        let f = &self.frames[frame];
        let (call, parent, edge) = (f.call, f.parent, f.edge);
        match &f.kind {
            &FrameKind::Leaf { instance, .. } => {
                // A late answer to a try the caller gave up on tells its
                // outlier detection nothing: the timeout already counted.
                let awaited = self.chain_alive(frame);
                self.remove_leaf(frame);
                if awaited {
                    self.record_outlier(edge, instance, res);
                }
                self.complete(call, parent, res);
            }
            FrameKind::Timer { .. } => {
                self.frames.remove(frame);
                self.complete(call, parent, res);
            }
            &FrameKind::Bulkhead { holding } => {
                self.frames.remove(frame);
                if holding {
                    self.release_bulkhead(edge);
                }
                self.complete(call, parent, res);
            }
            &FrameKind::Breaker { since } => {
                self.frames.remove(frame);
                if let Some(b) = self.edge_states[edge].breaker.as_mut() {
                    b.on_result(self.now, self.now - since, matches!(res, Res::Fail(_)));
                }
                self.breaker_transitions(edge);
                self.complete(call, parent, res);
            }
            &FrameKind::Retry { attempts, holds_retry, .. } => {
                let state = &mut self.edge_states[edge];
                // The retry this frame held, if any, has had its answer.
                if holds_retry {
                    state.active_retries -= 1;
                }
                // gRPC charges the token bucket only for failures the call
                // would retry.
                if let Some(budget) = state.budget.as_mut() {
                    match res {
                        Res::Ok { .. } => budget.on_success(),
                        Res::Fail(kind) if state.spec.retry_on.contains(&kind) => {
                            budget.on_failure()
                        }
                        Res::Fail(_) => {}
                    }
                }
                let retry = self.should_retry(edge, attempts, res);
                let FrameKind::Retry { backoff, holds_retry, .. } = &mut self.frames[frame].kind
                else {
                    unreachable!("matched above")
                };
                *holds_retry = retry;
                if retry {
                    // As Envoy, a retry counts as in progress from the
                    // moment it is decided, through its pause.
                    let delay = backoff.delay(attempts, &mut self.jitter);
                    self.edge_states[edge].active_retries += 1;
                    self.schedule(self.now.saturating_add(delay), Event::RetryDue(frame));
                } else {
                    self.frames.remove(frame);
                    self.complete(call, parent, res);
                }
            }
        }
    }

    /// Whether an attempt that ended with `res`, the `attempts`-th, is
    /// retried: a failure of a kind the edge retries, with retries left, a
    /// call safe to repeat, and room in the retry budget.
    fn should_retry(&mut self, edge: usize, attempts: u32, res: Res) -> bool {
        let Res::Fail(kind) = res else { return false };
        let state = &self.edge_states[edge];
        let spec = &state.spec;
        if attempts > spec.retries || !spec.retry_on.contains(&kind) {
            return false;
        }
        if !spec.idempotent && !spec.retry_non_idempotent {
            return false;
        }
        if let Some(budget) = state.budget.as_ref() {
            if !budget.allows_retry(state.active_calls, state.active_retries) {
                self.event(Some(edge), None, PolicyEventKind::BudgetExhausted);
                return false;
            }
        }
        true
    }

    fn release_bulkhead(&mut self, edge: usize) {
        let next = self.edge_states[edge].bulkhead.as_mut().and_then(Bulkhead::release);
        if let Some(next) = next {
            // The first waiter takes the permit now and goes on inside in an
            // event of its own: going on here could release again at once
            // (a breaker inside refusing it), and so on down the queue, one
            // stack frame per waiter.
            if let Some(f) = self.frames.get_mut(next) {
                f.kind = FrameKind::Bulkhead { holding: true };
                self.schedule(self.now, Event::BulkheadAdmit(next));
            }
        }
    }

    fn bulkhead_give_up(&mut self, frame: FrameKey) {
        let Some(f) = self.frames.get(frame) else { return };
        let (call, parent) = (f.call, f.parent);
        let edge = self.calls[call].edge;
        let now = self.now;
        let gave_up =
            self.edge_states[edge].bulkhead.as_mut().is_some_and(|b| b.give_up(frame, now));
        if gave_up {
            self.frames.remove(frame);
            self.event(Some(edge), None, PolicyEventKind::BulkheadFull);
            self.complete(call, parent, Res::Fail(FailureKind::BulkheadFull));
        }
    }

    /// Logs every transition the edge's breaker made, and asks for a tick
    /// when the breaker needs one (an automatic move to half-open).
    fn breaker_transitions(&mut self, edge: usize) {
        let Some(b) = self.edge_states[edge].breaker.as_mut() else { return };
        let transitions = b.take_transitions();
        let tick = b.next_tick();
        for t in transitions {
            let kind = PolicyEventKind::Breaker {
                from: t.from,
                to: t.to,
                failure_rate: t.failure_rate,
                slow_call_rate: t.slow_call_rate,
            };
            self.metrics.record_event(PolicyEvent {
                at_us: t.at,
                edge: Some(edge),
                service: None,
                kind,
            });
        }
        if let Some(at) = tick {
            if at >= self.now {
                self.schedule(at, Event::BreakerTick(edge));
            }
        }
    }

    /// A timer fires: the per-try timeout or the overall deadline. The chain
    /// below it is cut off (or cancelled) and a timeout goes outward.
    fn timer_fires(&mut self, frame: FrameKey) {
        let Some(f) = self.frames.get(frame) else { return };
        let FrameKind::Timer { overall, .. } = f.kind else { return };
        let (call, parent, child) = (f.call, f.parent, f.child);
        self.frames.remove(frame);
        let c = &self.calls[call];
        let edge = c.edge;
        let service = self.edges[edge].to;
        // A try timed out only if one was out: an overall deadline that
        // passes during a pause or a wait for a permit cuts no try.
        let outstanding = self.leaf_instance(child);
        if outstanding.is_some() {
            self.metrics.record(|m| {
                m.services[service].timeouts += 1;
                m.edges[edge].timeouts += 1;
            });
        }
        let kind = if overall {
            PolicyEventKind::DeadlineExceeded
        } else {
            PolicyEventKind::Timeout { try_no: c.tries }
        };
        self.event(Some(edge), None, kind);
        if let Some(instance) = outstanding {
            self.record_outlier(edge, instance, Res::Fail(FailureKind::Timeout));
        }
        let cancel = self.edge_states[edge].spec.cancel_on_give_up;
        self.cut(edge, child, cancel);
        self.complete(call, parent, Res::Fail(FailureKind::Timeout));
    }

    /// The call has its result: a fallback may turn a failure into a
    /// degraded answer; then its owner learns it.
    fn finish_call(&mut self, call: CallKey, mut res: Res) {
        let Some(c) = self.calls.remove(call) else { return };
        let edge = c.edge;
        self.edge_states[edge].active_calls -= 1;
        if let Res::Fail(kind) = res {
            let tries = c.tries;
            self.metrics.record(|m| m.edges[edge].failed_calls += 1);
            self.event(Some(edge), None, PolicyEventKind::GaveUp { tries });
            if self.edge_states[edge].spec.falls_back() {
                self.metrics.record(|m| m.edges[edge].fallbacks += 1);
                self.event(Some(edge), None, PolicyEventKind::Fallback { after: kind });
                res = Res::Ok { degraded: true };
            }
        }
        match c.owner {
            Owner::Client => self.client_outcome(c.root, res),
            Owner::Job(job) => self.dependency_done(job, call, res),
        }
    }

    // ----- chaos ------------------------------------------------------------

    /// Resolves the scenario's faults to services and edges and schedules
    /// their starts and ends.
    fn plan_chaos(&mut self) {
        let chaos = self.scenario.chaos.clone();
        for (i, spec) in chaos.faults.into_iter().enumerate() {
            let edge = self.scenario.calls.iter().position(|c| {
                Some(&c.from) == spec.from.as_ref() && Some(&c.to) == spec.to.as_ref()
            });
            let service = spec
                .service
                .as_ref()
                .and_then(|n| self.scenario.services.iter().position(|s| &s.name == n));
            self.schedule(from_secs(spec.start_s), Event::FaultStarts(i));
            if let Some(end) = spec.end_s {
                self.schedule(from_secs(end), Event::FaultEnds(i));
            }
            let state = FaultState {
                spec,
                service,
                edge,
                active: false,
                cancelled: false,
                killed: Vec::new(),
            };
            self.faults.push(state);
        }
        self.hypothesis = chaos.hypothesis;
    }

    /// The faults active now.
    fn active_faults(&self) -> impl Iterator<Item = &FaultState> {
        self.faults.iter().filter(|f| f.active)
    }

    /// Share of messages lost on an edge, and the latency added to it.
    fn network_faults(&self, edge: usize) -> (f64, Micros) {
        let mut kept = 1.0;
        let mut added = 0;
        for f in self.active_faults().filter(|f| f.edge == Some(edge)) {
            match f.spec.kind {
                FaultKind::NetworkLoss => kept *= 1.0 - f.spec.share.unwrap_or(0.0),
                FaultKind::Latency => added += from_millis(f.spec.added_ms.unwrap_or(0.0)),
                _ => {}
            }
        }
        (1.0 - kept, added)
    }

    /// Extra error probability injected into a service.
    fn injected_error_rate(&self, service: usize) -> f64 {
        let kept: f64 = self
            .active_faults()
            .filter(|f| f.service == Some(service) && f.spec.kind == FaultKind::Errors)
            .map(|f| 1.0 - f.spec.rate.unwrap_or(0.0))
            .product();
        1.0 - kept
    }

    /// How many times longer a service's work takes now: CPU stress always,
    /// a brownout for the share of tries it catches.
    fn slowdown(&mut self, service: usize) -> f64 {
        let mut factor = 1.0;
        let hits: Vec<(FaultKind, f64, f64)> = self
            .active_faults()
            .filter(|f| f.service == Some(service))
            .map(|f| (f.spec.kind, f.spec.share.unwrap_or(0.0), f.spec.factor.unwrap_or(1.0)))
            .collect();
        for (kind, share, f) in hits {
            match kind {
                FaultKind::CpuStress => factor *= f,
                FaultKind::Brownout if self.chaos.chance(share) => factor *= f,
                _ => {}
            }
        }
        factor
    }

    fn fault_starts(&mut self, i: usize) {
        let f = &mut self.faults[i];
        if f.cancelled || f.active {
            return;
        }
        f.active = true;
        let (service, edge, kind) = (f.service, f.edge, f.spec.kind);
        if kind == FaultKind::KillInstances {
            if let Some(service) = service {
                self.kill_instances(i, service);
            }
        }
        self.metrics.record(|m| m.chaos.faults_started += 1);
        self.event(edge, service, PolicyEventKind::FaultStarted { fault: i });
        if self.hypothesis.is_some() && !self.hypothesis_pending {
            self.hypothesis_pending = true;
            let next_second = (self.now / SECOND + 1) * SECOND;
            self.schedule(next_second, Event::CheckHypothesis);
        }
    }

    /// Takes down the fault's instances; the work on them is lost.
    fn kill_instances(&mut self, i: usize, service: usize) {
        let count = self.faults[i].spec.count.unwrap_or(0) as usize;
        let instances = self.services[service].instances.len();
        let count = if count == 0 { instances } else { count.min(instances) };
        let killed: Vec<usize> = (0..count).collect();
        for &instance in &killed {
            self.account_occupancy(service, self.now);
            self.services[service].instances[instance].down += 1;
            // Queued work first, so that no freed worker picks it up.
            let queued: Vec<JobKey> =
                self.services[service].instances[instance].queue.iter().copied().collect();
            for job in queued {
                self.stop_job(job, true);
            }
            let running: Vec<JobKey> = self
                .jobs
                .iter()
                .filter(|(_, j)| j.service == service && j.instance == instance)
                .map(|(k, _)| k)
                .collect();
            for job in running {
                self.stop_job(job, true);
            }
        }
        self.faults[i].killed = killed;
    }

    fn fault_ends(&mut self, i: usize) {
        let f = &mut self.faults[i];
        if !f.active {
            return;
        }
        f.active = false;
        let (service, edge, killed) = (f.service, f.edge, std::mem::take(&mut f.killed));
        if let Some(service) = service {
            self.account_occupancy(service, self.now);
            for instance in killed {
                let inst = &mut self.services[service].instances[instance];
                inst.down = inst.down.saturating_sub(1);
            }
        }
        self.metrics.record(|m| m.chaos.faults_ended += 1);
        self.event(edge, service, PolicyEventKind::FaultEnded { fault: i });
    }

    /// Once a second while a fault is active: does the steady state hold?
    fn check_hypothesis(&mut self) {
        self.hypothesis_pending = false;
        let Some(h) = self.hypothesis.clone() else { return };
        let to = self.now / SECOND;
        let from = to.saturating_sub(h.window_s as u64);
        let (mut answered, mut finished) = (0, 0);
        for (_, second) in self.metrics.series().range(from, to) {
            answered += second.counts.client.answered();
            finished += second.counts.client.finished();
        }
        let rate = if finished > 0 { answered as f64 / finished as f64 } else { 1.0 };
        if rate < h.min_success_rate {
            self.metrics.record(|m| m.chaos.aborted += 1);
            self.event(None, None, PolicyEventKind::ExperimentAborted { success_rate: rate });
            for i in 0..self.faults.len() {
                self.faults[i].cancelled = true;
                self.fault_ends(i);
            }
            return;
        }
        if self.faults.iter().any(|f| f.active) {
            self.hypothesis_pending = true;
            self.schedule(self.now + SECOND, Event::CheckHypothesis);
        }
    }

    // ----- capacity: load balancing, outliers, autoscaling --------------------

    /// The caller's choice of callee instance: round-robin over the ready
    /// instances its outlier detection has not ejected. If it has ejected
    /// them all, it ignores ejection rather than send nowhere (as Envoy's
    /// panic threshold does).
    fn pick_instance(&mut self, edge: usize) -> usize {
        let service = self.edges[edge].to;
        let instances = &self.services[service].instances;
        let n = instances.len();
        let state = &mut self.edge_states[edge];
        let outliers = &state.outliers;
        let ejected = |i: usize| outliers.as_ref().is_some_and(|o| o.is_ejected(i));
        let ready = |i: usize| instances[i].state == InstanceState::Ready;
        let start = state.next_instance;
        let pick = (0..n)
            .map(|k| (start + k) % n)
            .find(|&i| ready(i) && !ejected(i))
            .or_else(|| (0..n).map(|k| (start + k) % n).find(|&i| ready(i)))
            .unwrap_or(start % n.max(1));
        state.next_instance = pick + 1;
        pick
    }

    fn record_outlier(&mut self, edge: usize, instance: usize, res: Res) {
        let hosts = self.services[self.edges[edge].to].ready as usize;
        let Some(detector) = self.edge_states[edge].outliers.as_mut() else { return };
        // Envoy counts locally originated failures too: a timeout is a 504.
        let is_5xx = matches!(
            res,
            Res::Fail(FailureKind::Error | FailureKind::Rejected | FailureKind::Timeout)
        );
        if let Some(until) = detector.record(self.now, instance, is_5xx, hosts) {
            let until_s = crate::time::to_secs(until);
            self.event(Some(edge), None, PolicyEventKind::InstanceEjected { instance, until_s });
        }
    }

    fn outlier_tick(&mut self, edge: usize) {
        let Some(detector) = self.edge_states[edge].outliers.as_mut() else { return };
        let back = detector.tick(self.now);
        let interval = detector.interval();
        for instance in back {
            self.event(Some(edge), None, PolicyEventKind::InstanceReturned { instance });
        }
        self.schedule(self.now + interval, Event::OutlierTick(edge));
    }

    /// The autoscaler's look: utilisation over its period against the
    /// target, and instances started or drained to match.
    fn autoscale(&mut self, service: usize) {
        self.account_occupancy(service, self.now);
        let now = self.now;
        let s = &mut self.services[service];
        let Some(autoscaler) = s.autoscaler.as_mut() else { return };
        let utilisation = if s.capacity_since_sync > 0 {
            s.busy_since_sync as f64 / s.capacity_since_sync as f64
        } else {
            0.0
        };
        s.busy_since_sync = 0;
        s.capacity_since_sync = 0;
        let current = s
            .instances
            .iter()
            .filter(|i| matches!(i.state, InstanceState::Ready | InstanceState::Starting))
            .count() as u32;
        let serving =
            s.instances.iter().filter(|i| i.state == InstanceState::Ready && i.down == 0).count()
                as u32;
        let desired = autoscaler.desired(now, current, serving, utilisation);
        let (period, startup) = (autoscaler.period(), autoscaler.startup());
        self.schedule(now + period, Event::AutoscaleSync(service));
        if desired == current {
            return;
        }
        let kind = PolicyEventKind::Scaled { from: current, to: desired, utilisation };
        self.event(None, Some(service), kind);
        let s = &mut self.services[service];
        if desired > current {
            let mut started = Vec::new();
            for _ in current..desired {
                let slot = s.instances.iter().position(|i| i.state == InstanceState::Off);
                started.push(match slot {
                    Some(i) => {
                        // A fresh instance in an old slot: whatever killed
                        // the previous one does not carry over.
                        let generation = s.instances[i].generation + 1;
                        s.instances[i] = Instance::new(InstanceState::Starting);
                        s.instances[i].generation = generation;
                        i
                    }
                    None => {
                        s.instances.push(Instance::new(InstanceState::Starting));
                        s.instances.len() - 1
                    }
                });
            }
            for index in started {
                let generation = self.services[service].instances[index].generation;
                self.schedule(now + startup, Event::InstanceReady(service, index, generation));
                // Callers forget what their outlier detection knew of the
                // slot's previous instance.
                for (e, state) in self.edge_states.iter_mut().enumerate() {
                    if self.edges[e].to == service {
                        if let Some(o) = state.outliers.as_mut() {
                            o.forget(index);
                        }
                    }
                }
            }
            return;
        }
        // Scale in: cancel starts first, then drain the newest ready ones.
        let mut remove = current - desired;
        for inst in s.instances.iter_mut().rev() {
            if remove > 0 && inst.state == InstanceState::Starting {
                inst.state = InstanceState::Off;
                remove -= 1;
            }
        }
        // Dead instances go first (a replacement is what a scale-in of a
        // crashed pod amounts to), then the newest.
        let mut order: Vec<usize> = (0..s.instances.len()).rev().collect();
        order.sort_by_key(|&i| s.instances[i].down == 0);
        for i in order {
            let inst = &mut s.instances[i];
            if remove > 0 && inst.state == InstanceState::Ready && s.ready > 1 {
                inst.state = if inst.busy == 0 && inst.queue.is_empty() {
                    InstanceState::Off
                } else {
                    InstanceState::Draining
                };
                s.ready -= 1;
                remove -= 1;
            }
        }
    }

    fn instance_ready(&mut self, service: usize, instance: usize, generation: u32) {
        let inst = &self.services[service].instances[instance];
        if inst.state != InstanceState::Starting || inst.generation != generation {
            return;
        }
        self.account_occupancy(service, self.now);
        let s = &mut self.services[service];
        s.instances[instance].state = InstanceState::Ready;
        s.ready += 1;
    }

    // ----- cancellation ----------------------------------------------------

    /// The instance the try at the bottom of a chain went to.
    fn leaf_instance(&self, mut frame: Option<FrameKey>) -> Option<usize> {
        while let Some(f) = frame.and_then(|f| self.frames.get(f)) {
            if let FrameKind::Leaf { instance, .. } = f.kind {
                return Some(instance);
            }
            frame = f.child;
        }
        None
    }

    /// Removes a leaf frame, keeping the count of retries under way.
    fn remove_leaf(&mut self, leaf: FrameKey) {
        self.frames.remove(leaf);
    }

    /// The caller has given up on everything from `frame` down: its
    /// policies there stop (a breaker records the abandoned call as a
    /// failure, a bulkhead permit is returned, a waiting one forgotten).
    /// The try itself runs on as orphaned work, unless `cancel` says to
    /// cancel it: then a try on the wire is dropped on arrival and a job
    /// already at the callee is stopped, with its own calls.
    fn cut(&mut self, edge: usize, mut frame: Option<FrameKey>, cancel: bool) {
        while let Some(f) = frame {
            let Some(fr) = self.frames.get_mut(f) else { return };
            frame = fr.child;
            match &mut fr.kind {
                &mut FrameKind::Leaf { job, request, .. } => {
                    // The leaf goes: an answer that comes later finds no one
                    // waiting for it (and the work, if not cancelled, runs
                    // on as orphaned work).
                    self.remove_leaf(f);
                    if cancel {
                        if let Some(job) = job {
                            self.abort_job(job);
                        } else if let Some(m) = request.and_then(|m| self.messages.get_mut(m)) {
                            m.cancelled = true;
                        }
                    }
                    return;
                }
                FrameKind::Breaker { since } => {
                    let since = *since;
                    self.frames.remove(f);
                    if let Some(b) = self.edge_states[edge].breaker.as_mut() {
                        b.on_result(self.now, self.now - since, true);
                    }
                    self.breaker_transitions(edge);
                }
                FrameKind::Bulkhead { holding } => {
                    let holding = *holding;
                    self.frames.remove(f);
                    if holding {
                        self.release_bulkhead(edge);
                    } else if let Some(b) = self.edge_states[edge].bulkhead.as_mut() {
                        b.forget(f);
                    }
                }
                &mut FrameKind::Retry { holds_retry, .. } => {
                    self.frames.remove(f);
                    if holds_retry {
                        self.edge_states[edge].active_retries -= 1;
                    }
                }
                FrameKind::Timer { .. } => {
                    self.frames.remove(f);
                }
            }
        }
    }

    /// Cancels a whole call of a job that is being stopped.
    fn cancel_call(&mut self, call: CallKey) {
        let Some(c) = self.calls.get(call) else { return };
        let (edge, top) = (c.edge, c.top);
        self.cut(edge, top, true);
        self.calls.remove(call);
        self.edge_states[edge].active_calls -= 1;
    }

    /// Stops a job wherever it is: off the queue, off its worker, and its
    /// own calls cancelled in turn.
    fn abort_job(&mut self, job: JobKey) {
        self.stop_job(job, false);
    }

    /// Stops a job: cancelled by its caller, or `lost` with its instance.
    fn stop_job(&mut self, job: JobKey, lost: bool) {
        let Some(j) = self.jobs.get(job) else { return };
        let (service, instance, root) = (j.service, j.instance, j.root);
        let calls = j.calls.clone();
        let queued = matches!(j.state, JobState::Queued);
        self.metrics.record(|m| {
            let s = &mut m.services[service];
            if lost {
                s.lost += 1;
            } else {
                s.cancelled += 1;
            }
        });
        if queued {
            self.account_occupancy(service, self.now);
            let s = &mut self.services[service];
            s.instances[instance].queue.retain(|&k| k != job);
            s.queued -= 1;
            self.jobs.remove(job);
        } else {
            for call in calls {
                self.cancel_call(call);
            }
            self.jobs.remove(job);
            self.free_worker(service, instance);
        }
        self.roots[root].open -= 1;
        self.maybe_settle(root);
    }

    // ----- messages and services ------------------------------------------

    /// Puts a message on the wire; `None` if a network fault drops it.
    fn send(
        &mut self,
        root: RootKey,
        edge: usize,
        kind: DotKind,
        payload: Payload,
    ) -> Option<MsgKey> {
        let (loss, added) = self.network_faults(edge);
        if loss > 0.0 && self.chaos.chance(loss) {
            // Dropped on the wire: the caller finds out by timing out.
            self.metrics.record(|m| m.edges[edge].lost_messages += 1);
            if matches!(payload, Payload::Request { .. }) {
                self.roots[root].open -= 1;
            }
            return None;
        }
        let arrives = self.now.saturating_add(self.edges[edge].latency).saturating_add(added);
        let sent = self.now;
        let message = Message { root, edge, sent, arrives, kind, payload, cancelled: false };
        let msg = self.messages.insert(message);
        self.schedule(arrives, Event::Deliver(msg));
        Some(msg)
    }

    fn deliver(&mut self, msg: MsgKey) {
        let Some(m) = self.messages.remove(msg) else {
            return;
        };
        match m.payload {
            Payload::Request { leaf, call, instance, deadline } => {
                self.roots[m.root].open -= 1;
                if let Some(FrameKind::Leaf { request, .. }) =
                    self.frames.get_mut(leaf).map(|f| &mut f.kind)
                {
                    *request = None;
                }
                if !m.cancelled {
                    self.receive(m.root, m.edge, leaf, call, instance, deadline);
                }
            }
            Payload::Response { leaf, reply } => {
                let res = match reply {
                    Reply::Success { degraded } => Res::Ok { degraded },
                    Reply::Error => Res::Fail(FailureKind::Error),
                    Reply::Rejected => Res::Fail(FailureKind::Rejected),
                };
                if self.frames.contains_key(leaf) {
                    self.exit(leaf, res);
                }
            }
        }
        self.maybe_settle(m.root);
    }

    /// Adds a service's busy-worker and queued time since the last change
    /// to the metrics; called before every change of either count.
    fn account_occupancy(&mut self, service: usize, to: Micros) {
        let s = &mut self.services[service];
        let capacity = s.workers * working_instances(s);
        let (counts, since) = ((s.busy, s.queued, capacity), s.occupancy_since);
        s.occupancy_since = to;
        let span = to - since;
        s.busy_since_sync += s.busy as u64 * span;
        s.capacity_since_sync += capacity as u64 * span;
        self.metrics.record_occupancy(service, counts, since, to);
    }

    /// Answers a try that will not be served.
    fn turn_away(&mut self, root: RootKey, edge: usize, leaf: FrameKey, cause: ShedCause) {
        let service = self.edges[edge].to;
        self.metrics.record(|c| c.services[service].rejections.add(cause));
        if cause != ShedCause::QueueFull {
            self.event(None, Some(service), PolicyEventKind::Shed { cause });
        }
        let reply = Reply::Rejected;
        self.send(root, edge, DotKind::Rejected, Payload::Response { leaf, reply });
    }

    /// A try reaches its callee: it is served, queued or turned away.
    fn receive(
        &mut self,
        root: RootKey,
        edge: usize,
        leaf: FrameKey,
        call: CallKey,
        instance: usize,
        deadline: Option<Micros>,
    ) {
        let service = self.edges[edge].to;
        self.roots[root].attempts[service] += 1;
        self.metrics.record(|c| c.services[service].attempts += 1);
        if deadline.is_some_and(|d| self.now >= d) {
            self.turn_away(root, edge, leaf, ShedCause::Deadline);
            return;
        }

        let s = &mut self.services[service];
        let (busy, queued) = (s.instances[instance].busy, s.instances[instance].queue.len() as u32);
        let (workers, capacity) = (s.workers, s.queue_capacity);
        // A dead instance refuses the connection; one that has gone from
        // the pool meanwhile (scaled in) refuses it as well.
        if s.instances[instance].down > 0 || s.instances[instance].state == InstanceState::Off {
            self.turn_away(root, edge, leaf, ShedCause::InstanceDown);
            return;
        }
        if busy >= workers && queued >= capacity {
            self.turn_away(root, edge, leaf, ShedCause::QueueFull);
            return;
        }
        let job = self.jobs.insert(Job {
            root,
            service,
            instance,
            arrived: self.now,
            scripted_error: None,
            leaf,
            call,
            edge,
            deadline,
            degraded: false,
            calls: self.spare.calls(),
            state: JobState::Queued,
        });
        if let Some(FrameKind::Leaf { job: slot, .. }) =
            self.frames.get_mut(leaf).map(|f| &mut f.kind)
        {
            *slot = Some(job);
        }
        self.roots[root].open += 1;
        self.account_occupancy(service, self.now);
        let s = &mut self.services[service];
        if busy < workers {
            s.busy += 1;
            s.instances[instance].busy += 1;
            self.start_work(job);
        } else {
            s.queued += 1;
            s.instances[instance].queue.push_back(job);
        }
    }

    /// A worker takes the job: its service time starts.
    fn start_work(&mut self, job: JobKey) {
        let j = &mut self.jobs[job];
        j.state = JobState::Working;
        let (service, waited) = (j.service, self.now - j.arrived);
        self.metrics.record(|c| {
            c.services[service].started += 1;
            c.services[service].queue_wait_us += waited;
        });
        let s = &mut self.services[service];
        let step = (!s.script.is_empty()).then(|| {
            let step = s.script[(s.script_next % s.script.len() as u64) as usize].clone();
            s.script_next += 1;
            step
        });
        let ms = match (step.as_ref().and_then(|st| st.ms), &s.service_time) {
            (Some(ms), _) => ms,
            (None, ServiceTime::Fixed { ms }) => *ms,
            (None, ServiceTime::Exponential { mean_ms }) => s.times.exponential(*mean_ms),
            (None, ServiceTime::LogNormal { median_ms, sigma }) => {
                s.times.log_normal(*median_ms, *sigma)
            }
        };
        self.jobs[job].scripted_error = step.map(|st| st.outcome == ScriptOutcome::Error);
        let ms = ms * self.slowdown(service);
        self.schedule(self.now.saturating_add(from_millis(ms)), Event::WorkDone(job));
    }

    /// The service's own work is done: it fails, or makes its calls.
    fn work_done(&mut self, job: JobKey) {
        let Some(j) = self.jobs.get(job) else { return };
        let (service, scripted, deadline) = (j.service, j.scripted_error, j.deadline);
        // A callee that knows its caller's deadline stops once it has
        // passed: nobody waits for the answer any more.
        if deadline.is_some_and(|d| self.now >= d) {
            self.event(None, Some(service), PolicyEventKind::Shed { cause: ShedCause::Deadline });
            self.finish_job(job, Reply::Rejected);
            return;
        }
        let s = &mut self.services[service];
        let failed = match scripted {
            Some(error) => error,
            None => {
                let p = s.error_rate;
                s.errors.chance(p)
            }
        };
        // Injected errors draw from the chaos stream, after the service's
        // own draw, so that a fault does not reshuffle the service's errors.
        let injected = self.injected_error_rate(service);
        let failed = failed | (injected > 0.0 && self.chaos.chance(injected));
        if failed {
            self.finish_job(job, Reply::Error);
            return;
        }
        let s = &self.services[service];
        let calls = s.calls.len();
        match (calls, s.fan_out) {
            (0, _) => self.finish_job(job, Reply::Success { degraded: false }),
            (_, FanOut::Sequential) => {
                self.jobs[job].state = JobState::Calling { pending: 1, next: 1, failed: false };
                self.call_dependency(job, 0);
            }
            (n, FanOut::Parallel) => {
                let pending = n as u32;
                self.jobs[job].state = JobState::Calling { pending, next: n, failed: false };
                for index in 0..n {
                    self.call_dependency(job, index);
                }
            }
        }
    }

    fn call_dependency(&mut self, job: JobKey, index: usize) {
        let j = &self.jobs[job];
        let (service, root, deadline) = (j.service, j.root, j.deadline);
        let edge = self.services[service].calls[index];
        let call = self.start_call(root, Owner::Job(job), edge, deadline);
        // The call may already have finished (refused by a breaker); keep
        // only the ones under way.
        if self.calls.contains_key(call) {
            if let Some(j) = self.jobs.get_mut(job) {
                j.calls.push(call);
            }
        }
    }

    /// One of a job's calls has ended: make the next call in sequence, or
    /// answer once none is pending.
    fn dependency_done(&mut self, job: JobKey, call: CallKey, res: Res) {
        let Some(j) = self.jobs.get_mut(job) else { return };
        j.calls.retain(|&c| c != call);
        let service = j.service;
        let calls = self.services[service].calls.len();
        let ok = match res {
            Res::Ok { degraded } => {
                j.degraded |= degraded;
                true
            }
            Res::Fail(_) => false,
        };
        let JobState::Calling { pending, next, failed } = &mut j.state else {
            unreachable!("a job that owns a call is calling")
        };
        *pending -= 1;
        *failed |= !ok;
        let (pending, next, failed, degraded) = (*pending, *next, *failed, j.degraded);
        if !failed && pending == 0 && next < calls {
            j.state = JobState::Calling { pending: 1, next: next + 1, failed };
            self.call_dependency(job, next);
        } else if pending == 0 {
            let reply = if failed { Reply::Error } else { Reply::Success { degraded } };
            self.finish_job(job, reply);
        }
    }

    /// The job answers its caller, frees its worker, and the worker takes
    /// the next queued job.
    fn finish_job(&mut self, job: JobKey, reply: Reply) {
        let mut j = self.jobs.remove(job).expect("a finishing job exists");
        self.spare.give_calls(std::mem::take(&mut j.calls));
        let service = j.service;
        // Work whose caller has given up is wasted: count it and draw its
        // answer in the orphan colour.
        let orphan = !self.chain_alive(j.leaf);
        let non_idempotent = !self.edge_states[j.edge].spec.idempotent;
        let duplicate = non_idempotent
            && matches!(reply, Reply::Success { .. })
            && self.count_execution(j.root, j.call) > 1;
        self.metrics.record(|c| {
            let s = &mut c.services[service];
            match reply {
                Reply::Success { degraded } => {
                    s.successes += 1;
                    s.degraded += degraded as u64;
                }
                Reply::Error => s.errors += 1,
                Reply::Rejected => s.rejections.deadline += 1,
            }
            s.orphaned += orphan as u64;
            s.duplicate_side_effects += duplicate as u64;
        });
        self.metrics.record_service_latency(service, self.now - j.arrived);
        let kind = match reply {
            _ if orphan => DotKind::Orphan,
            Reply::Success { degraded: false } => DotKind::Success,
            Reply::Success { degraded: true } => DotKind::Degraded,
            Reply::Error => DotKind::Error,
            Reply::Rejected => DotKind::Rejected,
        };
        self.send(j.root, j.edge, kind, Payload::Response { leaf: j.leaf, reply });
        self.free_worker(service, j.instance);
        self.roots[j.root].open -= 1;
        self.maybe_settle(j.root);
    }

    /// Counts one more successful execution of a call for a request, and
    /// returns how many there have been.
    fn count_execution(&mut self, root: RootKey, call: CallKey) -> u32 {
        let executions = &mut self.roots[root].executions;
        match executions.iter_mut().find(|(c, _)| *c == call) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                executions.push((call, 1));
                1
            }
        }
    }

    /// Whether anyone still waits for the answer to a try: its leaf and
    /// every frame above it are still in place.
    fn chain_alive(&self, leaf: FrameKey) -> bool {
        let mut frame = Some(leaf);
        while let Some(f) = frame {
            match self.frames.get(f) {
                Some(fr) => frame = fr.parent,
                None => return false,
            }
        }
        true
    }

    /// A worker is free: it takes the next queued job that is still worth
    /// serving, shedding the ones that waited too long.
    fn free_worker(&mut self, service: usize, instance: usize) {
        self.account_occupancy(service, self.now);
        loop {
            let s = &mut self.services[service];
            let Some(next) = s.instances[instance].queue.pop_front() else {
                s.busy -= 1;
                let inst = &mut s.instances[instance];
                inst.busy -= 1;
                if inst.busy == 0 && inst.state == InstanceState::Draining {
                    inst.state = InstanceState::Off;
                }
                return;
            };
            s.queued -= 1;
            let shed_after = s.shed_after;
            let j = &self.jobs[next];
            let waited = self.now - j.arrived;
            let cause = if j.deadline.is_some_and(|d| self.now >= d) {
                Some(ShedCause::Deadline)
            } else if shed_after.is_some_and(|limit| waited > limit) {
                Some(ShedCause::QueueTime)
            } else {
                None
            };
            match cause {
                None => {
                    self.start_work(next);
                    return;
                }
                Some(cause) => {
                    let j = self.jobs.remove(next).expect("queued job exists");
                    self.turn_away(j.root, j.edge, j.leaf, cause);
                    self.roots[j.root].open -= 1;
                    self.maybe_settle(j.root);
                }
            }
        }
    }

    fn client_outcome(&mut self, root: RootKey, res: Res) {
        let outcome = match res {
            Res::Ok { degraded: false } => Outcome::Success,
            Res::Ok { degraded: true } => Outcome::Degraded,
            Res::Fail(FailureKind::Error) => Outcome::Error,
            Res::Fail(FailureKind::Timeout) => Outcome::Timeout,
            Res::Fail(kind) => Outcome::Rejected(kind),
        };
        let r = &mut self.roots[root];
        r.outcome = Some(outcome);
        let latency = self.now - r.sent;
        self.metrics.record(|m| {
            let client = &mut m.client;
            match outcome {
                Outcome::Success => client.successes += 1,
                Outcome::Degraded => client.degraded += 1,
                Outcome::Error => client.errors += 1,
                Outcome::Timeout => client.timeouts += 1,
                Outcome::Rejected(FailureKind::BreakerOpen) => client.short_circuited += 1,
                Outcome::Rejected(FailureKind::BulkheadFull) => client.bulkhead_full += 1,
                Outcome::Rejected(_) => client.rejections += 1,
            }
        });
        self.metrics.record_client_latency(latency);
        self.maybe_settle(root);
    }

    /// Removes a root once it has its outcome and no work of it remains,
    /// counting its attempts if it began under the current parameters.
    fn maybe_settle(&mut self, root: RootKey) {
        let Some(r) = self.roots.get(root) else {
            return;
        };
        if r.outcome.is_none() || r.open > 0 {
            return;
        }
        let r = self.roots.remove(root).expect("checked above");
        self.metrics.record_settled(self.now, &r.attempts, r.epoch == self.epoch);
        self.spare.give_attempts(r.attempts);
    }
}

/// Instances that offer workers: serving or draining, and not killed.
fn working_instances(s: &Service) -> u32 {
    s.instances
        .iter()
        .filter(|i| {
            i.down == 0 && matches!(i.state, InstanceState::Ready | InstanceState::Draining)
        })
        .count() as u32
}

/// An edge's backoff: its own configuration, or a fixed pause of
/// `backoff_ms` without jitter.
fn backoff_of(spec: &crate::scenario::CallSpec) -> BackoffConfig {
    spec.backoff.clone().unwrap_or(BackoffConfig {
        kind: BackoffKind::Fixed,
        base_ms: spec.backoff_ms,
        jitter: Jitter::None,
        ..BackoffConfig::default()
    })
}

fn check(name: &'static str, value: f64, min: f64, max: f64) -> Result<(), ParamError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(ParamError::OutOfRange { name, value, min, max })
    }
}

/// The client's request rate at time `t` under a load and its schedule.
///
/// Each change starts from the rate in force when it begins (which may be
/// partway along an earlier ramp) and moves to its target at once or along
/// a straight line.
pub(crate) fn rate_at(load: &Load, t: Micros) -> f64 {
    // The segment in force: (start, ramp length, rate at start, target).
    let mut segment: Option<(Micros, Micros, f64, f64)> = None;
    let value = |segment: Option<(Micros, Micros, f64, f64)>, x: Micros| match segment {
        None => load.rate_per_sec,
        Some((at, ramp, from, to)) if ramp > 0 && x < at + ramp => {
            from + (to - from) * ((x - at) as f64 / ramp as f64)
        }
        Some((_, _, _, to)) => to,
    };
    for change in &load.schedule {
        let at = from_secs(change.at_s);
        if t < at {
            break;
        }
        segment = Some((at, from_secs(change.ramp_s), value(segment, at), change.rate_per_sec));
    }
    value(segment, t)
}

/// When arrivals at a rate of zero should look again: at the next change,
/// or soon while a ramp is under way; `None` when the rate stays zero.
fn next_look(load: &Load, t: Micros) -> Option<Micros> {
    const WHILE_RAMPING: Micros = 10 * crate::time::MILLISECOND;
    let next = load.schedule.iter().map(|c| from_secs(c.at_s)).find(|&at| at > t);
    let ramping = load
        .schedule
        .iter()
        .any(|c| from_secs(c.at_s) <= t && t < from_secs(c.at_s) + from_secs(c.ramp_s));
    match (next, ramping) {
        (Some(at), true) => Some(at.min(t + WHILE_RAMPING)),
        (None, true) => Some(t + WHILE_RAMPING),
        (next, false) => next,
    }
}

/// The highest rate a load ever asks for.
fn peak_rate(load: &Load) -> f64 {
    load.schedule.iter().map(|c| c.rate_per_sec).fold(load.rate_per_sec, f64::max)
}
