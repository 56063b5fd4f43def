//! Shared application state.

use crate::config::Config;
use crate::site::Site;
use candor_core::SiteChange;
use candor_store::{OrgId, Store};
use chrono::NaiveDate;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// The use cases: every change of state goes through them.
    app: candor_app::App,
    store: Store,
    org: OrgId,
    config: Config,
    site: RwLock<Arc<Site>>,
    headers: crate::http::headers::SecurityHeaders,
    /// Sign-in failures per IP (and second-factor and password-change failures per user): three
    /// free, then doubling waits up to 15 min.
    login_backoff: crate::http::ratelimit::Backoff,
    /// Sign-in failures per account: three free, then doubling waits capped at one minute.
    account_backoff: crate::http::ratelimit::Backoff,
    /// Bad API tokens per IP: ten free, then doubling waits up to 15 min.
    api_backoff: crate::http::ratelimit::Backoff,
    /// Password reset links (the back office's team only), per IP and per address: every
    /// request counts. Three free, then doubling waits up to an hour.
    reset_backoff: crate::http::ratelimit::Backoff,
    /// Sign-ins started per IP (single sign-on, passkey; each stores a ceremony in progress):
    /// twenty free, then doubling waits up to 15 min; a completed sign-in clears it.
    start_backoff: crate::http::ratelimit::Backoff,
    /// Public forms that mail a typed address (access requests, subscriptions, viewer sign-in),
    /// per client address: a burst of thirty (colleagues behind one company network use them at
    /// once), then one every 30 s.
    mail_address_budget: crate::http::ratelimit::Budget,
    /// The same forms per email address: three, then one every two minutes (each sends mail to
    /// that address).
    mail_email_budget: crate::http::ratelimit::Budget,
    /// The WebAuthn relying party (this site), when `public_url` has a domain name.
    webauthn: Option<webauthn_rs::Webauthn>,
    /// Wakes the outbox worker when a message is queued.
    outbox_wake: Arc<tokio::sync::Notify>,
    /// Wakes the webhook worker when a delivery is queued or made due.
    webhook_wake: Arc<tokio::sync::Notify>,
    /// The identity provider, when single sign-on is configured.
    oidc: Option<crate::identity::oidc::OidcClient>,
    /// How many times the public site was rendered since start (an idle server renders nothing).
    site_builds: std::sync::atomic::AtomicU64,
    /// How many incremental updates of the public site were swapped in since start.
    site_updates: std::sync::atomic::AtomicU64,
    /// Held while a new site is made and swapped in, so updates happen one after the other: two
    /// incremental updates made side by side from the same site would each lose the other's change.
    site_update: tokio::sync::Mutex<()>,
    /// Watermarking jobs (upload checks and downloads) that may run at once: one per core. The
    /// rest wait their turn, so parallel downloads of a large PDF cannot exhaust memory.
    watermark_slots: crate::watermark::Slots,
    /// Requests and background jobs counted for `/metrics`.
    metrics: crate::http::metrics::Metrics,
    /// Wakes the monitor runner when a monitor is added, edited or removed.
    monitors_wake: Arc<tokio::sync::Notify>,
    /// Whether this instance leads, and so runs the background jobs (see [`crate::leader`]).
    leading: std::sync::atomic::AtomicBool,
    /// Tells this instance's site-change notices from other instances' ([`crate::site_notice`]).
    instance: u64,
    /// Views of public pages counted since the last flush ([`crate::http::page_views`]).
    page_views: crate::http::page_views::PageViews,
}

