//! The visitor's path to NDA documents and the access manager's side of it: request access,
//! prove the address, sign the NDA, decide (by a person or by the auto-approve rule), revoke, the
//! rules and NDA text (viewers are in [`crate::viewer`]). Each step that sends mail queues it in
//! the step's own transaction.

use crate::access_team::{tell_decided, tell_waiting};
use crate::mail::{compose, Part};
use crate::viewer::ViewerSignIn;
use crate::{Action, Actor, App, Done, Error, Result};
use candor_core::requests::{AccessRules, RequestNotice, RuleOutcome, GRANT_DAYS, GRANT_DAYS_HELP};
use candor_crypto::{random_token, token_digest};
use candor_store::{AccessRequest, Nda, NewGrant, NewLink, NewRequest, Signature};
use serde_json::json;

/// How long an address-verification link works.
pub const VERIFY_LINK_SECS: i64 = 15 * 60;
/// How long a viewer sign-in link works when asked for on the sign-in page.
pub const VIEWER_LINK_SECS: i64 = 15 * 60;
/// How long the sign-in link in an approval mail works (people read mail later).
pub const APPROVAL_LINK_SECS: i64 = 7 * 24 * 3600;
/// How long a browser has, after verifying, to sign the NDA.
pub const STEP_SECS: i64 = 3600;

/// What mail about access needs to know of the trust center: whose it is, where it lives, and
/// whom to write to.
#[derive(Clone, Debug)]
pub struct MailContext {
    pub org_name: String,
    pub public_url: String,
    pub security_email: String,
}

/// An address proven by its emailed link: the request moves on, and the browser gets this step
/// token for the NDA page.
#[derive(Debug)]
pub struct Verified {
    pub request_id: i64,
    pub email: String,
    pub step_token: candor_crypto::Secret,
}

/// The access rules and NDA text an access manager saves together.
#[derive(Clone, Debug)]
pub struct AccessSettings {
    pub rules: AccessRules,
    pub nda: String,
}

/// The hex SHA-256 of a text (an NDA version's fingerprint).
pub fn hex_sha256(text: &str) -> String {
    token_digest(text)
}

/// Candor's starting NDA text (an owner replaces it in the back office).
pub fn default_nda(org: &str) -> String {
    format!(
        "# Confidentiality agreement\n\n\
         {org} shares security documents (audit reports, test summaries and similar) with you so that you can assess {org} as a supplier. In return you agree that:\n\n\
         1. You keep the documents and what they say confidential, and use them only to assess {org}.\n\
         2. You share them only with colleagues and advisers who need them for that purpose and who are bound to keep them confidential too.\n\
         3. You do not publish them, post them anywhere public, or pass them to anyone else.\n\
         4. You delete them when you no longer need them for that purpose, or when {org} asks.\n\
         5. Each copy is marked with your name and email address, so it can be traced to you.\n\n\
         This agreement lasts for three years from the day you sign it. Typing your name and ticking the box is your signature."
    )
}

/// The mail that tells a requester they were approved, with its sign-in link.
fn approval_mail(
    req: &AccessRequest,
    message: &str,
    days: i64,
    url: String,
    ctx: &MailContext,
) -> candor_store::NewEmail {
    let org = &ctx.org_name;
    let note = if message.is_empty() {
        String::new()
    } else {
        format!("A note from {org}: {message}\n\n")
    };
    let parts = [
        Part::Text(format!(
            "Hello {},\n\nYour request for documents from {org} was approved. {note}To read them, open this link and press Sign in (it works once, within 7 days; later, ask for a new link at {}/viewer/signin):",
            req.name, ctx.public_url
        )),
        Part::Link(url),
        Part::Text(format!(
            "Your access lasts {}. The documents are watermarked with your name and email address.",
            candor_core::grammar::plural(days as u64, "day", "days")
        )),
    ];
    compose(
        &req.email,
        format!("Your access to {} documents", candor_core::grammar::possessive(org)),
        &parts,
        "access-approved",
    )
}

fn denial_mail(req: &AccessRequest, message: &str, ctx: &MailContext) -> candor_store::NewEmail {
    let org = &ctx.org_name;
    let note = if message.is_empty() {
        String::new()
    } else {
        format!("\n\nA note from {org}: {message}")
    };
    let text = format!(
        "Hello {},\n\nYour request for documents from {org} was not approved.{note}\n\nIf you think this is a mistake, reply to {}.",
        req.name, ctx.security_email
    );
    compose(
        &req.email,
        format!("Your request for {} documents", candor_core::grammar::possessive(org)),
        &[Part::Text(text)],
        "access-denied",
    )
}

