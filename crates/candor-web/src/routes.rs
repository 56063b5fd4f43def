//! Every route of Candor in one table — public site, visitor forms, viewer, back office and API
//! — each with who may use it. The router is built from this table and the access checks run
//! from it, so a route cannot exist without a rule, and the route × role test
//! (`it/access.rs`) walks every row.
//!
//! This module is the composition root: it alone names the handlers of every feature.

use crate::AppState;
use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use candor_core::access::Permission;

/// Who may reach a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the public site, public forms, sign-in and single-use link pages.
    Public,
    /// Any signed-in back-office user (sign out, their own sessions).
    SignedIn,
    /// A back-office user whose role has this permission.
    Needs(Permission),
    /// A viewer signed in by emailed link (NDA documents); others are sent to sign in.
    Viewer,
    /// An API token whose scope allows the method (writes need `read-write`) and whose creator's
    /// current role has this permission.
    Token(Permission),
    /// A metrics scraper: the bearer `metrics_token` when one is configured, else a client on
    /// this machine (see [`crate::ops::enforce`]).
    Scraper,
}

/// Which part of the site a route belongs to: it decides the layers around it (caching,
/// content security policy, the Origin check, error format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// Public pages and operations endpoints.
    Site,
    /// The visitor's path to NDA documents and the viewer's pages: per-person, never cached,
    /// forms checked for their Origin.
    Visitor,
    /// `/admin`: never cached, the back office's CSP, forms checked for their Origin.
    BackOffice,
    /// `/api/v1`: JSON errors, never cached.
    Api,
}

/// One route and who may use it.
#[derive(Clone, Debug)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

impl RouteSpec {
    pub fn area(&self) -> Area {
        let p = self.path;
        if p == "/admin" || p.starts_with("/admin/") {
            Area::BackOffice
        } else if p == "/api/v1" || p.starts_with("/api/v1/") {
            // Only the REST API: `/api/v2/` is the public status JSON, cached like a page.
            Area::Api
        } else if p.starts_with("/viewer") || VISITOR_PATHS.iter().any(|v| p.starts_with(v)) {
            Area::Visitor
        } else {
            Area::Site
        }
    }
}

/// The visitor's forms on the way to NDA documents (the viewer's pages are under `/viewer`),
/// and the subscription forms and links.
const VISITOR_PATHS: [&str; 5] = [
    "/documents/request",
    "/documents/verify/",
    "/documents/nda",
    "/subscribe",
    "/subscriptions/",
];

/// Room in an upload's body for the form around the file: the other fields and the multipart
/// framing.
pub const UPLOAD_FORM_ALLOWANCE: u64 = 1024 * 1024;

