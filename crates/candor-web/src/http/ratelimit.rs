//! Failure-based rate limiting with exponential backoff, in memory.
//!
//! After `free` failures for a key (an IP, an account), each further failure doubles the wait
//! before the next attempt, up to `max`. A success clears the key. The wait always ends, so an
//! attacker hammering the owner's address slows the owner down but never locks them out for good.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Backoff {
    free: u32,
    max: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    failures: u32,
    blocked_until: Instant,
    last: Instant,
}

impl Backoff {
    pub fn new(free: u32, max: Duration) -> Backoff {
        Backoff {
            free,
            max,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` while the key must wait.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let map = self.entries.lock().expect("backoff lock");
        match map.get(key) {
            Some(e) if e.blocked_until > Instant::now() => Err((e.blocked_until - Instant::now()).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    pub fn failure(&self, key: &str) {
        let now = Instant::now();
        let mut map = self.entries.lock().expect("backoff lock");
        if map.len() > 50_000 {
            // Forget keys quiet for longer than the longest wait, so memory stays bounded.
            let max = self.max;
            map.retain(|_, e| now.duration_since(e.last) < max);
        }
        let e = map.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            blocked_until: now,
            last: now,
        });
        e.failures += 1;
        e.last = now;
        if e.failures >= self.free {
            let exp = (e.failures - self.free).min(16);
            let wait = Duration::from_secs(1u64 << exp).min(self.max);
            e.blocked_until = now + wait;
        }
    }

    pub fn success(&self, key: &str) {
        self.entries.lock().expect("backoff lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_after_free_attempts_and_clears_on_success() {
        let b = Backoff::new(3, Duration::from_secs(900));
        for _ in 0..2 {
            b.failure("k");
            assert!(b.check("k").is_ok());
        }
        b.failure("k");
        assert!(b.check("k").is_err());
        assert!(b.check("other").is_ok());
        b.success("k");
        assert!(b.check("k").is_ok());
    }

    #[test]
    fn wait_is_capped() {
        let b = Backoff::new(1, Duration::from_secs(5));
        for _ in 0..40 {
            b.failure("k");
        }
        assert!(b.check("k").unwrap_err() <= 5);
    }
}
