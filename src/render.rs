//! Text for people, shared by the landing page and the invitation email: HTML escaping,
//! instants in words, a role with its article.

use crate::domain::time::Timestamp;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// "an admin", "a member", "a viewer".
pub fn with_article(role: &str) -> String {
    let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {role}")
}

/// An instant for people: `2026-11-30 10:00 UTC`.
pub fn human_time(at: Timestamp) -> String {
    at.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn instants_are_shown_to_the_minute_in_utc() {
        assert_eq!(human_time(Timestamp(1_795_428_000)), "2026-11-23 10:00 UTC");
    }

    #[test]
    fn articles() {
        assert_eq!(with_article("admin"), "an admin");
        assert_eq!(with_article("member"), "a member");
        assert_eq!(with_article("viewer"), "a viewer");
    }
}