/// Every route with its access rule and handler. `upload_limit` is the largest file an upload
/// route takes, in bytes.
fn routes(upload_limit: u64) -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Permission::*;
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    const PUT: Method = Method::PUT;
    const DELETE: Method = Method::DELETE;
    const PATCH: Method = Method::PATCH;
    let r = |method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>| {
        (RouteSpec { method, path, access }, handler)
    };
    // An upload's body may be as large as the file limit plus the form around it; the file's own
    // limit is enforced while it streams in, and each text field is capped as it is read.
    let upload = |handler: MethodRouter<AppState>, limit: u64| {
        let body_limit = limit.saturating_add(UPLOAD_FORM_ALLOWANCE);
        handler.layer(axum::extract::DefaultBodyLimit::max(
            usize::try_from(body_limit).unwrap_or(usize::MAX),
        ))
    };
    vec![
        // Public site and operations. Every other GET is a page of the rendered site (the
        // router's fallback), public too.
        r(GET, "/healthz", Public, get(crate::public::healthz)),
        r(GET, "/readyz", Public, get(crate::public::readyz)),
        r(GET, "/metrics", Scraper, get(crate::ops::metrics)),
        r(GET, "/search", Public, get(crate::public::search)),
        r(GET, "/brand/logo.png", Public, get(crate::onboarding::logo::png)),
        r(GET, "/brand/logo.svg", Public, get(crate::onboarding::logo::svg)),
        r(
            GET,
            "/documents/{slug}/download",
            Public,
            get(crate::documents::public::download),
        ),
        // The visitor's path to NDA documents, and the viewer.
        r(GET, "/documents/request", Public, get(crate::documents::request::form)),
        r(
            POST,
            "/documents/request",
            Public,
            post(crate::documents::request::submit),
        ),
        r(
            GET,
            "/documents/verify/{token}",
            Public,
            get(crate::documents::request::verify_page),
        ),
        r(
            POST,
            "/documents/verify/{token}",
            Public,
            post(crate::documents::request::verify),
        ),
        r(GET, "/documents/nda", Public, get(crate::documents::nda::form)),
        r(POST, "/documents/nda", Public, post(crate::documents::nda::sign)),
        r(GET, "/viewer", Viewer, get(crate::documents::viewer::home)),
        r(
            GET,
            "/viewer/signin",
            Public,
            get(crate::documents::viewer::signin_form),
        ),
        r(POST, "/viewer/signin", Public, post(crate::documents::viewer::signin)),
        r(
            GET,
            "/viewer/login/{token}",
            Public,
            get(crate::documents::viewer::login_page),
        ),
        r(
            POST,
            "/viewer/login/{token}",
            Public,
            post(crate::documents::viewer::login),
        ),
        r(POST, "/viewer/logout", Public, post(crate::documents::viewer::logout)),
        r(
            GET,
            "/viewer/documents/{slug}",
            Viewer,
            get(crate::documents::viewer::download),
        ),
        // The API. Publishing with `?publish=true` also needs PublishContent; the handler asks.
        r(GET, "/api/v1/openapi.json", Public, get(openapi_document)),
        r(
            GET,
            "/api/v1/{kind}",
            Token(ViewContent),
            get(crate::content::api::list),
        ),
        r(
            POST,
            "/api/v1/{kind}",
            Token(EditContent),
            post(crate::content::api::create),
        ),
        r(
            GET,
            "/api/v1/{kind}/{slug}",
            Token(ViewContent),
            get(crate::content::api::show),
        ),
        r(
            PUT,
            "/api/v1/{kind}/{slug}",
            Token(EditContent),
            axum::routing::put(crate::content::api::replace),
        ),
        r(
            DELETE,
            "/api/v1/{kind}/{slug}",
            Token(PublishContent),
            axum::routing::delete(crate::content::api::delete),
        ),
        r(
            POST,
            "/api/v1/{kind}/{slug}/publish",
            Token(PublishContent),
            post(crate::content::api::publish),
        ),
        r(
            POST,
            "/api/v1/{kind}/{slug}/unpublish",
            Token(PublishContent),
            post(crate::content::api::unpublish),
        ),
        r(
            GET,
            "/api/v1/{kind}/{slug}/revisions",
            Token(ViewContent),
            get(crate::content::api::revisions),
        ),
        // The back office.
        r(GET, "/admin", Needs(ViewContent), get(crate::content::admin::dashboard)),
        r(GET, "/admin/login", Public, get(crate::identity::auth::login_form)),
        r(POST, "/admin/login", Public, post(crate::identity::auth::login)),
        r(POST, "/admin/logout", SignedIn, post(crate::identity::auth::logout)),
        r(
            GET,
            "/admin/setup/{token}",
            Public,
            get(crate::identity::auth::setup_form),
        ),
        r(POST, "/admin/setup/{token}", Public, post(crate::identity::auth::setup)),
        r(GET, "/admin/sso/start", Public, get(crate::identity::sso::start)),
        r(GET, "/admin/sso/callback", Public, get(crate::identity::sso::callback)),
        r(
            GET,
            "/admin/assets/passkeys.js",
            Public,
            get(crate::identity::passkeys::script),
        ),
        r(
            POST,
            "/admin/passkey-login/start",
            Public,
            post(crate::identity::passkeys::login_start),
        ),
        r(
            POST,
            "/admin/passkey-login/finish",
            Public,
            post(crate::identity::passkeys::login_finish),
        ),
        r(GET, "/admin/forgot", Public, get(crate::identity::forgot::form)),
        r(POST, "/admin/forgot", Public, post(crate::identity::forgot::request)),
        r(
            GET,
            "/admin/reset/{token}",
            Public,
            get(crate::identity::auth::reset_form),
        ),
        r(POST, "/admin/reset/{token}", Public, post(crate::identity::auth::reset)),
        r(
            GET,
            "/admin/content/{kind}",
            Needs(ViewContent),
            get(crate::content::admin::list),
        ),
        r(
            POST,
            "/admin/content/{kind}",
            Needs(EditContent),
            post(crate::content::admin::create),
        ),
        r(
            GET,
            "/admin/content/{kind}/new",
            Needs(EditContent),
            get(crate::content::admin::new_form),
        ),
        r(
            GET,
            "/admin/content/{kind}/{slug}",
            Needs(ViewContent),
            get(crate::content::admin::edit_form),
        ),
        r(
            POST,
            "/admin/content/{kind}/{slug}",
            Needs(EditContent),
            post(crate::content::admin::save),
        ),
        r(
            POST,
            "/admin/content/{kind}/{slug}/publish",
            Needs(PublishContent),
            post(crate::content::admin::publish),
        ),
        r(
            POST,
            "/admin/content/{kind}/{slug}/unpublish",
            Needs(PublishContent),
            post(crate::content::admin::unpublish),
        ),
        r(
            POST,
            "/admin/content/{kind}/{slug}/delete",
            Needs(PublishContent),
            post(crate::content::admin::delete),
        ),
        r(
            POST,
            "/admin/content/{kind}/{slug}/move",
            Needs(EditContent),
            post(crate::content::admin::move_item),
        ),
        r(
            GET,
            "/admin/content/{kind}/{slug}/history",
            Needs(ViewContent),
            get(crate::content::history::history),
        ),
        r(
            POST,
            "/admin/content/{kind}/{slug}/history/{number}/restore",
            Needs(EditContent),
            post(crate::content::history::restore),
        ),
        r(
            GET,
            "/admin/demo/remove",
            Needs(PublishContent),
            get(crate::onboarding::demo::confirm),
        ),
        r(
            POST,
            "/admin/demo/remove",
            Needs(PublishContent),
            post(crate::onboarding::demo::remove),
        ),
        r(
            GET,
            "/admin/logo",
            Needs(ViewContent),
            get(crate::onboarding::logo::form),
        ),
        r(
            POST,
            "/admin/logo",
            Needs(PublishContent),
            post(crate::onboarding::logo::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::onboarding::logo::LOGO_BODY_LIMIT,
            )),
        ),
        r(
            POST,
            "/admin/logo/remove",
            Needs(PublishContent),
            post(crate::onboarding::logo::remove),
        ),
        r(
            GET,
            "/admin/documents",
            Needs(ViewContent),
            get(crate::documents::library::list),
        ),
        r(
            POST,
            "/admin/documents",
            Needs(EditContent),
            upload(post(crate::documents::library::create), upload_limit),
        ),
        r(
            GET,
            "/admin/documents/new",
            Needs(EditContent),
            get(crate::documents::library::new_form),
        ),
        r(
            GET,
            "/admin/documents/{slug}",
            Needs(ViewContent),
            get(crate::documents::library::edit_form),
        ),
        r(
            POST,
            "/admin/documents/{slug}",
            Needs(EditContent),
            post(crate::documents::library::save),
        ),
        r(
            POST,
            "/admin/documents/{slug}/versions",
            Needs(EditContent),
            upload(post(crate::documents::library::upload_version), upload_limit),
        ),
        r(
            GET,
            "/admin/documents/{slug}/delete",
            Needs(PublishContent),
            get(crate::documents::library::delete_form),
        ),
        r(
            POST,
            "/admin/documents/{slug}/delete",
            Needs(PublishContent),
            post(crate::documents::library::delete),
        ),
        r(
            GET,
            "/admin/documents/{slug}/versions/{number}",
            Needs(DownloadRawDocuments),
            get(crate::documents::library::download),
        ),
        r(
            GET,
            "/admin/access-requests",
            Needs(ManageAccessRequests),
            get(crate::documents::requests::queue),
        ),
        r(
            POST,
            "/admin/access-requests/decide",
            Needs(ManageAccessRequests),
            post(crate::documents::requests::decide),
        ),
        r(
            POST,
            "/admin/access-requests/{id}/approve",
            Needs(ManageAccessRequests),
            post(crate::documents::decide_row::approve),
        ),
        r(
            POST,
            "/admin/access-requests/{id}/deny",
            Needs(ManageAccessRequests),
            post(crate::documents::decide_row::deny),
        ),
        r(
            GET,
            "/admin/grants",
            Needs(ManageAccessRequests),
            get(crate::documents::requests::grants),
        ),
        r(
            POST,
            "/admin/grants/{id}/revoke",
            Needs(ManageAccessRequests),
            post(crate::documents::requests::revoke),
        ),
        r(
            GET,
            "/admin/access-settings",
            Needs(ManageAccessRequests),
            get(crate::documents::requests::settings),
        ),
        r(
            POST,
            "/admin/access-settings",
            Needs(ManageAccessRequests),
            post(crate::documents::requests::save_settings),
        ),
        r(
            GET,
            "/admin/engagement",
            Needs(ManageAccessRequests),
            get(crate::engagement::page),
        ),
        r(
            GET,
            "/admin/access-log",
            Needs(ManageAccessRequests),
            get(crate::documents::requests::access_log),
        ),
        r(GET, "/admin/mfa", SignedIn, get(crate::identity::mfa::show)),
        r(
            POST,
            "/admin/mfa/confirm",
            SignedIn,
            post(crate::identity::mfa::confirm),
        ),
        r(
            GET,
            "/admin/mfa/verify",
            SignedIn,
            get(crate::identity::mfa::verify_form),
        ),
        r(POST, "/admin/mfa/verify", SignedIn, post(crate::identity::mfa::verify)),
        r(
            POST,
            "/admin/settings/require-mfa",
            Needs(ManageUsers),
            post(crate::identity::mfa::set_policy),
        ),
        r(
            POST,
            "/admin/mfa/passkey/start",
            SignedIn,
            post(crate::identity::passkeys::mfa_start),
        ),
        r(
            POST,
            "/admin/mfa/passkey/finish",
            SignedIn,
            post(crate::identity::passkeys::mfa_finish),
        ),
        r(GET, "/admin/passkeys", SignedIn, get(crate::identity::passkeys::list)),
        r(
            POST,
            "/admin/passkeys/register/start",
            SignedIn,
            post(crate::identity::passkeys::register_start),
        ),
        r(
            POST,
            "/admin/passkeys/register/finish",
            SignedIn,
            post(crate::identity::passkeys::register_finish),
        ),
        r(
            POST,
            "/admin/passkeys/{id}/delete",
            SignedIn,
            post(crate::identity::passkeys::delete),
        ),
        r(GET, "/admin/sessions", SignedIn, get(crate::identity::sessions::list)),
        r(GET, "/admin/profile", SignedIn, get(crate::identity::profile::page)),
        r(POST, "/admin/profile", SignedIn, post(crate::identity::profile::save)),
        r(GET, "/admin/password", SignedIn, get(crate::identity::password::form)),
        r(
            POST,
            "/admin/password",
            SignedIn,
            post(crate::identity::password::change),
        ),
        r(
            POST,
            "/admin/sessions/revoke-others",
            SignedIn,
            post(crate::identity::sessions::revoke_others),
        ),
        r(
            POST,
            "/admin/sessions/{id}/revoke",
            SignedIn,
            post(crate::identity::sessions::revoke),
        ),
        r(GET, "/admin/users", Needs(ViewUsers), get(crate::identity::users::list)),
        r(
            POST,
            "/admin/users",
            Needs(ManageUsers),
            post(crate::identity::users::create),
        ),
        r(
            POST,
            "/admin/users/{id}/disable",
            Needs(ManageUsers),
            post(crate::identity::users::disable),
        ),
        r(
            POST,
            "/admin/users/{id}/enable",
            Needs(ManageUsers),
            post(crate::identity::users::enable),
        ),
        r(
            POST,
            "/admin/users/{id}/role",
            Needs(ManageUsers),
            post(crate::identity::users::change_role),
        ),
        r(
            POST,
            "/admin/users/{id}/mfa/reset",
            Needs(ManageUsers),
            post(crate::identity::users::reset_mfa),
        ),
        r(
            POST,
            "/admin/users/{id}/sessions/revoke",
            Needs(ManageUsers),
            post(crate::identity::users::end_sessions),
        ),
        r(GET, "/admin/audit", Needs(ViewAuditLog), get(crate::audit::list)),
        r(
            GET,
            "/admin/audit/export",
            Needs(ViewAuditLog),
            get(crate::audit::export),
        ),
        r(
            GET,
            "/admin/operations",
            Needs(ViewAuditLog),
            get(crate::backup::page::show),
        ),
        r(GET, "/admin/outbox", Needs(ManageOutbox), get(crate::outbox::list)),
        r(
            POST,
            "/admin/outbox/{id}/retry",
            Needs(ManageOutbox),
            post(crate::outbox::retry),
        ),
        r(
            POST,
            "/admin/outbox/{id}/discard",
            Needs(ManageOutbox),
            post(crate::outbox::discard),
        ),
        r(GET, "/admin/tokens", Needs(ViewApiTokens), get(crate::tokens::list)),
        r(
            POST,
            "/admin/tokens",
            Needs(ManageApiTokens),
            post(crate::tokens::create),
        ),
        r(
            POST,
            "/admin/tokens/{id}/revoke",
            Needs(ManageApiTokens),
            post(crate::tokens::revoke),
        ),
        // The status page: its back office (reads for every role, changes for ManageStatus),
        // then its API for deploy pipelines and alerting systems.
        r(
            GET,
            "/admin/status",
            Needs(ViewContent),
            get(crate::status::overview::overview),
        ),
        r(
            POST,
            "/admin/status/groups",
            Needs(ManageStatus),
            post(crate::status::overview::create_group),
        ),
        r(
            POST,
            "/admin/status/groups/{id}",
            Needs(ManageStatus),
            post(crate::status::overview::rename_group),
        ),
        r(
            POST,
            "/admin/status/groups/{id}/delete",
            Needs(ManageStatus),
            post(crate::status::overview::delete_group),
        ),
        r(
            POST,
            "/admin/status/components",
            Needs(ManageStatus),
            post(crate::status::overview::create_component),
        ),
        r(
            GET,
            "/admin/status/components/{id}",
            Needs(ViewContent),
            get(crate::status::overview::edit_component),
        ),
        r(
            POST,
            "/admin/status/components/{id}",
            Needs(ManageStatus),
            post(crate::status::overview::save_component),
        ),
        r(
            POST,
            "/admin/status/components/{id}/status",
            Needs(ManageStatus),
            post(crate::status::overview::set_status),
        ),
        r(
            POST,
            "/admin/status/components/{id}/move",
            Needs(ManageStatus),
            post(crate::status::overview::move_component),
        ),
        r(
            GET,
            "/admin/status/components/{id}/delete",
            Needs(ManageStatus),
            get(crate::status::overview::delete_component_form),
        ),
        r(
            POST,
            "/admin/status/components/{id}/delete",
            Needs(ManageStatus),
            post(crate::status::overview::delete_component),
        ),
        r(
            GET,
            "/admin/status/incidents",
            Needs(ViewContent),
            get(crate::status::incidents::list),
        ),
        r(
            POST,
            "/admin/status/incidents",
            Needs(ManageStatus),
            post(crate::status::incidents::create),
        ),
        r(
            GET,
            "/admin/status/incidents/new",
            Needs(ManageStatus),
            get(crate::status::incidents::new_form),
        ),
        r(
            GET,
            "/admin/status/incidents/{id}",
            Needs(ViewContent),
            get(crate::status::incidents::show),
        ),
        r(
            POST,
            "/admin/status/incidents/{id}",
            Needs(ManageStatus),
            post(crate::status::incidents::save),
        ),
        r(
            POST,
            "/admin/status/incidents/{id}/updates",
            Needs(ManageStatus),
            post(crate::status::incidents::post_update),
        ),
        r(
            GET,
            "/admin/status/incidents/{id}/delete",
            Needs(ManageStatus),
            get(crate::status::incidents::delete_form),
        ),
        r(
            POST,
            "/admin/status/incidents/{id}/delete",
            Needs(ManageStatus),
            post(crate::status::incidents::delete),
        ),
        r(
            GET,
            "/admin/status/maintenance",
            Needs(ViewContent),
            get(crate::status::maintenance::list),
        ),
        r(
            POST,
            "/admin/status/maintenance",
            Needs(ManageStatus),
            post(crate::status::maintenance::create),
        ),
        r(
            GET,
            "/admin/status/maintenance/new",
            Needs(ManageStatus),
            get(crate::status::maintenance::new_form),
        ),
        r(
            GET,
            "/admin/status/maintenance/{id}",
            Needs(ViewContent),
            get(crate::status::maintenance::show),
        ),
        r(
            POST,
            "/admin/status/maintenance/{id}",
            Needs(ManageStatus),
            post(crate::status::maintenance::save),
        ),
        r(
            POST,
            "/admin/status/maintenance/{id}/updates",
            Needs(ManageStatus),
            post(crate::status::maintenance::post_update),
        ),
        r(
            GET,
            "/admin/status/maintenance/{id}/delete",
            Needs(ManageStatus),
            get(crate::status::maintenance::delete_form),
        ),
        r(
            POST,
            "/admin/status/maintenance/{id}/delete",
            Needs(ManageStatus),
            post(crate::status::maintenance::delete),
        ),
        r(
            GET,
            "/api/v1/status/components",
            Token(ViewContent),
            get(crate::status::api::components::list),
        ),
        r(
            POST,
            "/api/v1/status/components",
            Token(ManageStatus),
            post(crate::status::api::components::create),
        ),
        r(
            GET,
            "/api/v1/status/components/{id}",
            Token(ViewContent),
            get(crate::status::api::components::show),
        ),
        r(
            PUT,
            "/api/v1/status/components/{id}",
            Token(ManageStatus),
            axum::routing::put(crate::status::api::components::replace),
        ),
        r(
            DELETE,
            "/api/v1/status/components/{id}",
            Token(ManageStatus),
            axum::routing::delete(crate::status::api::components::delete),
        ),
        r(
            GET,
            "/api/v1/status/incidents",
            Token(ViewContent),
            get(crate::status::api::incidents::list),
        ),
        r(
            POST,
            "/api/v1/status/incidents",
            Token(ManageStatus),
            post(crate::status::api::incidents::open),
        ),
        r(
            GET,
            "/api/v1/status/incidents/{id}",
            Token(ViewContent),
            get(crate::status::api::incidents::show),
        ),
        r(
            PATCH,
            "/api/v1/status/incidents/{id}",
            Token(ManageStatus),
            axum::routing::patch(crate::status::api::incidents::edit),
        ),
        r(
            DELETE,
            "/api/v1/status/incidents/{id}",
            Token(ManageStatus),
            axum::routing::delete(crate::status::api::incidents::delete),
        ),
        r(
            POST,
            "/api/v1/status/incidents/{id}/updates",
            Token(ManageStatus),
            post(crate::status::api::incidents::post_update),
        ),
        r(
            GET,
            "/api/v1/status/maintenances",
            Token(ViewContent),
            get(crate::status::api::maintenance::list),
        ),
        r(
            POST,
            "/api/v1/status/maintenances",
            Token(ManageStatus),
            post(crate::status::api::maintenance::schedule),
        ),
        r(
            GET,
            "/api/v1/status/maintenances/{id}",
            Token(ViewContent),
            get(crate::status::api::maintenance::show),
        ),
        r(
            PATCH,
            "/api/v1/status/maintenances/{id}",
            Token(ManageStatus),
            axum::routing::patch(crate::status::api::maintenance::edit),
        ),
        r(
            DELETE,
            "/api/v1/status/maintenances/{id}",
            Token(ManageStatus),
            axum::routing::delete(crate::status::api::maintenance::delete),
        ),
        r(
            POST,
            "/api/v1/status/maintenances/{id}/updates",
            Token(ManageStatus),
            post(crate::status::api::maintenance::post_update),
        ),
        r(
            GET,
            "/admin/status/monitors",
            Needs(ViewContent),
            get(crate::monitors::list),
        ),
        r(
            POST,
            "/admin/status/monitors",
            Needs(ManageStatus),
            post(crate::monitors::create),
        ),
        r(
            GET,
            "/admin/status/monitors/new",
            Needs(ManageStatus),
            get(crate::monitors::new_form),
        ),
        r(
            GET,
            "/admin/status/monitors/{id}",
            Needs(ViewContent),
            get(crate::monitors::show),
        ),
        r(
            POST,
            "/admin/status/monitors/{id}",
            Needs(ManageStatus),
            post(crate::monitors::update),
        ),
        r(
            POST,
            "/admin/status/monitors/{id}/delete",
            Needs(ManageStatus),
            post(crate::monitors::delete),
        ),
        // Subscriptions: the public sign-up and the links in its mail (confirm, manage,
        // unsubscribe; the unsubscribe POST also takes RFC 8058 one-click posts from mail
        // providers, without a form token), and subscribers and webhooks in the back office.
        r(GET, "/subscribe", Public, get(crate::subscriptions::public::form)),
        r(POST, "/subscribe", Public, post(crate::subscriptions::public::submit)),
        r(
            GET,
            "/subscriptions/confirm/{token}",
            Public,
            get(crate::subscriptions::links::confirm_page),
        ),
        r(
            POST,
            "/subscriptions/confirm/{token}",
            Public,
            post(crate::subscriptions::links::confirm),
        ),
        r(
            GET,
            "/subscriptions/manage/{token}",
            Public,
            get(crate::subscriptions::links::manage_page),
        ),
        r(
            POST,
            "/subscriptions/manage/{token}",
            Public,
            post(crate::subscriptions::links::manage),
        ),
        r(
            GET,
            "/subscriptions/unsubscribe/{token}",
            Public,
            get(crate::subscriptions::links::unsubscribe_page),
        ),
        r(
            POST,
            "/subscriptions/unsubscribe/{token}",
            Public,
            post(crate::subscriptions::links::unsubscribe),
        ),
        r(
            GET,
            "/admin/subscribers",
            Needs(ManageSubscriptions),
            get(crate::subscriptions::admin::subscribers),
        ),
        r(
            POST,
            "/admin/subscribers/{id}/remove",
            Needs(ManageSubscriptions),
            post(crate::subscriptions::admin::remove_subscriber),
        ),
        r(
            GET,
            "/admin/webhooks",
            Needs(ManageSubscriptions),
            get(crate::subscriptions::admin::webhooks),
        ),
        r(
            POST,
            "/admin/webhooks",
            Needs(ManageSubscriptions),
            post(crate::subscriptions::admin::create_webhook),
        ),
        r(
            GET,
            "/admin/webhooks/{id}",
            Needs(ManageSubscriptions),
            get(crate::subscriptions::admin::webhook),
        ),
        r(
            POST,
            "/admin/webhooks/{id}",
            Needs(ManageSubscriptions),
            post(crate::subscriptions::admin::edit_webhook),
        ),
        r(
            POST,
            "/admin/webhooks/{id}/delete",
            Needs(ManageSubscriptions),
            post(crate::subscriptions::admin::delete_webhook),
        ),
        r(
            POST,
            "/admin/webhooks/{id}/enable",
            Needs(ManageSubscriptions),
            post(crate::subscriptions::admin::enable_webhook),
        ),
        r(
            POST,
            "/admin/webhooks/{id}/disable",
            Needs(ManageSubscriptions),
            post(crate::subscriptions::admin::disable_webhook),
        ),
        r(
            POST,
            "/admin/webhooks/{id}/deliveries/{number}/resend",
            Needs(ManageSubscriptions),
            post(crate::subscriptions::admin::resend),
        ),
        // The public status page: the Statuspage-compatible JSON (readable by any origin), and
        // incidents, maintenance windows and history beyond the recent ones the site holds.
        r(
            GET,
            "/api/v2/summary.json",
            Public,
            get(crate::site::status::handlers::json),
        ),
        r(
            GET,
            "/api/v2/status.json",
            Public,
            get(crate::site::status::handlers::json),
        ),
        r(
            GET,
            "/api/v2/components.json",
            Public,
            get(crate::site::status::handlers::json),
        ),
        r(
            GET,
            "/api/v2/incidents.json",
            Public,
            get(crate::site::status::handlers::json),
        ),
        r(
            GET,
            "/api/v2/incidents/unresolved.json",
            Public,
            get(crate::site::status::handlers::json),
        ),
        r(
            GET,
            "/api/v2/scheduled-maintenances.json",
            Public,
            get(crate::site::status::handlers::json),
        ),
        r(
            GET,
            "/api/v2/scheduled-maintenances/upcoming.json",
            Public,
            get(crate::site::status::handlers::json),
        ),
        r(
            GET,
            "/api/v2/scheduled-maintenances/active.json",
            Public,
            get(crate::site::status::handlers::json),
        ),
        r(
            GET,
            "/status/incidents/{id}",
            Public,
            get(crate::site::status::handlers::incident),
        ),
        r(
            GET,
            "/status/maintenance/{id}",
            Public,
            get(crate::site::status::handlers::maintenance),
        ),
        r(
            GET,
            "/status/history",
            Public,
            get(crate::site::status::handlers::history),
        ),
    ]
}

