//! The monitor runner: one tokio task started by `serve` that knows when each enabled monitor
//! is next due, runs due checks with bounded concurrency, hands their results to the
//! `record_checks` use case in batches (once a second), re-reads the monitor list when it
//! changes, and prunes old results every hour.

use crate::AppState;
use candor_app::status::CheckResult;
use candor_core::status::monitor::MonitorSpec;
use candor_monitor::Guard;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

/// How often results are written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How often the list is compared with the database (changes made by another process; this
/// process's own changes wake the runner at once).
const RELOAD_EVERY: Duration = Duration::from_secs(10);
/// How often old results are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Results held while the database refuses writes; older ones are dropped beyond this.
const MAX_PENDING: usize = 20_000;

/// A monitor the runner schedules. `generation` tells a heap entry of an edited or removed
/// monitor from a current one.
struct Scheduled {
    spec: Arc<MonitorSpec>,
    generation: u64,
}

/// Runs until aborted. Without a usable extra root certificate it logs why and runs nothing.
pub(crate) async fn run(state: AppState) {
    let settings = state.config().monitors.clone();
    let extra = match &settings.extra_root {
        Some(path) => match tokio::fs::read(path).await {
            Ok(pem) => Some(pem),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "monitors are not run: status_monitor_extra_root cannot be read");
                return;
            }
        },
        None => None,
    };
    let guard = match Guard::new(settings.allow_private, extra.as_deref()) {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "monitors are not run: status_monitor_extra_root");
            return;
        }
    };
    Runner {
        state,
        guard,
        slots: Arc::new(Semaphore::new(settings.concurrency)),
        retention_secs: settings.retention_days * 86_400,
        monitors: HashMap::new(),
        due: BinaryHeap::new(),
        generation: 0,
        fingerprint: None,
        pending: vec![],
    }
    .run()
    .await
}

struct Runner {
    state: AppState,
    guard: Guard,
    slots: Arc<Semaphore>,
    retention_secs: i64,
    monitors: HashMap<i64, Scheduled>,
    /// When each monitor is next due: (time, monitor id, generation).
    due: BinaryHeap<Reverse<(Instant, i64, u64)>>,
    generation: u64,
    fingerprint: Option<String>,
    pending: Vec<CheckResult>,
}

impl Runner {
    async fn run(mut self) {
        let wake = self.state.monitors_wake();
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<CheckResult>();
        let mut reload = tokio::time::interval(RELOAD_EVERY);
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        for tick in [&mut reload, &mut prune] {
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        // Armed by the first result after a flush, so a server without monitors does not wake
        // every second.
        let mut flush_at: Option<Instant> = None;
        loop {
            // The reload tick brings the loop round at least this often.
            self.state.metrics().job_ran("monitors", RELOAD_EVERY);
            let next_due = self.due.peek().map(|Reverse((at, _, _))| *at);
            tokio::select! {
                _ = sleep_until(next_due) => self.dispatch(&done_tx),
                Some(result) = done_rx.recv() => {
                    self.pending.push(result);
                    flush_at.get_or_insert_with(|| Instant::now() + FLUSH_EVERY);
                }
                _ = sleep_until(flush_at) => {
                    self.flush().await;
                    flush_at = (!self.pending.is_empty()).then(|| Instant::now() + FLUSH_EVERY);
                }
                _ = reload.tick() => self.reload(false).await,
                _ = wake.notified() => self.reload(true).await,
                _ = prune.tick() => self.prune().await,
            }
        }
    }

    /// Starts every check that is due, and schedules its monitor's next one.
    fn dispatch(&mut self, done: &mpsc::UnboundedSender<CheckResult>) {
        let now = Instant::now();
        while let Some(Reverse((at, id, generation))) = self.due.peek().copied() {
            if at > now {
                break;
            }
            self.due.pop();
            let Some(m) = self.monitors.get(&id).filter(|m| m.generation == generation) else {
                continue; // edited or removed since
            };
            let interval = Duration::from_secs(u64::from(m.spec.interval_secs));
            // Keep to the schedule, unless the runner fell behind by more than an interval.
            let next = if at + interval > now {
                at + interval
            } else {
                now + interval
            };
            self.due.push(Reverse((next, id, generation)));
            let (spec, guard, slots, done) = (m.spec.clone(), self.guard.clone(), self.slots.clone(), done.clone());
            tokio::spawn(async move {
                let Ok(_slot) = slots.acquire_owned().await else { return };
                let outcome = candor_monitor::run_check(&spec, &guard).await;
                let _ = done.send(CheckResult {
                    monitor_id: id,
                    at: candor_store::now(),
                    status: outcome.status,
                    latency_ms: outcome.latency_ms,
                    detail: outcome.detail,
                });
            });
        }
    }

    /// Writes the results gathered since the last flush, in one transaction.
    async fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        match self.state.app().record_checks(&self.pending).await {
            Ok(done) => {
                self.pending.clear();
                self.state.apply(done.effects).await;
            }
            Err(e) => {
                tracing::error!(error = %e, results = self.pending.len(), "monitor results could not be recorded; retrying");
                if self.pending.len() > MAX_PENDING {
                    let excess = self.pending.len() - MAX_PENDING;
                    self.pending.drain(..excess);
                }
            }
        }
    }

    /// Reads the monitor list again when it changed (`forced`: this process changed it).
    async fn reload(&mut self, forced: bool) {
        let org = self.state.org();
        let fingerprint = match self.state.store().monitors_fingerprint(org).await {
            Ok(f) => f,
            Err(e) => return tracing::warn!(error = %e, "could not read the monitors' fingerprint"),
        };
        if !forced && self.fingerprint.as_ref() == Some(&fingerprint) {
            return;
        }
        let list = match self.state.store().monitors(org).await {
            Ok(list) => list,
            Err(e) => return tracing::warn!(error = %e, "could not read the monitors"),
        };
        let first_load = self.fingerprint.is_none();
        self.fingerprint = Some(fingerprint);
        let now = Instant::now();
        let mut kept = HashMap::new();
        for m in list.into_iter().filter(|m| m.enabled) {
            match self.monitors.remove(&m.id) {
                Some(old) if *old.spec == m.spec => {
                    kept.insert(m.id, old);
                }
                _ => {
                    self.generation += 1;
                    // At start-up the checks are spread over their interval so they do not all
                    // go at once; a monitor added or edited since is checked straight away.
                    let first = if first_load {
                        now + spread(m.id, m.spec.interval_secs)
                    } else {
                        now
                    };
                    self.due.push(Reverse((first, m.id, self.generation)));
                    kept.insert(
                        m.id,
                        Scheduled {
                            spec: Arc::new(m.spec),
                            generation: self.generation,
                        },
                    );
                }
            }
        }
        self.monitors = kept;
        // Entries of removed monitors are skipped as they come due; rebuild when they pile up.
        if self.due.len() > 2 * self.monitors.len() + 64 {
            let monitors = &self.monitors;
            self.due
                .retain(|Reverse((_, id, g))| monitors.get(id).is_some_and(|m| m.generation == *g));
        }
    }

    async fn prune(&mut self) {
        let before = candor_store::now() - self.retention_secs;
        match self.state.app().prune_monitor_results(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(results = n, "pruned old monitor results"),
            Err(e) => tracing::warn!(error = %e, "could not prune old monitor results"),
        }
    }
}

/// A fixed offset within the interval for each monitor, so a restart spreads them the same way.
fn spread(id: i64, interval_secs: u32) -> Duration {
    let ms = u64::from(interval_secs) * 1000;
    Duration::from_millis((id as u64).wrapping_mul(2_654_435_761) % ms.max(1))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