impl AppState {
    /// Builds the state and renders the site once.
    /// Builds the state: renders the site once, opens the blob store and loads the master key
    /// ring (creating the key file on first start).
    pub async fn new(store: Store, org: OrgId, config: Config) -> anyhow::Result<AppState> {
        let blobs = candor_blob::BlobStore::open(&config.storage.backend)?;
        let (ring, _) = candor_blob::keyfile::load(&config.data_dir, config.storage.master_key.as_deref(), true)?;
        let app = candor_app::App::new(
            store.clone(),
            org,
            blobs,
            ring,
            config.data_dir.clone(),
            config.storage.master_key.clone(),
        )
        .with_public_url(&config.public_url);
        let site = Site::load(&app, &config.public_url, today()).await?;
        let headers = crate::http::headers::SecurityHeaders::new(&config);
        let webauthn = relying_party(&config.public_url);
        let oidc = config
            .oidc
            .clone()
            .map(|o| crate::identity::oidc::OidcClient::new(o, &config.public_url))
            .transpose()
            .map_err(|e| anyhow::anyhow!("single sign-on settings: {e}"))?;
        let state = AppState {
            inner: Arc::new(Inner {
                app,
                store: store.clone(),
                org,
                config,
                site: RwLock::new(Arc::new(site)),
                headers,
                login_backoff: crate::http::ratelimit::Backoff::new(
                    store.clone(),
                    "login",
                    3,
                    std::time::Duration::from_secs(900),
                ),
                api_backoff: crate::http::ratelimit::Backoff::new(
                    store.clone(),
                    "api",
                    10,
                    std::time::Duration::from_secs(900),
                ),
                account_backoff: crate::http::ratelimit::Backoff::new(
                    store.clone(),
                    "account",
                    3,
                    std::time::Duration::from_secs(60),
                ),
                reset_backoff: crate::http::ratelimit::Backoff::new(
                    store.clone(),
                    "mail",
                    3,
                    std::time::Duration::from_secs(3600),
                ),
                outbox_wake: Arc::new(tokio::sync::Notify::new()),
                webhook_wake: Arc::new(tokio::sync::Notify::new()),
                start_backoff: crate::http::ratelimit::Backoff::new(
                    store.clone(),
                    "start",
                    20,
                    std::time::Duration::from_secs(900),
                ),
                mail_address_budget: crate::http::ratelimit::Budget::new(
                    store.clone(),
                    "mail-address",
                    30,
                    std::time::Duration::from_secs(30),
                ),
                mail_email_budget: crate::http::ratelimit::Budget::new(
                    store.clone(),
                    "mail-email",
                    3,
                    std::time::Duration::from_secs(120),
                ),
                webauthn,
                oidc,
                site_builds: Default::default(),
                site_updates: Default::default(),
                site_update: tokio::sync::Mutex::new(()),
                watermark_slots: crate::watermark::Slots::new(
                    std::thread::available_parallelism().map_or(2, usize::from),
                ),
                metrics: Default::default(),
                monitors_wake: Arc::new(tokio::sync::Notify::new()),
                leading: Default::default(),
                instance: crate::site_notice::instance_id(),
                page_views: Default::default(),
            }),
        };
        // Secrets an older version stored in plaintext are sealed before the first request.
        state.app().seal_plaintext_secrets().await?;
        Ok(state)
    }

    /// The use cases. Handlers call one of them for every change of state, then [`AppState::apply`].
    pub fn app(&self) -> &candor_app::App {
        &self.inner.app
    }