/// Approves `req` inside `work`: a grant for `days`, a sign-in link, its mail and the audit
/// entry. `false` (and nothing written) when the request was no longer waiting.
async fn approve_in(
    work: &mut crate::Work,
    actor: &Actor,
    req: &AccessRequest,
    message: &str,
    days: i64,
    ctx: &MailContext,
) -> Result<bool> {
    let now = candor_store::now();
    let grant = NewGrant {
        public_id: format!("g-{}", &random_token().expose()[..12]),
        expires_at: now + days * 24 * 3600,
    };
    let token = random_token();
    let link = NewLink {
        token_hash: token_digest(token.expose()),
        purpose: "viewer",
        email: req.email.clone(),
        expires_at: now + APPROVAL_LINK_SECS,
    };
    let org = work.org();
    let by = actor.to_string();
    if !work
        .decide_request(org, req.id, &by, message, Some((&grant, &link)))
        .await?
    {
        return Ok(false);
    }
    let url = format!("{}/viewer/login/{}", ctx.public_url, token.expose());
    work.mail(&approval_mail(req, message, days, url, ctx)).await?;
    tell_decided(work, req, actor, Some(days), &ctx.public_url).await?;
    let details = json!({"grant": grant.public_id, "days": days, "email": req.email, "documents": req.documents});
    work.audit(
        actor,
        Action::AccessApprove,
        format!("access-request/{}", req.id),
        details,
    )
    .await?;
    Ok(true)
}

/// A person's decision on a waiting request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Approve, with access for this many days.
    Approve {
        days: i64,
    },
    Deny,
}

impl App {
    /// The organization's rules for access requests.
    pub async fn access_rules(&self) -> Result<AccessRules> {
        Ok(self.store.access_rules(self.org).await?)
    }

