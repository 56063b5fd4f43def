//! One leader among the instances: the background jobs that must run exactly once (mail
//! delivery, webhook delivery, monitors, the status clock, blob sweeping, scheduled backups) run
//! only on the instance that holds the leader lock.
//!
//! On PostgreSQL the lock is a session advisory lock on a connection the leader keeps for as long
//! as it leads; on SQLite (instances on one machine) it is an exclusive lock on a file in the data
//! directory. Either is released by the operating system or the database when the leader's
//! process dies, however it dies. Instances that do not lead try again every [`POLL`], so the
//! jobs resume on another instance within about one poll (plus, on PostgreSQL, the time the
//! server takes to notice a dead client's closed connection, immediate on a clean TCP close).
//!
//! A leader that loses its database connection stops its jobs at its next check, while another
//! instance may already have started them: for up to one [`POLL`] both may run. Every job is
//! safe under that overlap: mail and webhooks are leased per message, monitors and the status
//! clock write idempotent results, and the blob sweep only removes blobs without rows.

use crate::AppState;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often an instance that does not lead tries to take the lead, and how often the leader
/// checks that it still holds the lock.
pub const POLL: Duration = Duration::from_secs(1);

/// The file whose exclusive lock elects the leader on SQLite.
pub const LOCK_FILE: &str = "leader.lock";

/// Running background jobs, stopped when dropped (so stopping the election stops them too).
struct Jobs(Vec<JoinHandle<()>>);

impl Drop for Jobs {
    fn drop(&mut self) {
        for job in &self.0 {
            job.abort();
        }
    }
}

/// Runs the election until the server stops: whenever this instance takes the lead it starts
/// `jobs`, and stops them when it loses the lead.
pub async fn run(state: AppState, jobs: fn(&AppState) -> Vec<JoinHandle<()>>) {
    let mut candidate = Candidate::for_state(&state);
    let mut said_standby = false;
    loop {
        match candidate.try_lead().await {
            Ok(true) => {
                tracing::info!(leader = true, "this instance leads: it runs the background jobs");
                state.set_leading(true);
                let running = Jobs(jobs(&state));
                let why = candidate.until_lost().await;
                state.set_leading(false);
                drop(running);
                // Its jobs now run elsewhere: stale clocks here would look like stalled jobs.
                state.metrics().forget_jobs_except(&["content_watcher"]);
                tracing::warn!(error = %why, "this instance lost the lead and stopped its background jobs");
                said_standby = false;
            }
            Ok(false) if !said_standby => {
                tracing::info!(
                    leader = false,
                    "another instance leads the background jobs; this one stands by"
                );
                said_standby = true;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not take part in the leader election; trying again"),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// This instance's side of the election.
enum Candidate {
    Postgres {
        store: candor_store::Store,
        seat: Option<candor_store::LeaderSeat>,
    },
    File {
        path: std::path::PathBuf,
        held: Option<std::fs::File>,
    },
}

impl Candidate {
    fn for_state(state: &AppState) -> Candidate {
        match state.store().backend() {
            candor_store::Backend::Postgres => Candidate::Postgres {
                store: state.store().clone(),
                seat: None,
            },
            candor_store::Backend::Sqlite => Candidate::File {
                path: state.config().data_dir.join(LOCK_FILE),
                held: None,
            },
        }
    }

    /// Tries once to take the lead.
    async fn try_lead(&mut self) -> anyhow::Result<bool> {
        match self {
            Candidate::Postgres { store, seat } => {
                if seat.is_none() {
                    *seat = Some(store.leader_seat().await?);
                }
                let s = seat.as_mut().expect("seat just taken");
                match s.try_lead().await {
                    Ok(led) => Ok(led),
                    Err(e) => {
                        // A broken connection: a fresh seat next time.
                        if let Some(s) = seat.take() {
                            s.close().await;
                        }
                        Err(e.into())
                    }
                }
            }
            Candidate::File { path, held } => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&*path)
                    .map_err(|e| anyhow::anyhow!("cannot open the leader lock file {}: {e}", path.display()))?;
                match file.try_lock() {
                    Ok(()) => {
                        *held = Some(file);
                        Ok(true)
                    }
                    Err(std::fs::TryLockError::WouldBlock) => Ok(false),
                    Err(std::fs::TryLockError::Error(e)) => Err(anyhow::anyhow!("cannot lock {}: {e}", path.display())),
                }
            }
        }
    }

    /// Returns (with the reason) once this instance no longer surely holds the lead.
    async fn until_lost(&mut self) -> anyhow::Error {
        loop {
            tokio::time::sleep(POLL).await;
            match self {
                Candidate::Postgres { seat, .. } => {
                    let Some(s) = seat.as_mut() else {
                        return anyhow::anyhow!("no leader connection");
                    };
                    if let Err(e) = s.still_held().await {
                        if let Some(s) = seat.take() {
                            s.close().await;
                        }
                        return anyhow::anyhow!("the leader's database connection failed: {e}");
                    }
                }
                // A file lock lasts as long as this process holds the file open.
                Candidate::File { held, .. } => {
                    if held.is_none() {
                        return anyhow::anyhow!("the leader lock file is not held");
                    }
                }
            }
        }
    }
}
