//! The Worker's configuration, read once per isolate from its vars, secrets and optional
//! bindings.

use crate::domain::jwt::JwtVerifier;
use crate::domain::retention::Retention;
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

/// Default lifetime of an invitation: 7 days.
pub const DEFAULT_INVITE_TTL_SECONDS: i64 = 604_800;
/// How long a deleted organization can be restored before it is purged: 30 days.
pub const DEFAULT_ORG_GRACE_SECONDS: i64 = 2_592_000;
/// Where domains' TXT records are asked for (DNS over HTTPS, JSON form).
pub const DEFAULT_DNS_RESOLVER_URL: &str = "https://cloudflare-dns.com/dns-query";
/// KV refuses expirations closer than 60 seconds.
pub const KV_MIN_TTL_SECONDS: i64 = 60;

pub struct Config {
    /// Where Roster itself is reachable, without a trailing slash (invitation links).
    pub public_url: String,
    /// The product's app, without a trailing slash (where invitees sign in to accept).
    pub app_url: String,
    /// The origin of `app_url`, the one browser origin allowed to call the API (CORS).
    pub app_origin: Option<String>,
    /// The verifier, or why the JWT configuration is unusable (then every authenticated
    /// request answers 500 and the log says why).
    pub jwt: Result<JwtVerifier, String>,
    pub email: EmailConfig,
    pub invite_ttl_seconds: i64,
    /// Attempts at an invitation email before it is marked `failed`.
    pub email_max_attempts: i64,
    pub allow_http_webhooks: bool,
    /// Seconds between an organization's deletion and its purge.
    pub org_grace_seconds: i64,
    /// How long the audit log, usage, settled deliveries and ended invitations are kept.
    pub retention: Retention,
    /// The DNS-over-HTTPS resolver that verifies domains.
    pub dns_resolver_url: String,
    /// Who may frame the console's pages: the CSP `frame-ancestors` sources
    /// (`CONSOLE_FRAME_ANCESTORS`, default `'none'`).
    pub console_frame_ancestors: String,
    /// Local development only (`DEV_SIGN_IN=1`): the console's demo page that signs
    /// someone in and accepts an invitation for them. Never set for a deployment.
    pub dev_sign_in: bool,
    /// The `OUTBOX` Queue, when bound: failed deliveries are retried through it. A binding,
    /// not a var, but like the vars it cannot change while the isolate lives.
    pub outbox: Option<worker::Queue>,
}

pub struct EmailConfig {
    /// The provider's base URL; unset means emails are written to the log.
    pub api_url: Option<String>,
    pub api_key: Option<String>,
    pub from: String,
}

thread_local! {
    static CACHED: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

impl Config {
    /// The configuration of this isolate (vars cannot change while it lives).
    pub fn get(env: &Env) -> Rc<Config> {
        CACHED.with(|cached| {
            cached
                .borrow_mut()
                .get_or_insert_with(|| Rc::new(Config::read(env)))
                .clone()
        })
    }

    fn read(env: &Env) -> Config {
        let var = |name: &str| {
            env.var(name)
                .ok()
                .map(|v| v.to_string().trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let public_url = var("PUBLIC_URL").unwrap_or_else(|| "http://localhost:8787".into());
        let jwt = JwtVerifier::new(
            &var("JWT_ISSUER").unwrap_or_default(),
            &var("JWT_AUDIENCE").unwrap_or_default(),
            var("JWT_HS256_SECRET").as_deref(),
            var("JWT_JWKS").as_deref(),
        );
        if let Err(e) = &jwt {
            worker::console_error!("configuration: {e}");
        }
        let app_url = var("APP_URL")
            .unwrap_or_else(|| public_url.clone())
            .trim_end_matches('/')
            .to_owned();
        Config {
            app_origin: url::Url::parse(&app_url)
                .ok()
                .map(|u| u.origin().ascii_serialization())
                .filter(|o| o != "null"),
            app_url,
            public_url: public_url.trim_end_matches('/').to_owned(),
            jwt,
            email: EmailConfig {
                api_url: var("EMAIL_API_URL").map(|u| u.trim_end_matches('/').to_owned()),
                api_key: var("EMAIL_API_KEY"),
                from: var("EMAIL_FROM").unwrap_or_else(|| "Roster <roster@localhost>".into()),
            },
            invite_ttl_seconds: var("INVITE_TTL_SECONDS")
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|v| *v > 0)
                .unwrap_or(DEFAULT_INVITE_TTL_SECONDS),
            email_max_attempts: var("EMAIL_MAX_ATTEMPTS")
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|v| *v >= 1)
                .unwrap_or(crate::domain::retry::DEFAULT_EMAIL_MAX_ATTEMPTS),
            allow_http_webhooks: var("ALLOW_HTTP_WEBHOOKS").as_deref() == Some("true"),
            org_grace_seconds: var("ORG_GRACE_SECONDS")
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|v| *v >= 0)
                .unwrap_or(DEFAULT_ORG_GRACE_SECONDS),
            retention: Retention::parse(var("RETENTION_DAYS").as_deref()),
            dns_resolver_url: var("DNS_RESOLVER_URL")
                .unwrap_or_else(|| DEFAULT_DNS_RESOLVER_URL.into()),
            console_frame_ancestors: var("CONSOLE_FRAME_ANCESTORS")
                .filter(|v| valid_frame_ancestors(v))
                .unwrap_or_else(|| "'none'".into()),
            dev_sign_in: var("DEV_SIGN_IN").as_deref() == Some("1"),
            outbox: env.queue("OUTBOX").ok(),
        }
    }
}

/// Whether `value` can stand as the sources of a CSP directive: visible ASCII and spaces,
/// without the `;` or `,` that would end the directive or the policy.
fn valid_frame_ancestors(value: &str) -> bool {
    let ok = value
        .bytes()
        .all(|b| (b.is_ascii_graphic() || b == b' ') && b != b';' && b != b',');
    if !ok {
        worker::console_error!("configuration: CONSOLE_FRAME_ANCESTORS is not a source list");
    }
    ok
}
