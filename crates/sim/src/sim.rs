//! The discrete-event engine.
//!
//! # Entities
//!
//! - A **root** is one client request. It lives until it has an outcome and
//!   every piece of work it set off anywhere in the graph has finished; only
//!   then is it *settled* and its attempts counted towards amplification.
//! - A **call** is one logical call from a caller (the client or a job) to a
//!   callee, with its tries: the first and then each retry.
//! - A **job** is one try being served at a service: queued, working, or
//!   waiting on its own calls while holding its worker.
//! - A **message** is a request or a response on its way along an edge: the
//!   dots on the page.
//!
//! # Events
//!
//! Events are ordered by time, then by the order they were scheduled, so
//! that equal-time events fire first in, first out and a run is the same
//! every time. An event that refers to something already gone (a timeout of
//! a try that was answered, a retry of a call that was abandoned) finds its
//! key stale in its slot map and does nothing: nothing is ever cancelled.
//!
//! # Life of a try
//!
//! ```text
//! caller ──request──► callee: worker free? ─► work ─► call deps in order ─┐
//!   ▲                         queue room?  ─► wait for a worker           │
//!   │                         neither      ─► rejected at once            │
//!   └─────────────────────────response (success / error / rejected) ◄─────┘
//! ```
//! The caller also starts a timer for each try. Whichever comes first, the
//! response or the timer, decides the try; a late response is dropped, and
//! the callee's work goes on regardless (orphaned work).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use slotmap::{new_key_type, SlotMap};

use crate::metrics::{Metrics, PolicyEvent, PolicyEventKind};
use crate::rng::{streams, Stream};
use crate::scenario::{
    Arrivals, FanOut, Load, Scenario, ScriptOutcome, ScriptStep, ServiceTime, CLIENT,
};
use crate::time::{from_millis, from_secs, Micros, SECOND};
use crate::validate::{limits, validate, ScenarioError};

new_key_type! {
    struct RootKey;
    struct CallKey;
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
    Success,
    Error,
    Timeout,
    Rejected,
}

/// What a callee answers to one try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    Success,
    Error,
    Rejected,
}

/// How one try ended, as the caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TryResult {
    Success,
    Error,
    Rejected,
    Timeout,
}

/// What a dot on the page stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DotKind {
    /// A request on its first try.
    FirstTry,
    /// A request on a retry.
    Retry,
    /// A successful response.
    Success,
    /// An error response.
    Error,
    /// A "queue full" response.
    Rejected,
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
}

struct Instance {
    busy: u32,
    queue: VecDeque<JobKey>,
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
    /// Outgoing edges, called in this order.
    calls: Vec<usize>,
    /// Busy workers and queued tries over all instances, and since when
    /// those counts hold.
    busy: u32,
    queued: u32,
    occupancy_since: Micros,
    instances: Vec<Instance>,
    next_instance: usize,
    times: Stream,
    errors: Stream,
}

struct Root {
    sent: Micros,
    epoch: u64,
    /// Attempts this request caused at each service.
    attempts: Vec<u32>,
    /// Jobs and request messages of this request still in the graph.
    open: u32,
    outcome: Option<Outcome>,
}

enum Owner {
    Client,
    Job(JobKey),
}

enum CallState {
    /// Try number `n` (1-based) is out, waiting for its answer.
    Waiting(u32),
    /// Pausing before the next try.
    BackingOff,
}

struct Call {
    root: RootKey,
    owner: Owner,
    edge: usize,
    tries: u32,
    state: CallState,
}

enum JobState {
    Queued,
    Working,
    /// Waiting on calls: `pending` of them are unanswered, `next` is the
    /// index of the next call to make in sequence, and `failed` says whether
    /// any has failed.
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
    /// What a scripted service's step decided for this try.
    scripted_error: Option<bool>,
    /// The try this job answers.
    reply_to: (CallKey, u32),
    edge: usize,
    state: JobState,
}

