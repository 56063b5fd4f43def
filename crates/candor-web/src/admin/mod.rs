//! The back office at `/admin`: server-rendered, no JavaScript, every form CSRF-protected.

mod audit;
mod content;
mod documents;
mod history;
mod requests;

pub(crate) use crate::http::format::display_time;
pub use crate::http::layout::{AdminLayout, NoticeQuery};
use crate::identity::{auth, forgot, mfa, passkeys, password, sessions, sso, users};
use crate::tokens;
use crate::AppState;
use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use candor_core::access::Permission;

/// Who may reach a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: sign-in and single-use link pages.
    Public,
    /// Any signed-in user (sign out, their own sessions).
    SignedIn,
    /// Signed in with a role that has this permission.
    Needs(Permission),
}

/// One back-office route and who may use it.
#[derive(Clone, Debug)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// Every back-office route with its access rule and handler. The router is built from this
/// table and the permission check runs from it, so a route cannot exist without a rule.
/// `upload_limit` is the largest file an upload route takes, in bytes.
fn routes(upload_limit: u64) -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Permission::*;
    let r = |method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>| {
        (RouteSpec { method, path, access }, handler)
    };
    let (g, p) = (Method::GET, Method::POST);
    vec![
        r(g.clone(), "/admin", Needs(ViewContent), get(content::dashboard)),
        r(g.clone(), "/admin/login", Public, get(auth::login_form)),
        r(p.clone(), "/admin/login", Public, post(auth::login)),
        r(p.clone(), "/admin/logout", SignedIn, post(auth::logout)),
        r(g.clone(), "/admin/setup/{token}", Public, get(auth::setup_form)),
        r(p.clone(), "/admin/setup/{token}", Public, post(auth::setup)),
        r(g.clone(), "/admin/sso/start", Public, get(sso::start)),
        r(g.clone(), "/admin/sso/callback", Public, get(sso::callback)),
        r(g.clone(), "/admin/assets/passkeys.js", Public, get(passkeys::script)),
        r(
            p.clone(),
            "/admin/passkey-login/start",
            Public,
            post(passkeys::login_start),
        ),
        r(
            p.clone(),
            "/admin/passkey-login/finish",
            Public,
            post(passkeys::login_finish),
        ),
        r(g.clone(), "/admin/forgot", Public, get(forgot::form)),
        r(p.clone(), "/admin/forgot", Public, post(forgot::request)),
        r(g.clone(), "/admin/reset/{token}", Public, get(auth::reset_form)),
        r(p.clone(), "/admin/reset/{token}", Public, post(auth::reset)),
        r(
            g.clone(),
            "/admin/content/{kind}",
            Needs(ViewContent),
            get(content::list),
        ),
        r(
            p.clone(),
            "/admin/content/{kind}",
            Needs(EditContent),
            post(content::create),
        ),
        r(
            g.clone(),
            "/admin/content/{kind}/new",
            Needs(EditContent),
            get(content::new_form),
        ),
        r(
            g.clone(),
            "/admin/content/{kind}/{slug}",
            Needs(ViewContent),
            get(content::edit_form),
        ),
        r(
            p.clone(),
            "/admin/content/{kind}/{slug}",
            Needs(EditContent),
            post(content::save),
        ),
        r(
            p.clone(),
            "/admin/content/{kind}/{slug}/publish",
            Needs(PublishContent),
            post(content::publish),
        ),
        r(
            p.clone(),
            "/admin/content/{kind}/{slug}/unpublish",
            Needs(PublishContent),
            post(content::unpublish),
        ),
        r(
            p.clone(),
            "/admin/content/{kind}/{slug}/delete",
            Needs(PublishContent),
            post(content::delete),
        ),
        r(
            p.clone(),
            "/admin/content/{kind}/{slug}/move",
            Needs(EditContent),
            post(content::move_item),
        ),
        r(
            g.clone(),
            "/admin/content/{kind}/{slug}/history",
            Needs(ViewContent),
            get(history::history),
        ),
        r(
            p.clone(),
            "/admin/content/{kind}/{slug}/history/{number}/restore",
            Needs(EditContent),
            post(history::restore),
        ),
        r(g.clone(), "/admin/documents", Needs(ViewContent), get(documents::list)),
        r(
            p.clone(),
            "/admin/documents",
            Needs(EditContent),
            upload_route(post(documents::create), upload_limit),
        ),
        r(
            g.clone(),
            "/admin/documents/new",
            Needs(EditContent),
            get(documents::new_form),
        ),
        r(
            g.clone(),
            "/admin/documents/{slug}",
            Needs(ViewContent),
            get(documents::edit_form),
        ),
        r(
            p.clone(),
            "/admin/documents/{slug}",
            Needs(EditContent),
            post(documents::save),
        ),
        r(
            p.clone(),
            "/admin/documents/{slug}/versions",
            Needs(EditContent),
            upload_route(post(documents::upload_version), upload_limit),
        ),
        r(
            g.clone(),
            "/admin/documents/{slug}/versions/{number}",
            Needs(DownloadRawDocuments),
            get(documents::download),
        ),
        r(
            g.clone(),
            "/admin/access-requests",
            Needs(ManageAccessRequests),
            get(requests::queue),
        ),
        r(
            p.clone(),
            "/admin/access-requests/decide",
            Needs(ManageAccessRequests),
            post(requests::decide),
        ),
        r(
            g.clone(),
            "/admin/grants",
            Needs(ManageAccessRequests),
            get(requests::grants),
        ),
        r(
            p.clone(),
            "/admin/grants/{id}/revoke",
            Needs(ManageAccessRequests),
            post(requests::revoke),
        ),
        r(
            g.clone(),
            "/admin/access-settings",
            Needs(ManageAccessRequests),
            get(requests::settings),
        ),
        r(
            p.clone(),
            "/admin/access-settings",
            Needs(ManageAccessRequests),
            post(requests::save_settings),
        ),
        r(
            g.clone(),
            "/admin/access-log",
            Needs(ManageAccessRequests),
            get(requests::access_log),
        ),
        r(g.clone(), "/admin/mfa", SignedIn, get(mfa::show)),
        r(p.clone(), "/admin/mfa/confirm", SignedIn, post(mfa::confirm)),
        r(g.clone(), "/admin/mfa/verify", SignedIn, get(mfa::verify_form)),
        r(p.clone(), "/admin/mfa/verify", SignedIn, post(mfa::verify)),
        r(
            p.clone(),
            "/admin/settings/require-mfa",
            Needs(ManageUsers),
            post(mfa::set_policy),
        ),
        r(
            p.clone(),
            "/admin/mfa/passkey/start",
            SignedIn,
            post(passkeys::mfa_start),
        ),
        r(
            p.clone(),
            "/admin/mfa/passkey/finish",
            SignedIn,
            post(passkeys::mfa_finish),
        ),
        r(g.clone(), "/admin/passkeys", SignedIn, get(passkeys::list)),
        r(
            p.clone(),
            "/admin/passkeys/register/start",
            SignedIn,
            post(passkeys::register_start),
        ),
        r(
            p.clone(),
            "/admin/passkeys/register/finish",
            SignedIn,
            post(passkeys::register_finish),
        ),
        r(
            p.clone(),
            "/admin/passkeys/{id}/delete",
            SignedIn,
            post(passkeys::delete),
        ),
        r(g.clone(), "/admin/sessions", SignedIn, get(sessions::list)),
        r(g.clone(), "/admin/password", SignedIn, get(password::form)),
        r(p.clone(), "/admin/password", SignedIn, post(password::change)),
        r(
            p.clone(),
            "/admin/sessions/revoke-others",
            SignedIn,
            post(sessions::revoke_others),
        ),
        r(
            p.clone(),
            "/admin/sessions/{id}/revoke",
            SignedIn,
            post(sessions::revoke),
        ),
        r(g.clone(), "/admin/users", Needs(ViewUsers), get(users::list)),
        r(p.clone(), "/admin/users", Needs(ManageUsers), post(users::create)),
        r(
            p.clone(),
            "/admin/users/{id}/disable",
            Needs(ManageUsers),
            post(users::disable),
        ),
        r(
            p.clone(),
            "/admin/users/{id}/enable",
            Needs(ManageUsers),
            post(users::enable),
        ),
        r(
            p.clone(),
            "/admin/users/{id}/role",
            Needs(ManageUsers),
            post(users::change_role),
        ),
        r(
            p.clone(),
            "/admin/users/{id}/mfa/reset",
            Needs(ManageUsers),
            post(users::reset_mfa),
        ),
        r(
            p.clone(),
            "/admin/users/{id}/sessions/revoke",
            Needs(ManageUsers),
            post(users::end_sessions),
        ),
        r(g.clone(), "/admin/audit", Needs(ViewAuditLog), get(audit::list)),
        r(
            g.clone(),
            "/admin/audit/export",
            Needs(ViewAuditLog),
            get(audit::export),
        ),
        r(g.clone(), "/admin/tokens", Needs(ViewApiTokens), get(tokens::list)),
        r(p.clone(), "/admin/tokens", Needs(ManageApiTokens), post(tokens::create)),
        r(
            p,
            "/admin/tokens/{id}/revoke",
            Needs(ManageApiTokens),
            post(tokens::revoke),
        ),
    ]
}

