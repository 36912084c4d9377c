//! Webhook endpoints: which URLs Roster agrees to call, and when a failed delivery is tried
//! again or an endpoint given up on.
//!
//! A webhook URL is chosen by a tenant but called by Roster, so it must not become a way
//! into networks the tenant could not reach themselves (server-side request forgery). The
//! rules judge the URL as the `url` crate normalises it: its WHATWG host parser turns
//! `2130706433`, `0x7f.0.0.1` and `0177.0.0.1` into `127.0.0.1`, so no spelling of an
//! address slips past them. Names are not resolved here (the domain does no I/O); what a
//! URL says outright is refused: IP literals outside public unicast space, and `localhost`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// Longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Where an address leads, as far as webhooks are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    Public,
    /// 127.0.0.0/8, `::1` and `localhost`: Roster's own host. Allowed only with
    /// `ALLOW_HTTP_WEBHOOKS=true`, where tests run their receivers.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), fc00::/7 (unique
    /// local) and fec0::/10 (the old site-local).
    Private,
    /// 169.254/16 and fe80::/10, where cloud metadata services answer: never allowed.
    LinkLocal,
    /// 0.0.0.0/8 and `::`, which many stacks take to mean this host: never allowed.
    Unspecified,
    /// Multicast, broadcast, documentation, benchmarking and reserved space, and IPv6
    /// outside global unicast (2000::/3): no endpoint lives there.
    Reserved,
}