    /// The NDA in force; the built-in one is published as version 1 the first time it is needed.
    pub async fn current_nda(&self, org_name: &str) -> Result<Nda> {
        if let Some(nda) = self.store.current_nda(self.org).await? {
            return Ok(nda);
        }
        let body = default_nda(org_name);
        let mut work = self.begin().await?;
        let org = work.org();
        work.publish_nda(org, &body, &hex_sha256(&body), "system").await?;
        // Nothing to apply: no audit entry (the built-in text is no one's decision), no mail.
        let _ = work.finish(()).await?;
        self.store
            .current_nda(self.org)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("the NDA just published cannot be read")))
    }

    /// A visitor asks for access. The rules may refuse at once (recorded, no mail, and the
    /// visitor is told the same as anyone); otherwise the request waits for its address to be
    /// proven, and the verification link goes out with it. Returns the request's id and what
    /// the visitor is told (from the typed address's domain and the rules only).
    pub async fn request_access(
        &self,
        actor: &Actor,
        request: NewRequest,
        ctx: &MailContext,
    ) -> Result<Done<(i64, RequestNotice)>> {
        let rules = self.access_rules().await?;
        let notice = rules.notice(&request.email);
        let denied = rules.outcome(&request.email) == RuleOutcome::Deny;
        let mut request = request;
        request.status = if denied {
            candor_core::requests::RequestStatus::Denied
        } else {
            candor_core::requests::RequestStatus::Unverified
        };
        let mut work = self.begin().await?;
        let org = work.org();
        let id = work.create_access_request(org, &request).await?;
        if !denied {
            let token = random_token();
            let link = NewLink {
                token_hash: token_digest(token.expose()),
                purpose: "verify",
                email: request.email.clone(),
                expires_at: candor_store::now() + VERIFY_LINK_SECS,
            };
            work.insert_link(org, Some(id), &link).await?;
            let org_name = &ctx.org_name;
            let url = format!("{}/documents/verify/{}", ctx.public_url, token.expose());
            let parts = [
                Part::Text(format!(
                    "Hello {},\n\nSomeone (we hope you) asked for access to security documents from {org_name} with this address. To confirm it is yours, open this link and press the button on the page. It works once, within 15 minutes:",
                    request.name
                )),
                Part::Link(url),
                Part::Text("If you did not ask, ignore this message: nothing happens without the link.".to_owned()),
            ];
            work.mail(&compose(
                &request.email,
                format!(
                    "Confirm your email to request {} documents",
                    candor_core::grammar::possessive(org_name)
                ),
                &parts,
                "access-verify",
            ))
            .await?;
        }
        let action = if denied {
            Action::AccessRequestDeniedByRule
        } else {
            Action::AccessRequest
        };
        let details = json!({"email": request.email, "company": request.company, "documents": request.documents});
        work.audit(actor, action, format!("access-request/{id}"), details)
            .await?;
        work.finish((id, notice)).await
    }

    /// The button behind an emailed verification link: uses the link, proves the address and
    /// hands the browser a step token. `None` when the link cannot be used.
    pub async fn verify_email(&self, token: &str, ip: &str) -> Result<Done<Option<Verified>>> {
        let mut work = self.begin().await?;
        let Some((Some(request_id), email)) = work.use_link(&token_digest(token), "verify").await? else {
            return work.finish(None).await;
        };
        let step = random_token();
        work.verify_request(
            request_id,
            &token_digest(step.expose()),
            candor_store::now() + STEP_SECS,
        )
        .await?;
        let actor = Actor::Visitor {
            email: email.clone(),
            ip: ip.to_owned(),
        };
        work.audit(
            &actor,
            Action::AccessVerify,
            format!("access-request/{request_id}"),
            json!({}),
        )
        .await?;
        work.finish(Some(Verified {
            request_id,
            email,
            step_token: step,
        }))
        .await
    }

    /// A signature of the NDA in force by this address is on file: the request counts as signed
    /// without signing again, and the team is told when a person must decide. `false` (nothing
    /// written) when there is none.
    pub async fn nda_on_file(&self, req: &AccessRequest, nda: &Nda, ip: &str, ctx: &MailContext) -> Result<Done<bool>> {
        if !self.store.signature_on_file(self.org, &req.email, nda.number).await? {
            return Ok(Done {
                value: false,
                effects: Default::default(),
            });
        }
        let rules = self.access_rules().await?;
        let mut work = self.begin().await?;
        work.signed_on_file(req.id).await?;
        if rules.outcome(&req.email) != RuleOutcome::Approve {
            tell_waiting(&mut work, req, ctx).await?;
        }
        let actor = Actor::Visitor {
            email: req.email.clone(),
            ip: ip.to_owned(),
        };
        work.audit(
            &actor,
            Action::AccessNdaOnFile,
            format!("access-request/{}", req.id),
            json!({"nda": nda.number}),
        )
        .await?;
        work.finish(true).await
    }

    /// Records a signature of `nda` and sends the signer their copy. When no rule approves the
    /// address, the request now waits for a person, and the team is told in this transaction.
    pub async fn sign_nda(
        &self,
        req: &AccessRequest,
        nda: &Nda,
        signature: Signature,
        ctx: &MailContext,
    ) -> Result<Done<()>> {
        let rules = self.access_rules().await?;
        let mut work = self.begin().await?;
        let org = work.org();
        work.sign_nda(org, req.id, &signature).await?;
        if rules.outcome(&req.email) != RuleOutcome::Approve {
            tell_waiting(&mut work, req, ctx).await?;
        }
        let typed = &signature.name;
        let org_name = &ctx.org_name;
        let when = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
        let text = format!(
            "Hello {typed},\n\nYou signed {} non-disclosure agreement (version {}, SHA-256 {}) on {when} as {typed} <{}>, {}. Your copy of the text follows.\n\n{}",
            candor_core::grammar::possessive(org_name),
            nda.number, nda.sha256, req.email, req.company, nda.body
        );
        work.mail(&compose(
            &req.email,
            format!("Your signed NDA with {org_name}"),
            &[Part::Text(text)],
            "nda-copy",
        ))
        .await?;
        let actor = Actor::Visitor {
            email: req.email.clone(),
            ip: signature.ip.clone(),
        };
        let details = json!({"nda": nda.number, "sha256": nda.sha256, "name": typed});
        work.audit(
            &actor,
            Action::AccessNdaSign,
            format!("access-request/{}", req.id),
            details,
        )
        .await?;
        work.finish(()).await
    }

    /// After signing: when the address is on the auto-approve list, the rule approves now and
    /// the browser that proved the address (it holds the step cookie of the verification link)
    /// is signed in as a viewer at once, in the same transaction: a fresh session id, stored as
    /// its digest. `None` when a person will decide (nothing written).
    pub async fn auto_approve(
        &self,
        req: &AccessRequest,
        ctx: &MailContext,
        ip: &str,
    ) -> Result<Done<Option<ViewerSignIn>>> {
        let rules = self.access_rules().await?;
        if rules.outcome(&req.email) != RuleOutcome::Approve {
            return Ok(Done {
                value: None,
                effects: Default::default(),
            });
        }
        let mut work = self.begin().await?;
        let approved = approve_in(
            &mut work,
            &Actor::Rule { name: "auto-approve" },
            req,
            "",
            rules.grant_days,
            ctx,
        )
        .await?;
        if !approved {
            return work.finish(None).await;
        }
        let signed_in = crate::viewer::start_viewer_session(&mut work, &req.email, ip).await?;
        work.finish(Some(signed_in)).await
    }

    /// An access manager approves or denies request `id` with an optional message (sent to the
    /// requester). `false` when it was not waiting for a decision.
    pub async fn decide_request(
        &self,
        actor: &Actor,
        id: i64,
        decision: Decision,
        message: &str,
        ctx: &MailContext,
    ) -> Result<Done<bool>> {
        if let Decision::Approve { days } = decision {
            if !GRANT_DAYS.contains(&days) {
                return Err(Error::BadRequest(GRANT_DAYS_HELP.into()));
            }
        }
        let req = self
            .store
            .access_request(self.org, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("access request {id}")))?;
        let mut work = self.begin().await?;
        let decided = match decision {
            Decision::Approve { days } => approve_in(&mut work, actor, &req, message, days, ctx).await?,
            Decision::Deny => {
                let org = work.org();
                let decided = work.decide_request(org, id, &actor.to_string(), message, None).await?;
                if decided {
                    work.mail(&denial_mail(&req, message, ctx)).await?;
                    tell_decided(&mut work, &req, actor, None, &ctx.public_url).await?;
                    work.audit(
                        actor,
                        Action::AccessDeny,
                        format!("access-request/{id}"),
                        json!({"email": req.email, "message": message}),
                    )
                    .await?;
                }
                decided
            }
        };
        work.finish(decided).await
    }

    /// Ends a grant now.
    pub async fn revoke_grant(&self, actor: &Actor, public_id: &str) -> Result<Done<()>> {
        let mut work = self.begin().await?;
        let org = work.org();
        if !work.revoke_grant(org, public_id, &actor.author()).await? {
            return Err(Error::NotFound(format!("grant {public_id}")));
        }
        work.audit(actor, Action::AccessRevoke, format!("grant/{public_id}"), json!({}))
            .await?;
        work.finish(()).await
    }

    /// Saves the access rules and the NDA text together. A changed NDA text is a new version;
    /// signatures stay tied to the version they signed.
    pub async fn save_access_settings(
        &self,
        actor: &Actor,
        settings: AccessSettings,
        org_name: &str,
    ) -> Result<Done<()>> {
        let rules = settings.rules;
        if !GRANT_DAYS.contains(&rules.grant_days) {
            return Err(Error::BadRequest(GRANT_DAYS_HELP.into()));
        }
        let body = settings.nda.replace("\r\n", "\n");
        let body = body.trim();
        if body.len() < 20 || body.len() > 50_000 {
            return Err(Error::BadRequest(
                "NDA text: write the agreement (20 to 50,000 characters).".into(),
            ));
        }
        let current = self.current_nda(org_name).await?;
        let mut work = self.begin().await?;
        let org = work.org();
        work.save_access_rules(org, &rules).await?;
        let details = json!({"auto_approve": rules.approve.join("\n"), "deny": rules.deny.join("\n"), "deny_free_mail": rules.deny_free_mail, "grant_days": rules.grant_days});
        work.audit(actor, Action::SettingsAccessRules, "settings/access", details)
            .await?;
        if body != current.body {
            let sha = hex_sha256(body);
            let number = work.publish_nda(org, body, &sha, &actor.author()).await?;
            work.audit(
                actor,
                Action::SettingsNda,
                format!("nda/{number}"),
                json!({"sha256": sha}),
            )
            .await?;
        }
        work.finish(()).await
    }
}