/// Room in an upload's body for the form around the file: the other fields and the multipart
/// framing.
pub const UPLOAD_FORM_ALLOWANCE: u64 = 1024 * 1024;

/// An upload's body may be as large as the file limit plus [`UPLOAD_FORM_ALLOWANCE`]; the file's
/// own limit is enforced while it streams in, and each text field is capped as it is read.
fn upload_route(handler: MethodRouter<AppState>, upload_limit: u64) -> MethodRouter<AppState> {
    let body_limit = upload_limit.saturating_add(UPLOAD_FORM_ALLOWANCE);
    handler.layer(axum::extract::DefaultBodyLimit::max(
        usize::try_from(body_limit).unwrap_or(usize::MAX),
    ))
}

/// The route table without handlers, for tests and documentation.
pub fn route_table() -> Vec<RouteSpec> {
    routes(0).into_iter().map(|(spec, _)| spec).collect()
}

pub fn router(state: AppState) -> Router<AppState> {
    let mut router = Router::new();
    for (spec, handler) in routes(state.config().storage.upload_limit) {
        let handler = match spec.access {
            Access::Public => handler,
            access => handler.route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), access),
                crate::http::session::enforce,
            )),
        };
        router = router.route(spec.path, handler);
    }
    router
        .layer(axum::middleware::map_response_with_state(state.clone(), no_store))
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::http::session::same_origin_writes,
        ))
}

/// Back-office pages hold drafts and secrets shown once: never cached by browsers or proxies.
/// They may run our own script (the passkey ceremonies); the public site runs none.
async fn no_store(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut res: axum::response::Response,
) -> axum::response::Response {
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        state.security_headers().admin_csp.clone(),
    );
    res
}