/// Classifies an IPv4 address.
pub fn classify_v4(ip: Ipv4Addr) -> AddressKind {
    use AddressKind::*;
    match ip.octets() {
        [0, ..] => Unspecified,
        [127, ..] => Loopback,
        [10, ..] | [192, 168, ..] => Private,
        [172, b, ..] if (16..=31).contains(&b) => Private,
        [100, b, ..] if (64..=127).contains(&b) => Private,
        [169, 254, ..] => LinkLocal,
        [192, 0, 0 | 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => Reserved,
        [198, 18 | 19, ..] => Reserved,
        [a, ..] if a >= 224 => Reserved,
        _ => Public,
    }
}

/// Classifies an IPv6 address; one that carries an IPv4 address (mapped `::ffff:a.b.c.d`,
/// NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`) is judged as that IPv4 address.
pub fn classify_v6(ip: Ipv6Addr) -> AddressKind {
    use AddressKind::*;
    let s = ip.segments();
    if ip.is_unspecified() {
        return Unspecified;
    }
    if ip.is_loopback() {
        return Loopback;
    }
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    match s[0] {
        x if x & 0xffc0 == 0xfe80 => LinkLocal,
        x if x & 0xfe00 == 0xfc00 || x & 0xffc0 == 0xfec0 => Private,
        // Documentation (2001:db8::/32) and Teredo (2001::/32), whose relays reach IPv4
        // hosts behind an obfuscated address.
        0x2001 if s[1] == 0x0db8 || s[1] == 0 => Reserved,
        x if x & 0xe000 != 0x2000 => Reserved,
        _ => Public,
    }
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(v4(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        _ => None,
    }
}

/// Classifies a host name: `localhost` and its subdomains are loopback (RFC 6761); other
/// names are judged where they are resolved.
fn classify_name(name: &str) -> AddressKind {
    let name = name.trim_end_matches('.');
    if name == "localhost" || name.ends_with(".localhost") {
        AddressKind::Loopback
    } else {
        AddressKind::Public
    }
}

/// A URL Roster may POST webhook deliveries to, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Checks `raw` against the rules: https, no credentials, no IP literal outside public
    /// space. `allow_local` (`ALLOW_HTTP_WEBHOOKS=true`, for local tests) also admits http
    /// and loopback hosts, never link-local, unspecified, private or reserved ones.
    pub fn parse(raw: &str, allow_local: bool) -> Result<WebhookUrl, String> {
        if raw.len() > MAX_URL_LEN {
            return Err(format!("must be at most {MAX_URL_LEN} characters"));
        }
        let url = Url::parse(raw).map_err(|_| "must be an absolute URL".to_string())?;
        match url.scheme() {
            "https" => {}
            "http" if allow_local => {}
            _ => return Err("must be an https URL".into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials (user:password@)".into());
        }
        let kind = match url.host() {
            Some(Host::Domain(name)) => classify_name(name),
            Some(Host::Ipv4(ip)) => classify_v4(ip),
            Some(Host::Ipv6(ip)) => classify_v6(ip),
            None => return Err("must name a host".into()),
        };
        let refused = match kind {
            AddressKind::Public => return Ok(WebhookUrl(url.into())),
            AddressKind::Loopback if allow_local => return Ok(WebhookUrl(url.into())),
            AddressKind::Loopback => "a loopback address",
            AddressKind::Private => "a private address",
            AddressKind::LinkLocal => "a link-local address",
            AddressKind::Unspecified => "an unspecified address",
            AddressKind::Reserved => "a reserved or non-unicast address",
        };
        Err(format!("must not point to {refused}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Delays, in seconds, before the retries of a failed delivery: retry `n` is due
/// `RETRY_DELAYS[n - 1]` after attempt `n` failed.
///
/// The first attempt is made right after the change commits, so a receiver that blinked is
/// tried again at once — that is, at the scheduled job's next run, a quarter of an hour at
/// most. Then the waits grow: 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 16 h (each rounded up to
/// a run of the job), about 32 hours in all.
pub const RETRY_DELAYS: [i64; 8] = [0, 600, 1_800, 3_600, 7_200, 14_400, 28_800, 57_600];

/// Attempts at one delivery before it is marked `failed`: the first and every retry.
pub const MAX_ATTEMPTS: i64 = 1 + RETRY_DELAYS.len() as i64;

/// Consecutive failed deliveries (of any events) after which an endpoint is disabled.
pub const DISABLE_AFTER_FAILURES: i64 = 20;

/// The wait before the next attempt after `attempts` attempts have failed; `None` once
/// [`MAX_ATTEMPTS`] are spent.
pub fn retry_delay(attempts: i64) -> Option<i64> {
    let index = usize::try_from(attempts.max(1) - 1).ok()?;
    RETRY_DELAYS.get(index).copied()
}

/// Why an endpoint was disabled, as its list entry and the audit log show it.
pub fn disabled_reason(last_error: &str) -> String {
    format!(
        "{DISABLE_AFTER_FAILURES} consecutive deliveries failed (the last: {last_error}); \
         delete the endpoint and create it again once it answers"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn verdict(raw: &str, allow_local: bool) -> Result<String, String> {
        WebhookUrl::parse(raw, allow_local).map(|u| u.as_str().to_owned())
    }

    /// (url, accepted in production, accepted with ALLOW_HTTP_WEBHOOKS=true)
    const TABLE: &[(&str, bool, bool)] = &[
        ("https://hooks.example.com/roster", true, true),
        ("https://hooks.example.com:8443/a?b=c", true, true),
        ("https://93.184.215.14/hook", true, true),
        ("https://[2606:4700::1111]/hook", true, true),
        ("https://[::ffff:8.8.8.8]/", true, true),
        ("http://hooks.example.com/roster", false, true),
        ("ftp://hooks.example.com/", false, false),
        ("hooks.example.com/roster", false, false),
        ("https://user:pw@hooks.example.com/", false, false),
        ("https://user@hooks.example.com/", false, false),
        ("https://:pw@hooks.example.com/", false, false),
        // Loopback, in every spelling the host parser knows.
        ("https://127.0.0.1/", false, true),
        ("https://127.8.9.10/", false, true),
        ("https://[::1]/", false, true),
        ("https://[::ffff:127.0.0.1]/", false, true),
        ("https://2130706433/", false, true),
        ("https://0x7f.0.0.1/", false, true),
        ("https://0177.0.0.1/", false, true),
        ("https://127.1/", false, true),
        ("https://localhost/", false, true),
        ("https://LOCALHOST./", false, true),
        ("https://api.localhost/", false, true),
        ("http://127.0.0.1:8080/hook", false, true),
        // Private and carrier-grade NAT.
        ("https://10.0.0.1/", false, false),
        ("https://172.16.0.1/", false, false),
        ("https://172.31.255.255/", false, false),
        ("https://192.168.1.1/", false, false),
        ("https://100.64.0.1/", false, false),
        ("https://100.127.255.254/", false, false),
        ("https://[fd00::1]/", false, false),
        ("https://[fc00::1]/", false, false),
        ("https://[fec0::1]/", false, false),
        ("https://[::ffff:10.0.0.1]/", false, false),
        ("https://[::ffff:192.168.0.1]/", false, false),
        ("https://[64:ff9b::a00:1]/", false, false),
        ("https://[2002:c0a8:101::1]/", false, false),
        ("https://167772161/", false, false),
        // Link-local and unspecified: refused even for local tests.
        ("https://169.254.169.254/latest/meta-data", false, false),
        ("http://169.254.169.254/", false, false),
        ("https://[fe80::1]/", false, false),
        ("https://[febf::1]/", false, false),
        ("https://[::ffff:169.254.169.254]/", false, false),
        ("https://0.0.0.0/", false, false),
        ("http://0.0.0.0:8080/", false, false),
        ("https://0/", false, false),
        ("https://[::]/", false, false),
        ("https://[::ffff:0.0.0.0]/", false, false),
        // Not unicast or not in use.
        ("https://224.0.0.1/", false, false),
        ("https://255.255.255.255/", false, false),
        ("https://240.0.0.1/", false, false),
        ("https://192.0.2.1/", false, false),
        ("https://198.18.0.1/", false, false),
        ("https://[ff02::1]/", false, false),
        ("https://[2001:db8::1]/", false, false),
        ("https://[2001:0:4136:e378::1]/", false, false),
        ("https://[::127.0.0.1]/", false, false),
        ("https://[100::1]/", false, false),
    ];

    #[test]
    fn the_url_rules_table() {
        for &(raw, production, local) in TABLE {
            assert_eq!(
                verdict(raw, false).is_ok(),
                production,
                "{raw} in production"
            );
            assert_eq!(verdict(raw, true).is_ok(), local, "{raw} for local tests");
        }
    }

    #[test]
    fn refusals_say_why() {
        let says = |raw: &str, allow: bool, what: &str| {
            let message = verdict(raw, allow).unwrap_err();
            assert!(message.contains(what), "{raw}: {message}");
        };
        says("http://hooks.example.com/", false, "https");
        says("https://u:p@hooks.example.com/", true, "credentials");
        says("https://2130706433/", false, "loopback");
        says("https://10.0.0.1/", true, "private");
        says("https://169.254.169.254/", true, "link-local");
        says("https://[fe80::1]/", true, "link-local");
        says("https://0.0.0.0/", true, "unspecified");
        says("https://[::]/", true, "unspecified");
        says("https://224.0.0.1/", true, "non-unicast");
        says(
            &format!("https://x.example/{}", "a".repeat(2048)),
            true,
            "2048",
        );
    }

    #[test]
    fn urls_are_kept_normalised() {
        assert_eq!(
            verdict("HTTPS://Hooks.Example.COM:443/a", false).unwrap(),
            "https://hooks.example.com/a"
        );
        assert_eq!(
            verdict("http://0x7f.1:9000/x", true).unwrap(),
            "http://127.0.0.1:9000/x"
        );
    }

    #[test]
    fn the_retry_schedule() {
        let schedule: Vec<_> = (1..=MAX_ATTEMPTS).map(retry_delay).collect();
        assert_eq!(
            schedule,
            [
                Some(0),
                Some(600),
                Some(1_800),
                Some(3_600),
                Some(7_200),
                Some(14_400),
                Some(28_800),
                Some(57_600),
                None
            ]
        );
        assert_eq!(MAX_ATTEMPTS, 9);
        assert_eq!(retry_delay(0), Some(0));
        assert_eq!(retry_delay(100), None);
        // Each wait after the first at least doubles.
        for pair in RETRY_DELAYS[1..].windows(2) {
            assert!(pair[1] >= 2 * pair[0], "{pair:?}");
        }
        let total: i64 = RETRY_DELAYS.iter().sum();
        assert!((30 * 3600..34 * 3600).contains(&total), "{total}");
    }

    /// The worked example of the README's "Receiving webhooks".
    #[test]
    fn the_readme_signature_example() {
        let body = r#"{"created_at":"2026-11-23T10:00:00Z","data":{"name":"Acme Robotics"},"id":"5f0c6f1e-8d7a-4b7e-9a51-2a4c3e1d9b70","organization":{"id":"0b8e2f4a-3c1d-4e5f-8a9b-7c6d5e4f3a2b","slug":"acme"},"type":"organization.updated"}"#;
        let secret: crate::domain::secret::WebhookSecret =
            serde_json::from_str(r#""whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8""#).unwrap();
        assert_eq!(
            secret.sign(1_795_428_000, body),
            "t=1795428000,v1=d326fa4b1bd73f7a407fbe8d08963cf15c47727e32eda3d31c0313ceebb3a2fa"
        );
    }

    #[test]
    fn disabling_says_why() {
        let reason = disabled_reason("HTTP 500");
        assert!(reason.starts_with("20 consecutive deliveries failed"));
        assert!(reason.contains("HTTP 500"));
    }

    fn reserved_or_special(ip: Ipv4Addr) -> bool {
        let [a, b, c, _] = ip.octets();
        a == 0
            || a == 10
            || a == 127
            || a >= 224
            || (a == 100 && (64..128).contains(&b))
            || (a == 169 && b == 254)
            || (a == 172 && (16..32).contains(&b))
            || (a == 192 && b == 168)
            || (a == 192 && b == 0 && (c == 0 || c == 2))
            || (a == 198 && (b == 18 || b == 19))
            || (a == 198 && b == 51 && c == 100)
            || (a == 203 && b == 0 && c == 113)
    }

    proptest! {
        /// Every spelling of an IPv4 address gets the verdict of its dotted form.
        #[test]
        fn ipv4_spellings_agree(n: u32, allow: bool) {
            let ip = Ipv4Addr::from(n);
            let [a, b, c, d] = ip.octets();
            let dotted = verdict(&format!("https://{ip}/"), allow);
            prop_assert_eq!(dotted.is_ok(), verdict(&format!("https://{n}/"), allow).is_ok());
            prop_assert_eq!(dotted.is_ok(), verdict(&format!("https://0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}/"), allow).is_ok());
            prop_assert_eq!(dotted.is_ok(), verdict(&format!("https://0{a:o}.0{b:o}.0{c:o}.0{d:o}/"), allow).is_ok());
            prop_assert_eq!(dotted.is_ok(), verdict(&format!("https://[::ffff:{ip}]/"), allow).is_ok());
        }

        /// An address is accepted in production exactly when it is outside every special range.
        #[test]
        fn ipv4_public_means_outside_every_special_range(n: u32) {
            let ip = Ipv4Addr::from(n);
            prop_assert_eq!(verdict(&format!("https://{ip}/"), false).is_ok(), !reserved_or_special(ip));
        }

        /// Local testing unlocks loopback and nothing else that is special.
        #[test]
        fn allowing_local_adds_only_loopback(n: u32) {
            let ip = Ipv4Addr::from(n);
            let url = format!("https://{ip}/");
            if verdict(&url, true).is_ok() && verdict(&url, false).is_err() {
                prop_assert_eq!(classify_v4(ip), AddressKind::Loopback);
            }
        }

        /// Link-local addresses are refused however they are written and whatever is allowed.
        #[test]
        fn link_local_is_never_allowed(c: u8, d: u8, tail: u16, allow: bool) {
            let n = u32::from(Ipv4Addr::new(169, 254, c, d));
            for url in [
                format!("https://169.254.{c}.{d}/"),
                format!("https://{n}/"),
                format!("https://[fe80::{tail:x}]/"),
            ] {
                prop_assert!(verdict(&url, allow).is_err(), "{}", url);
            }
        }

        /// Whatever is accepted is https (or http when allowed) and carries no credentials.
        #[test]
        fn accepted_urls_keep_the_rules(raw in "(https?|ftp)://([a-z]{1,5}(:[a-z]{1,3})?@)?[a-z0-9.:\\[\\]]{1,20}(/[a-z]{0,5})?", allow: bool) {
            if let Ok(url) = verdict(&raw, allow) {
                let parsed = Url::parse(&url).unwrap();
                prop_assert!(parsed.scheme() == "https" || (allow && parsed.scheme() == "http"));
                prop_assert!(parsed.username().is_empty() && parsed.password().is_none());
                prop_assert_eq!(verdict(&url, allow), Ok(url.clone()));
            }
        }
    }
}