    /// The one place a use case's effects are applied: the public pages it touched are rendered
    /// again, the outbox worker is woken for its mail (and the webhook worker for its
    /// deliveries), and its audit entries go to stdout as
    /// JSON lines when `audit_stdout` is on. The change is already committed, so a page that
    /// fails to render is logged and left to the content watcher, which renders it on its next
    /// round; the person's action still succeeded.
    pub async fn apply(&self, effects: candor_app::Effects) {
        if self.inner.config.audit_stdout {
            for entry in &effects.audit {
                match serde_json::to_string(entry) {
                    Ok(line) => println!("{line}"),
                    Err(e) => tracing::error!(error = %e, "could not print an audit entry"),
                }
            }
        }
        if effects.mail_queued > 0 {
            self.wake_outbox();
        }
        if effects.webhooks_queued > 0 {
            self.inner.webhook_wake.notify_one();
        }
        // Other instances on the same PostgreSQL start their update while this one runs its own,
        // and the leader (maybe another instance) delivers the queued mail at once.
        let change = crate::site_notice::Change {
            site: effects.site,
            mail: effects.mail_queued > 0,
            webhooks: effects.webhooks_queued > 0,
        };
        if !change.is_empty() {
            let notice = crate::site_notice::encode(self.inner.instance, &change);
            if let Err(e) = self.inner.store.notify_instances(&notice).await {
                tracing::warn!(error = %e, "could not tell other instances of a change; their polls will catch up");
            }
        }
        if !change.site.is_empty() {
            if let Err(e) = self.apply_site_changes(&change.site).await {
                tracing::error!(error = %e, "could not render the public site after a change; the content watcher will retry");
            }
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }
    /// Views of public pages counted in memory, not yet in the database.
    pub fn page_views(&self) -> &crate::http::page_views::PageViews {
        &self.inner.page_views
    }
    pub fn org(&self) -> OrgId {
        self.inner.org
    }
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    /// The slots watermarking jobs queue for (see [`crate::watermark::in_slot`]).
    pub fn watermark_slots(&self) -> crate::watermark::Slots {
        self.inner.watermark_slots.clone()
    }
    /// What `/metrics` reports of requests and background jobs.
    pub fn metrics(&self) -> &crate::http::metrics::Metrics {
        &self.inner.metrics
    }
    pub(crate) fn login_backoff(&self) -> &crate::http::ratelimit::Backoff {
        &self.inner.login_backoff
    }
    pub(crate) fn account_backoff(&self) -> &crate::http::ratelimit::Backoff {
        &self.inner.account_backoff
    }
    pub(crate) fn api_backoff(&self) -> &crate::http::ratelimit::Backoff {
        &self.inner.api_backoff
    }
    pub fn blobs(&self) -> &candor_blob::BlobStore {
        self.inner.app.blobs()
    }
    pub fn key_ring(&self) -> Arc<candor_crypto::envelope::KeyRing> {
        self.inner.app.key_ring()
    }
    /// See [`candor_app::App::key_ring_for`].
    pub fn key_ring_for(&self, key_id: &str) -> anyhow::Result<Arc<candor_crypto::envelope::KeyRing>> {
        self.inner.app.key_ring_for(key_id)
    }
    pub(crate) fn oidc(&self) -> Option<&crate::identity::oidc::OidcClient> {
        self.inner.oidc.as_ref()
    }
    /// Password sign-in is off (`oidc_only`).
    pub(crate) fn sso_only(&self) -> bool {
        self.inner.config.oidc.as_ref().is_some_and(|o| o.only)
    }
    pub(crate) fn start_backoff(&self) -> &crate::http::ratelimit::Backoff {
        &self.inner.start_backoff
    }
    pub(crate) fn webauthn(&self) -> Option<&webauthn_rs::Webauthn> {
        self.inner.webauthn.as_ref()
    }
    pub(crate) fn reset_backoff(&self) -> &crate::http::ratelimit::Backoff {
        &self.inner.reset_backoff
    }
    /// The public frame for a visitor's form: with "Your documents" in the header when a viewer
    /// is signed in (asking for more documents, say), as on the site's own pages for them.
    pub(crate) async fn visitor_layout(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> crate::http::error::WebResult<crate::http::public_layout::Layout> {
        let site = self.site().await;
        let signed_in = crate::http::viewer_session::carries_session(self, headers)
            && crate::http::viewer_session::signed_in(self, headers).await?.is_some();
        Ok(match signed_in {
            true => site.viewer_content().layout.clone(),
            false => site.layout.clone(),
        })
    }

    /// Spends one request of the mail budgets of the client address `ip` and of `email`, or
    /// says how many seconds to wait when either is spent (and spends neither). A refusal says
    /// nothing about whether the address is known: every address has a budget of its own.
    pub(crate) async fn spend_mail_budgets(&self, ip: &str, email: &str) -> Result<(), u64> {
        self.mail_budgets_wait(ip, email).await?;
        self.take_mail_budgets(ip, email).await
    }

    /// `Err(seconds)` while the mail budget of `ip` or of `email` is spent; spends nothing (a
    /// form whose checks run inside its use case asks first and spends only on success).
    pub(crate) async fn mail_budgets_wait(&self, ip: &str, email: &str) -> Result<(), u64> {
        let (per_address, per_email) = (&self.inner.mail_address_budget, &self.inner.mail_email_budget);
        let waits = [per_address.check(ip).await, per_email.check(email).await];
        match waits.iter().filter_map(|w| w.err()).max() {
            Some(secs) => Err(secs),
            None => Ok(()),
        }
    }

    /// Spends one request of each budget.
    pub(crate) async fn take_mail_budgets(&self, ip: &str, email: &str) -> Result<(), u64> {
        self.inner.mail_email_budget.take(email).await?;
        self.inner.mail_address_budget.take(ip).await
    }
    /// Tells the outbox worker that mail was queued, so it goes out now rather than at the next poll.
    pub fn wake_outbox(&self) {
        self.inner.outbox_wake.notify_one();
    }
    pub(crate) fn outbox_wake(&self) -> Arc<tokio::sync::Notify> {
        self.inner.outbox_wake.clone()
    }
    /// Tells the monitor runner that the monitor list changed, so it reads it again now.
    pub fn monitors_changed(&self) {
        self.inner.monitors_wake.notify_one();
    }
    pub(crate) fn monitors_wake(&self) -> Arc<tokio::sync::Notify> {
        self.inner.monitors_wake.clone()
    }

    /// Whether this instance currently runs the background jobs (it holds the leader lock).
    pub fn is_leading(&self) -> bool {
        self.inner.leading.load(std::sync::atomic::Ordering::Relaxed)
    }
    pub(crate) fn set_leading(&self, leading: bool) {
        self.inner.leading.store(leading, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn webhook_wake(&self) -> Arc<tokio::sync::Notify> {
        self.inner.webhook_wake.clone()
    }
    pub(crate) fn security_headers(&self) -> &crate::http::headers::SecurityHeaders {
        &self.inner.headers
    }

    /// The current rendered site. When the date has changed since it was rendered (certificates
    /// may have expired overnight), it is rendered again first.
    /// The current rendered site if it was rendered today, without waiting: `None` when
    /// [`AppState::site`] would have to render it again first.
    pub fn site_if_current(&self) -> Option<Arc<Site>> {
        let site = self.inner.site.read().ok()?.clone();
        (site.built_for == today()).then_some(site)
    }

    pub async fn site(&self) -> Arc<Site> {
        let site = self.inner.site.read().expect("site lock").clone();
        if site.built_for == today() {
            return site;
        }
        match self.refresh_site().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "could not re-render the site; serving the previous one");
                site
            }
        }
    }

    /// Re-renders the site when content changed behind this process's back (a CLI import, another
    /// instance). One small query per interval; runs until the server stops. On PostgreSQL it also
    /// listens for other instances' notices ([`crate::site_notice`]) and applies each at once.
    pub async fn watch_content(self, every: std::time::Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (notices, mut received) = tokio::sync::mpsc::channel(64);
        let _listener = (self.inner.store.backend() == candor_store::Backend::Postgres).then(|| {
            AbortOnDrop(tokio::spawn(crate::site_notice::listen(
                self.inner.config.database_url.clone(),
                self.inner.instance,
                notices,
            )))
        });
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    self.metrics().job_ran("content_watcher", every);
                    self.check_for_changes().await
                }
                Some(notice) = received.recv() => match notice {
                    crate::site_notice::Notice::Changes(change) => {
                        if change.mail {
                            self.wake_outbox();
                        }
                        if change.webhooks {
                            self.inner.webhook_wake.notify_one();
                        }
                        if !change.site.is_empty() {
                            if let Err(e) = self.apply_site_changes(&change.site).await {
                                tracing::error!(error = %e, "could not update the site after another instance's change");
                            }
                        }
                    }
                    crate::site_notice::Notice::Own => {}
                    crate::site_notice::Notice::Unknown => self.check_for_changes().await,
                },
            }
        }
    }

    /// One look at the database for content and status changed behind this process's back.
    async fn check_for_changes(&self) {
        let built_from = self.inner.site.read().expect("site lock").fingerprint;
        match self.inner.store.content_fingerprint(self.inner.org).await {
            Ok(now) if now != built_from => {
                // An update under way may be about to swap in a site of this very content (a
                // publish is committed before its update starts): wait for it and look again.
                let settled = {
                    let _updates_done = self.inner.site_update.lock().await;
                    self.inner.site.read().expect("site lock").fingerprint
                };
                if settled != now {
                    if let Err(e) = self.refresh_site().await {
                        tracing::error!(error = %e, "could not re-render the site after a content change");
                    }
                }
            }
            Ok(_) => {
                if let Err(e) = self.check_updated_site().await {
                    tracing::warn!(error = %e, "could not check the updated site against the database");
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not check for content changes"),
        }
        if let Err(e) = self.check_status().await {
            tracing::warn!(error = %e, "could not check for status changes");
        }
    }

    /// Brings the status pages up to date when the status changed behind this process's back
    /// (another instance on the same database opened an incident): one small query per round.
    async fn check_status(&self) -> candor_app::Result<()> {
        let seen = self.inner.site.read().expect("site lock").status_fingerprint.clone();
        let now = self.inner.store.status_fingerprint(self.inner.org).await?;
        if now != seen {
            self.apply_site_changes(&[SiteChange::Status]).await?;
        }
        Ok(())
    }

    /// After an incremental update: reads all content once and renders everything again if the
    /// site does not show exactly that (a change made elsewhere landed just before the update,
    /// whose fingerprint then covered it unread). Does nothing for a site already checked.
    async fn check_updated_site(&self) -> candor_app::Result<()> {
        use std::sync::atomic::Ordering;
        let site = self.inner.site.read().expect("site lock").clone();
        if !site.needs_check.load(Ordering::Relaxed) {
            return Ok(());
        }
        // Read without the update lock (at 50x the demo's content this takes about 100 ms, which
        // a publish should not wait for); what is read is compared with the site taken above.
        let fingerprint = self.inner.store.content_fingerprint(self.inner.org).await?;
        let source = crate::site::Source::read(&self.inner.store, self.inner.org).await?;
        if fingerprint == site.fingerprint && site.matches(&source) {
            site.needs_check.store(false, Ordering::Relaxed);
            return Ok(());
        }
        if !Arc::ptr_eq(&self.inner.site.read().expect("site lock").clone(), &site) {
            return Ok(()); // replaced meanwhile; the next tick looks at the new one
        }
        tracing::info!("the updated site missed a change made elsewhere; rendering everything");
        self.refresh_site().await.map(drop)
    }

    /// Records an event that changes nothing else (a refused attempt, a token's use) through
    /// its use case. The request it belongs to goes on if the log cannot be written; the failure
    /// is logged.
    pub async fn record(
        &self,
        actor: &candor_app::Actor,
        action: candor_app::Action,
        target: impl Into<String>,
        details: serde_json::Value,
    ) {
        match self.inner.app.record(actor, action, target, details).await {
            Ok(done) => self.apply(done.effects).await,
            Err(e) => tracing::error!(error = %e, audit.action = action.name(), "could not write the audit log"),
        }
    }

    /// How many times the site was rendered after start-up.
    pub fn site_builds(&self) -> u64 {
        self.inner.site_builds.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many incremental updates ([`AppState::apply_site_changes`]) were swapped in after
    /// start-up; their fallbacks to a full render count in [`AppState::site_builds`] instead.
    pub fn site_updates(&self) -> u64 {
        self.inner.site_updates.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Renders the site from the database and swaps it in. Called after every publish.
    pub async fn refresh_site(&self) -> candor_app::Result<Arc<Site>> {
        let _one_at_a_time = self.inner.site_update.lock().await;
        self.inner
            .site_builds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let site = Site::load(&self.inner.app, &self.inner.config.public_url, today()).await?;
        Ok(self.swap_site(site))
    }

    /// Puts `site` in place, its unchanged pages keeping their `Last-Modified` dates. The
    /// previous one is freed after the lock is released (at fifty times the demo's content that
    /// takes milliseconds, which page views should not wait for). Callers hold `site_update`.
    fn swap_site(&self, mut site: Site) -> Arc<Site> {
        let current = self.inner.site.read().expect("site lock").clone();
        site.keep_dates_of(&current);
        let site = Arc::new(site);
        let previous = std::mem::replace(&mut *self.inner.site.write().expect("site lock"), site.clone());
        drop(previous);
        drop(current);
        site
    }

    /// Brings the site up to date after `changes` (a use case's "site changed" effect): reads
    /// and renders only what they touch. `Everything`, a new day, or an update that fails, render
    /// everything ([`AppState::refresh_site`]).
    pub async fn apply_site_changes(&self, changes: &[SiteChange]) -> candor_app::Result<Arc<Site>> {
        if changes.contains(&SiteChange::Everything) {
            return self.refresh_site().await;
        }
        let guard = self.inner.site_update.lock().await;
        let current = self.inner.site.read().expect("site lock").clone();
        if changes.is_empty() {
            return Ok(current);
        }
        let day = today();
        if current.source.is_none() || current.built_for != day {
            drop(guard);
            return self.refresh_site().await;
        }
        let updated = current
            .apply(&self.inner.app, &self.inner.config.public_url, day, changes)
            .await;
        match updated {
            Ok(site) => {
                let site = self.swap_site(site);
                self.inner
                    .site_updates
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(site)
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not update the site; rendering everything");
                drop(guard);
                self.refresh_site().await
            }
        }
    }
}

/// A task stopped when its handle goes (the content watcher's listener stops with the watcher).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Passkeys are bound to the site's domain (the relying party id) and origin. WebAuthn does not
/// allow an IP address there, so a Candor reached by IP has no passkeys (and says so).
fn relying_party(public_url: &str) -> Option<webauthn_rs::Webauthn> {
    let origin = url::Url::parse(public_url).ok()?;
    let domain = match origin.host()? {
        url::Host::Domain(d) => d.to_owned(),
        _ => {
            tracing::info!("passkeys are off: public_url is an IP address; set it to a domain name to use them");
            return None;
        }
    };
    match webauthn_rs::WebauthnBuilder::new(&domain, &origin).and_then(|b| b.rp_name("Candor").build()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are off: public_url is not usable for WebAuthn");
            None
        }
    }
}

pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}
