//! The languages an invitation's email and landing page can be written in.

/// A language of the invitation's email and page; English unless asked otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    En,
    De,
    Fr,
    Es,
    Pt,
    Ja,
}

impl Locale {
    pub const ALL: [Locale; 6] = [
        Locale::En,
        Locale::De,
        Locale::Fr,
        Locale::Es,
        Locale::Pt,
        Locale::Ja,
    ];
    /// The locales' names, as requests spell them, in the order of [`ALL`](Self::ALL).
    pub const NAMES: &'static [&'static str] = &["en", "de", "fr", "es", "pt", "ja"];

    pub fn as_str(self) -> &'static str {
        Locale::NAMES[self as usize]
    }

    pub fn parse(s: &str) -> Option<Locale> {
        Locale::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_refused() {
        for locale in Locale::ALL {
            assert_eq!(Locale::parse(locale.as_str()), Some(locale));
        }
        assert_eq!(Locale::parse("EN"), None);
        assert_eq!(Locale::parse("it"), None);
        assert_eq!(Locale::parse("de-DE"), None);
        assert_eq!(Locale::default(), Locale::En);
    }
}
