//! The words of the invitation email and landing page in each locale: one JSON file per
//! language under `locales/`, embedded in the Worker, read once per isolate; with the
//! locale's way of writing a date and a role.

use crate::domain::locale::Locale;
use crate::domain::time::Timestamp;
use crate::domain::values::{Role, RoleKey};
use crate::render::escape;
use chrono::{Datelike, Timelike};
use serde::Deserialize;
use std::sync::OnceLock;

/// Every text of the email and the page in one language. Templates name their values in
/// braces (`{org}`); every language has every key, with the same placeholders.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strings {
    pub subject: String,
    pub invited: String,
    pub someone: String,
    role_owner: String,
    role_admin: String,
    role_member: String,
    role_viewer: String,
    /// A custom role, named by `{role}`, its key.
    role_custom: String,
    pub open_link: String,
    pub or_open_link: String,
    pub accept: String,
    pub expires: String,
    pub ignore: String,
    pub page_title: String,
    pub sign_in: String,
    pub unknown_title: String,
    pub unknown_text: String,
    pub expired_title: String,
    pub expired_ask_org: String,
    pub expired_ask: String,
    pub canceled_title: String,
    pub canceled_text: String,
    pub accepted_title: String,
    pub accepted_text: String,
    pub declined_title: String,
    pub declined_text: String,
    /// `{day}`, `{month}` (a name from `months`), `{year}`, `{time}` (hours and minutes).
    date: String,
    months: [String; 12],
    /// Whether hours below ten are written with a leading zero (`09:02`, not `9:02`).
    pad_hour: bool,
}

/// The files, in the order of [`Locale::ALL`].
const SOURCES: [&str; 6] = [
    include_str!("../locales/en.json"),
    include_str!("../locales/de.json"),
    include_str!("../locales/fr.json"),
    include_str!("../locales/es.json"),
    include_str!("../locales/pt.json"),
    include_str!("../locales/ja.json"),
];

/// The texts of `locale`.
pub fn strings(locale: Locale) -> &'static Strings {
    static TABLE: OnceLock<Vec<Strings>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        SOURCES
            .iter()
            .map(|source| {
                serde_json::from_str(source).expect("every locale file is complete (unit tested)")
            })
            .collect()
    });
    &table[locale as usize]
}

impl Strings {
    /// The role as the invitation sentence places it ("as an admin", "als Administrator",
    /// "with the role “support”").
    pub fn role(&self, role: &RoleKey) -> String {
        match role.builtin() {
            Some(Role::Owner) => self.role_owner.clone(),
            Some(Role::Admin) => self.role_admin.clone(),
            Some(Role::Member) => self.role_member.clone(),
            Some(Role::Viewer) => self.role_viewer.clone(),
            None => fill(&self.role_custom, &[("role", role.as_str())]),
        }
    }

    /// "{inviter} invited you to join {org} {role}." as HTML: the template escaped as text,
    /// the values escaped, the names in bold.
    pub fn invited_html(&self, inviter: &str, org: &str, role: &RoleKey) -> String {
        fill(
            &escape(&self.invited),
            &[
                ("inviter", &format!("<strong>{}</strong>", escape(inviter))),
                ("org", &format!("<strong>{}</strong>", escape(org))),
                ("role", &escape(&self.role(role))),
            ],
        )
    }

    /// An instant to the minute, in UTC, as the locale writes dates.
    pub fn date(&self, at: Timestamp) -> String {
        let t = at.to_datetime();
        let time = if self.pad_hour {
            format!("{:02}:{:02}", t.hour(), t.minute())
        } else {
            format!("{}:{:02}", t.hour(), t.minute())
        };
        let month = &self.months[t.month0() as usize];
        fill(
            &self.date,
            &[
                ("day", &t.day().to_string()),
                ("month", month),
                ("year", &t.year().to_string()),
                ("time", &time),
            ],
        )
    }
}

/// `template` with each `{name}` replaced by its value, in one pass: a value's own braces
/// are never read as placeholders. Unknown names stay as written.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn placeholders(s: &str) -> BTreeSet<String> {
        s.split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_owned()))
            .collect()
    }

    fn raw(locale: Locale) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(SOURCES[locale as usize]).unwrap()
    }

    #[test]
    fn every_locale_has_every_key_and_nothing_else() {
        for locale in Locale::ALL {
            let parsed: Result<Strings, _> = serde_json::from_str(SOURCES[locale as usize]);
            assert!(parsed.is_ok(), "{}: {:?}", locale.as_str(), parsed.err());
            let keys: BTreeSet<String> = raw(locale).keys().cloned().collect();
            let english: BTreeSet<String> = raw(Locale::En).keys().cloned().collect();
            assert_eq!(keys, english, "{}", locale.as_str());
        }
    }

    #[test]
    fn placeholders_are_the_same_in_every_language() {
        let english = raw(Locale::En);
        for locale in Locale::ALL {
            for (key, value) in raw(locale) {
                let (Some(text), Some(en)) = (value.as_str(), english[&key].as_str()) else {
                    continue;
                };
                assert_eq!(
                    placeholders(text),
                    placeholders(en),
                    "{}: {key}",
                    locale.as_str()
                );
                assert!(!text.trim().is_empty(), "{}: {key}", locale.as_str());
            }
        }
    }

    #[test]
    fn dates_are_written_the_locales_way() {
        let at = Timestamp::parse_rfc3339("2026-12-06T09:02:00Z").unwrap();
        let expect = [
            (Locale::En, "December 6, 2026 at 09:02 UTC"),
            (Locale::De, "6. Dezember 2026 um 09:02 UTC"),
            (Locale::Fr, "6 décembre 2026 à 09:02 UTC"),
            (Locale::Es, "6 de diciembre de 2026, 09:02 UTC"),
            (Locale::Pt, "6 de dezembro de 2026, 09:02 UTC"),
            (Locale::Ja, "2026年12月6日 9:02 UTC"),
        ];
        for (locale, text) in expect {
            assert_eq!(strings(locale).date(at), text);
        }
    }

    #[test]
    fn roles_are_translated() {
        let key = |role: Role| RoleKey::from(role);
        assert_eq!(strings(Locale::En).role(&key(Role::Admin)), "as an admin");
        assert_eq!(strings(Locale::En).role(&key(Role::Member)), "as a member");
        assert_eq!(
            strings(Locale::De).role(&key(Role::Viewer)),
            "als Betrachter"
        );
        assert_eq!(strings(Locale::Ja).role(&key(Role::Admin)), "管理者");
        let support = RoleKey::parse("support").unwrap();
        assert_eq!(
            strings(Locale::En).role(&support),
            "with the role “support”"
        );
        assert_eq!(
            strings(Locale::De).role(&support),
            "mit der Rolle „support“"
        );
    }

    #[test]
    fn filling_is_one_pass() {
        assert_eq!(
            fill("{a} and {b}", &[("a", "{b}"), ("b", "x")]),
            "{b} and x"
        );
        assert_eq!(fill("{unknown} {a", &[("a", "1")]), "{unknown} {a");
        assert_eq!(fill("日本{a}語", &[("a", "→")]), "日本→語");
    }
}
