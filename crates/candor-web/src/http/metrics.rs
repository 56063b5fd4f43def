//! What the server counts for `/metrics`: every answered request by method, route template and
//! status with its latency, and when each background job last went round its loop. Written in
//! the Prometheus text format (version 0.0.4) by [`Exposition`].
//!
//! Hand-written rather than a client crate: the format is a few lines per family, the gauges are
//! read from the database at scrape time anyway, and the request path only takes a read lock and
//! bumps atomics.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Upper bounds of the latency buckets, in seconds. Pages come from memory in well under a
/// millisecond; uploads and watermarked downloads take seconds.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of a request no route of the table took (public pages and 404s): the
/// concrete path would give every probe for a missing page a series of its own.
pub const FALLBACK_ROUTE: &str = "<site>";

/// The request series by route template, then by method and status.
type SeriesByRoute = HashMap<Box<str>, HashMap<(&'static str, u16), Arc<Series>>>;

/// The server's own counters; one per process, held by the state.
#[derive(Default)]
pub struct Metrics {
    http: RwLock<SeriesByRoute>,
    in_flight: AtomicI64,
    jobs: Mutex<Vec<JobClock>>,
}

/// The latency histogram of one method, route and status; its count is the request count.
#[derive(Default)]
struct Series {
    /// Requests per bucket (not cumulative); the last one is beyond the largest bound.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

struct JobClock {
    name: &'static str,
    every: Duration,
    last: Instant,
}

/// Marks a request in flight until dropped (so a request whose client went away still leaves).
pub struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Counts a request as in flight until the guard is dropped.
    pub fn request_started(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// Records one answered request. `route` is its template (never the concrete path).
    pub fn request_done(&self, method: &axum::http::Method, route: &str, status: u16, took: Duration) {
        let key = (method_label(method), status);
        let series = self
            .http
            .read()
            .ok()
            .and_then(|all| all.get(route).and_then(|by| by.get(&key)).cloned());
        let series = match series {
            Some(s) => s,
            None => {
                let Ok(mut all) = self.http.write() else { return };
                all.entry(route.into()).or_default().entry(key).or_default().clone()
            }
        };
        let secs = took.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(LATENCY_BUCKETS.len());
        series.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        series.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// A background job went round its loop; it means to do so every `every`. Its age in
    /// `/metrics` is measured from here, so a job that hangs or died shows a growing age.
    pub fn job_ran(&self, name: &'static str, every: Duration) {
        let Ok(mut jobs) = self.jobs.lock() else { return };
        match jobs.iter_mut().find(|j| j.name == name) {
            Some(j) => {
                j.last = Instant::now();
                j.every = every;
            }
            None => jobs.push(JobClock {
                name,
                every,
                last: Instant::now(),
            }),
        }
    }

    /// Drops the clocks of every job but `kept`, when this instance stops running them (it lost
    /// the lead), so `/metrics` does not report them as stalled here.
    pub fn forget_jobs_except(&self, kept: &[&str]) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.retain(|j| kept.contains(&j.name));
        }
    }

    /// Writes the request families and the job ages.
    pub fn write_to(&self, out: &mut Exposition) {
        let snapshot: Vec<(String, &'static str, u16, [u64; LATENCY_BUCKETS.len() + 1], u64)> = {
            let all = self.http.read().map(|a| {
                a.iter()
                    .flat_map(|(route, by)| {
                        by.iter().map(move |((method, status), s)| {
                            let buckets = std::array::from_fn(|i| s.buckets[i].load(Ordering::Relaxed));
                            (
                                route.to_string(),
                                *method,
                                *status,
                                buckets,
                                s.sum_micros.load(Ordering::Relaxed),
                            )
                        })
                    })
                    .collect::<Vec<_>>()
            });
            let mut all = all.unwrap_or_default();
            all.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
            all
        };
        out.family(
            "candor_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route template and status.",
        );
        for (route, method, status, buckets, _) in &snapshot {
            let status = status.to_string();
            let labels = [
                ("method", *method),
                ("route", route.as_str()),
                ("status", status.as_str()),
            ];
            out.sample(
                "candor_http_requests_total",
                &labels,
                buckets.iter().sum::<u64>() as f64,
            );
        }
        out.family(
            "candor_http_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its response head, by method, route template and status.",
        );
        for (route, method, status, buckets, sum_micros) in &snapshot {
            let status = status.to_string();
            let mut seen = 0u64;
            for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
                seen += buckets[i];
                let le = le.to_string();
                let labels = [
                    ("method", *method),
                    ("route", route.as_str()),
                    ("status", status.as_str()),
                    ("le", le.as_str()),
                ];
                out.sample("candor_http_request_duration_seconds_bucket", &labels, seen as f64);
            }
            let count = buckets.iter().sum::<u64>();
            let labels = [
                ("method", *method),
                ("route", route.as_str()),
                ("status", status.as_str()),
            ];
            let inf = [labels[0], labels[1], labels[2], ("le", "+Inf")];
            out.sample("candor_http_request_duration_seconds_bucket", &inf, count as f64);
            out.sample(
                "candor_http_request_duration_seconds_sum",
                &labels,
                *sum_micros as f64 / 1e6,
            );
            out.sample("candor_http_request_duration_seconds_count", &labels, count as f64);
        }
        out.gauge(
            "candor_http_requests_in_flight",
            "Requests being answered now (this scrape included).",
            self.in_flight.load(Ordering::Relaxed) as f64,
        );
        let jobs: Vec<(&'static str, f64, f64)> = self
            .jobs
            .lock()
            .map(|jobs| {
                jobs.iter()
                    .map(|j| (j.name, j.last.elapsed().as_secs_f64(), j.every.as_secs_f64()))
                    .collect()
            })
            .unwrap_or_default();
        out.family(
            "candor_job_last_run_age_seconds",
            "gauge",
            "Seconds since each background job last went round its loop (only jobs that ran at least once).",
        );
        for (name, age, _) in &jobs {
            out.sample("candor_job_last_run_age_seconds", &[("job", name)], *age);
        }
        out.family(
            "candor_job_interval_seconds",
            "gauge",
            "How often each background job means to run, for alerts on a job that fell behind.",
        );
        for (name, _, every) in &jobs {
            out.sample("candor_job_interval_seconds", &[("job", name)], *every);
        }
    }
}

/// The method as a label: the standard ones by name, anything else as `other` (a client may
/// send any token as a method, and each would be a series of its own).
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A page of the Prometheus text format (0.0.4), written family by family.
#[derive(Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// The `# HELP` and `# TYPE` lines that open a family.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample line.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{k}=\"{}\"", escape_label(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
    }

    /// A family of one unlabelled gauge.
    pub fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }

    pub fn finish(self) -> String {
        self.text
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A sample value as the format writes it: integers without a fraction, `NaN` and `+Inf` by name.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn requests_land_in_cumulative_buckets_by_template_and_status() {
        let m = Metrics::default();
        m.request_done(&Method::GET, "/s/{slug}", 200, Duration::from_micros(300));
        m.request_done(&Method::GET, "/s/{slug}", 200, Duration::from_millis(30));
        m.request_done(&Method::GET, "/s/{slug}", 404, Duration::from_secs(60));
        m.request_done(&Method::from_bytes(b"BREW").unwrap(), "/s/{slug}", 405, Duration::ZERO);
        let mut out = Exposition::default();
        m.write_to(&mut out);
        let text = out.finish();
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no line {prefix} in\n{text}"))
                .to_owned()
        };
        assert_eq!(
            line(r#"candor_http_requests_total{method="GET",route="/s/{slug}",status="200"}"#),
            r#"candor_http_requests_total{method="GET",route="/s/{slug}",status="200"} 2"#
        );
        let bucket = |le: &str| {
            line(&format!(
                r#"candor_http_request_duration_seconds_bucket{{method="GET",route="/s/{{slug}}",status="200",le="{le}"}}"#
            ))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_owned()
        };
        assert_eq!(bucket("0.0005"), "1");
        assert_eq!(bucket("0.025"), "1");
        assert_eq!(bucket("0.05"), "2");
        assert_eq!(bucket("+Inf"), "2");
        assert!(
            text.contains(r#"le="+Inf"} 1"#),
            "a minute is beyond every bound but counted"
        );
        assert!(text.contains(r#"method="other""#), "unknown methods share one label");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition::default();
        out.sample("x", &[("route", "a\"b\\c\nd")], 1.5);
        assert_eq!(out.finish(), "x{route=\"a\\\"b\\\\c\\nd\"} 1.5\n");
    }
}