/// The table without handlers, for tests and documentation.
pub fn table() -> Vec<RouteSpec> {
    routes(0).into_iter().map(|(spec, _)| spec).collect()
}

/// The application's routes, each behind its access check and its area's layers.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut areas: [(Area, Router<AppState>); 4] = [
        (Area::Site, Router::new()),
        (Area::Visitor, Router::new()),
        (Area::BackOffice, Router::new()),
        (Area::Api, Router::new()),
    ];
    // Paths with several methods share one MethodRouter per area.
    let mut merged: Vec<(Area, &'static str, MethodRouter<AppState>)> = vec![];
    for (spec, handler) in routes(state.config().storage.upload_limit) {
        let handler = guard(state, spec.access, handler);
        let area = spec.area();
        match merged.iter_mut().find(|(a, p, _)| *a == area && *p == spec.path) {
            Some((_, _, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => merged.push((area, spec.path, handler)),
        }
    }
    for (area, path, handler) in merged {
        let slot = areas.iter_mut().find(|(a, _)| *a == area).map(|(_, r)| r);
        if let Some(router) = slot {
            let path = if area == Area::Api {
                path.trim_start_matches("/api/v1")
            } else {
                path
            };
            *router = std::mem::take(router).route(path, handler);
        }
    }
    let [(_, site), (_, visitor), (_, back_office), (_, api)] = areas;
    site.merge(crate::http::layers::visitor(visitor, state))
        .merge(crate::http::layers::back_office(back_office, state))
        .nest("/api/v1", crate::http::layers::api(api))
}

/// `/api/v1/openapi.json`: each feature with API routes describes its part.
async fn openapi_document(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<serde_json::Value> {
    let mut doc = crate::http::openapi::ApiDoc::default();
    crate::content::openapi::describe(&mut doc);
    crate::status::openapi::describe(&mut doc);
    axum::Json(doc.finish(&state.config().public_url))
}

/// The access check of a route, run before its handler.
fn guard(state: &AppState, access: Access, handler: MethodRouter<AppState>) -> MethodRouter<AppState> {
    use axum::middleware::from_fn_with_state;
    match access {
        Access::Public => handler,
        Access::SignedIn | Access::Needs(_) => handler.route_layer(from_fn_with_state(
            (state.clone(), access),
            crate::http::session::enforce,
        )),
        Access::Viewer => handler.route_layer(from_fn_with_state(state.clone(), crate::documents::viewer::enforce)),
        Access::Scraper => handler.route_layer(from_fn_with_state(state.clone(), crate::ops::enforce)),
        Access::Token(p) => {
            handler.route_layer(from_fn_with_state((state.clone(), p), crate::http::api_token::enforce))
        }
    }
}