enum Payload {
    Request { call: CallKey, try_no: u32 },
    Response { call: CallKey, try_no: u32, reply: Reply },
}

struct Message {
    root: RootKey,
    edge: usize,
    sent: Micros,
    arrives: Micros,
    kind: DotKind,
    payload: Payload,
}

enum Event {
    /// The next client request arrives, if the load generation still matches.
    Arrival(u64),
    Deliver(MsgKey),
    WorkDone(JobKey),
    TryTimeout(CallKey, u32),
    RetryDue(CallKey),
}

struct Scheduled {
    at: Micros,
    seq: u64,
    event: Event,
}

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
    #[error("{name} must be within {min} to {max}, not {value}")]
    OutOfRange { name: &'static str, value: f64, min: f64, max: f64 },
}

/// A running simulation of one scenario.
pub struct Sim {
    scenario: Scenario,
    now: Micros,
    seq: u64,
    events: BinaryHeap<Scheduled>,
    services: Vec<Service>,
    edges: Vec<Edge>,
    entry: usize,
    /// The client load as it is now (live changes included).
    load: Load,
    /// The highest rate the load ever asks for: Poisson arrivals under a
    /// changing rate are drawn at this rate and thinned.
    peak_rate: f64,
    arrival_generation: u64,
    arrivals: Stream,
    epoch: u64,
    roots: SlotMap<RootKey, Root>,
    calls: SlotMap<CallKey, Call>,
    jobs: SlotMap<JobKey, Job>,
    messages: SlotMap<MsgKey, Message>,
    metrics: Metrics,
    events_processed: u64,
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
                calls: (0..edges.len()).filter(|&e| edges[e].from == Node::Service(i)).collect(),
                busy: 0,
                queued: 0,
                occupancy_since: 0,
                instances: (0..s.instances)
                    .map(|_| Instance { busy: 0, queue: VecDeque::new() })
                    .collect(),
                next_instance: 0,
                times: Stream::new(seed, streams::service_time(i)),
                errors: Stream::new(seed, streams::errors(i)),
            })
            .collect();

        let mut sim = Sim {
            metrics: Metrics::new(scenario.services.len(), edges.len()),
            load: scenario.load.clone(),
            peak_rate: peak_rate(&scenario.load),
            arrivals: Stream::new(seed, streams::ARRIVALS),
            scenario,
            now: 0,
            seq: 0,
            events: BinaryHeap::new(),
            services,
            edges,
            entry,
            arrival_generation: 0,
            epoch: 0,
            roots: SlotMap::with_key(),
            calls: SlotMap::with_key(),
            jobs: SlotMap::with_key(),
            messages: SlotMap::with_key(),
            events_processed: 0,
        };
        sim.schedule_arrival();
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

    /// The client's request rate now, in requests per second.
    pub fn current_rate(&self) -> f64 {
        rate_at(&self.load, self.now)
    }

    /// Workers and queues of a service now.
    pub fn service_load(&self, service: usize) -> ServiceLoad {
        let Some(s) = self.services.get(service) else {
            return ServiceLoad::default();
        };
        let n = s.instances.len() as u32;
        ServiceLoad {
            busy_workers: s.busy,
            workers: s.workers * n,
            queued: s.queued,
            queue_capacity: s.queue_capacity * n,
            in_flight: s.busy + s.queued,
        }
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

    /// Sets the retries of every call edge.
    pub fn set_retries(&mut self, retries: u32) -> Result<(), ParamError> {
        check("retries", retries as f64, 0.0, limits::MAX_RETRIES as f64)?;
        for (edge, spec) in self.edges.iter_mut().zip(&mut self.scenario.calls) {
            edge.retries = retries;
            spec.retries = retries;
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

    /// Starts measuring amplification afresh: requests that began before
    /// the change no longer count.
    fn parameters_changed(&mut self) {
        self.epoch += 1;
        self.metrics.restart_amplification();
    }

    // ----- running -------------------------------------------------------

    /// Runs every event up to and including time `t`, then sets the clock to
    /// `t`.
    pub fn advance_to(&mut self, t: Micros) {
        while self.advance_to_within(t, u64::MAX) == Progress::OutOfBudget {}
    }

    /// Runs events up to time `t`, but at most `budget` of them: a frame of
    /// animation must never stall, whatever the load.
    pub fn advance_to_within(&mut self, t: Micros, budget: u64) -> Progress {
        let mut done = 0;
        let mut progress = Progress::Reached;
        while let Some(next) = self.events.peek() {
            if next.at > t {
                break;
            }
            if done == budget {
                progress = Progress::OutOfBudget;
                break;
            }
            let Scheduled { at, event, .. } = self.events.pop().expect("peeked");
            self.now = at;
            self.handle(event);
            done += 1;
        }
        self.events_processed += done;
        if progress == Progress::Reached {
            self.now = self.now.max(t);
        }
        // Bring time-weighted figures up to the clock, so that what is read
        // now is complete.
        for service in 0..self.services.len() {
            self.account_occupancy(service);
        }
        self.metrics.close_seconds(self.now);
        progress
    }

    fn schedule(&mut self, at: Micros, event: Event) {
        self.seq += 1;
        self.events.push(Scheduled { at, seq: self.seq, event });
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
                let rate = rate_at(&self.load, self.now);
                if rate > 0.0 {
                    ((SECOND as f64 / rate).round() as Micros).max(1)
                } else {
                    match next_look(&self.load, self.now) {
                        Some(at) => at - self.now,
                        None => return,
                    }
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
            Event::Deliver(msg) => self.deliver(msg),
            Event::WorkDone(job) => self.work_done(job),
            Event::TryTimeout(call, try_no) => self.try_timeout(call, try_no),
            Event::RetryDue(call) => {
                if matches!(self.calls.get(call).map(|c| &c.state), Some(CallState::BackingOff)) {
                    self.send_try(call);
                }
            }
        }
    }

    fn client_request(&mut self) {
        let root = self.roots.insert(Root {
            sent: self.now,
            epoch: self.epoch,
            attempts: vec![0; self.services.len()],
            open: 0,
            outcome: None,
        });
        self.metrics.record(self.now, |c| c.client.requests += 1);
        self.start_call(root, Owner::Client, self.entry);
    }

    fn start_call(&mut self, root: RootKey, owner: Owner, edge: usize) {
        let call =
            self.calls.insert(Call { root, owner, edge, tries: 0, state: CallState::BackingOff });
        self.metrics.record(self.now, |m| m.edges[edge].calls += 1);
        self.send_try(call);
    }

    fn send_try(&mut self, call: CallKey) {
        let c = &mut self.calls[call];
        c.tries += 1;
        c.state = CallState::Waiting(c.tries);
        let (root, edge, try_no) = (c.root, c.edge, c.tries);
        let retry = try_no > 1;
        self.metrics.record(self.now, |m| {
            m.edges[edge].tries += 1;
            m.edges[edge].retries += retry as u64;
        });
        if retry {
            let kind = PolicyEventKind::Retry { try_no };
            self.metrics.record_event(PolicyEvent { at_us: self.now, edge, kind });
        }
        let kind = if retry { DotKind::Retry } else { DotKind::FirstTry };
        self.roots[root].open += 1;
        self.send(root, edge, kind, Payload::Request { call, try_no });
        let timeout = self.edges[edge].timeout;
        self.schedule(self.now.saturating_add(timeout), Event::TryTimeout(call, try_no));
    }

    fn send(&mut self, root: RootKey, edge: usize, kind: DotKind, payload: Payload) {
        let arrives = self.now.saturating_add(self.edges[edge].latency);
        let msg =
            self.messages.insert(Message { root, edge, sent: self.now, arrives, kind, payload });
        self.schedule(arrives, Event::Deliver(msg));
    }

    fn deliver(&mut self, msg: MsgKey) {
        let Some(m) = self.messages.remove(msg) else {
            return;
        };
        match m.payload {
            Payload::Request { call, try_no } => {
                self.roots[m.root].open -= 1;
                self.receive(m.root, m.edge, (call, try_no));
            }
            Payload::Response { call, try_no, reply } => {
                let current = matches!(
                    self.calls.get(call).map(|c| &c.state),
                    Some(CallState::Waiting(n)) if *n == try_no
                );
                // A response to a try the caller gave up on is dropped.
                if current {
                    let result = match reply {
                        Reply::Success => TryResult::Success,
                        Reply::Error => TryResult::Error,
                        Reply::Rejected => TryResult::Rejected,
                    };
                    self.try_ended(call, result);
                }
            }
        }
        self.maybe_settle(m.root);
    }

    /// Adds a service's busy-worker and queued time since the last change
    /// to the metrics; called before every change of either count.
    fn account_occupancy(&mut self, service: usize) {
        let s = &mut self.services[service];
        let (counts, since) = ((s.busy, s.queued), s.occupancy_since);
        s.occupancy_since = self.now;
        self.metrics.record_occupancy(service, counts, since, self.now);
    }

    /// A try reaches its callee: it is served, queued or turned away.
    fn receive(&mut self, root: RootKey, edge: usize, reply_to: (CallKey, u32)) {
        let service = self.edges[edge].to;
        self.roots[root].attempts[service] += 1;
        self.metrics.record(self.now, |c| c.services[service].attempts += 1);

        let s = &mut self.services[service];
        let instance = s.next_instance;
        s.next_instance = (s.next_instance + 1) % s.instances.len();
        let (busy, queued) = (s.instances[instance].busy, s.instances[instance].queue.len() as u32);
        let (workers, capacity) = (s.workers, s.queue_capacity);
        if busy >= workers && queued >= capacity {
            self.metrics.record(self.now, |c| c.services[service].rejections.queue_full += 1);
            let (call, try_no) = reply_to;
            let reply = Reply::Rejected;
            self.send(root, edge, DotKind::Rejected, Payload::Response { call, try_no, reply });
            return;
        }
        let job = self.jobs.insert(Job {
            root,
            service,
            instance,
            arrived: self.now,
            scripted_error: None,
            reply_to,
            edge,
            state: JobState::Queued,
        });
        self.roots[root].open += 1;
        self.account_occupancy(service);
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
        self.metrics.record(self.now, |c| {
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
        self.schedule(self.now.saturating_add(from_millis(ms)), Event::WorkDone(job));
    }

    /// The service's own work is done: it fails, or makes its calls.
    fn work_done(&mut self, job: JobKey) {
        let (service, scripted) = (self.jobs[job].service, self.jobs[job].scripted_error);
        let s = &mut self.services[service];
        let failed = match scripted {
            Some(error) => error,
            None => {
                let p = s.error_rate;
                s.errors.chance(p)
            }
        };
        if failed {
            self.finish_job(job, Reply::Error);
            return;
        }
        let calls = s.calls.len();
        match (calls, s.fan_out) {
            (0, _) => self.finish_job(job, Reply::Success),
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
        let (service, root) = (self.jobs[job].service, self.jobs[job].root);
        let edge = self.services[service].calls[index];
        self.start_call(root, Owner::Job(job), edge);
    }

    /// One of a job's calls has ended: make the next call in sequence, or
    /// answer once none is pending.
    fn dependency_done(&mut self, job: JobKey, ok: bool) {
        let service = self.jobs[job].service;
        let calls = self.services[service].calls.len();
        let JobState::Calling { pending, next, failed } = &mut self.jobs[job].state else {
            unreachable!("a job that owns a call is calling")
        };
        *pending -= 1;
        *failed |= !ok;
        let (pending, next, failed) = (*pending, *next, *failed);
        if !failed && pending == 0 && next < calls {
            self.jobs[job].state = JobState::Calling { pending: 1, next: next + 1, failed };
            self.call_dependency(job, next);
        } else if pending == 0 {
            self.finish_job(job, if failed { Reply::Error } else { Reply::Success });
        }
    }

    /// The job answers its caller, frees its worker, and the worker takes
    /// the next queued job.
    fn finish_job(&mut self, job: JobKey, reply: Reply) {
        let j = self.jobs.remove(job).expect("a finishing job exists");
        let service = j.service;
        self.metrics.record(self.now, |c| match reply {
            Reply::Success => c.services[service].successes += 1,
            _ => c.services[service].errors += 1,
        });
        self.metrics.record_service_latency(self.now, service, self.now - j.arrived);
        let kind = if reply == Reply::Success { DotKind::Success } else { DotKind::Error };
        let (call, try_no) = j.reply_to;
        self.send(j.root, j.edge, kind, Payload::Response { call, try_no, reply });

        self.account_occupancy(service);
        let s = &mut self.services[service];
        match s.instances[j.instance].queue.pop_front() {
            Some(next) => {
                s.queued -= 1;
                self.start_work(next);
            }
            None => {
                s.busy -= 1;
                s.instances[j.instance].busy -= 1;
            }
        }
        self.roots[j.root].open -= 1;
        self.maybe_settle(j.root);
    }

    fn try_timeout(&mut self, call: CallKey, try_no: u32) {
        let Some(c) = self.calls.get(call) else {
            return;
        };
        if matches!(c.state, CallState::Waiting(n) if n == try_no) {
            let (edge, service) = (c.edge, self.edges[c.edge].to);
            self.metrics.record(self.now, |m| {
                m.services[service].timeouts += 1;
                m.edges[edge].timeouts += 1;
            });
            let kind = PolicyEventKind::Timeout { try_no };
            self.metrics.record_event(PolicyEvent { at_us: self.now, edge, kind });
            self.try_ended(call, TryResult::Timeout);
        }
    }

    /// The caller has the result of its current try: done, or retry.
    fn try_ended(&mut self, call: CallKey, result: TryResult) {
        let c = &mut self.calls[call];
        let edge = &self.edges[c.edge];
        if result != TryResult::Success && c.tries <= edge.retries {
            c.state = CallState::BackingOff;
            let at = self.now.saturating_add(edge.backoff);
            self.schedule(at, Event::RetryDue(call));
            return;
        }
        let c = self.calls.remove(call).expect("the call exists");
        if result != TryResult::Success {
            let (edge, tries) = (c.edge, c.tries);
            self.metrics.record(self.now, |m| m.edges[edge].failed_calls += 1);
            let kind = PolicyEventKind::GaveUp { tries };
            self.metrics.record_event(PolicyEvent { at_us: self.now, edge, kind });
        }
        match c.owner {
            Owner::Client => self.client_outcome(c.root, result),
            Owner::Job(job) => self.dependency_done(job, result == TryResult::Success),
        }
    }

    fn client_outcome(&mut self, root: RootKey, result: TryResult) {
        let outcome = match result {
            TryResult::Success => Outcome::Success,
            TryResult::Error => Outcome::Error,
            TryResult::Rejected => Outcome::Rejected,
            TryResult::Timeout => Outcome::Timeout,
        };
        let r = &mut self.roots[root];
        r.outcome = Some(outcome);
        let latency = self.now - r.sent;
        self.metrics.record(self.now, |m| {
            let client = &mut m.client;
            match outcome {
                Outcome::Success => client.successes += 1,
                Outcome::Error => client.errors += 1,
                Outcome::Timeout => client.timeouts += 1,
                Outcome::Rejected => client.rejections += 1,
            }
        });
        self.metrics.record_client_latency(self.now, latency);
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
        if r.epoch == self.epoch {
            self.metrics.record_settled(self.now, &r.attempts);
        }
    }
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
