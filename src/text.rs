//! Making untrusted strings (from the network or from files) safe to show.

/// Replaces control characters (C0, DEL, C1) and bidirectional-override
/// characters with U+FFFD, and tabs and line breaks with a space, so that a
/// string cannot move the cursor, change colours or reorder text on screen.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => ' ',
            c if is_unsafe(c) => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Like [`sanitize`], but also cuts the result to at most `max` characters,
/// marking a cut with `…`.
pub fn excerpt(s: &str, max: usize) -> String {
    let clean = sanitize(s.trim());
    if clean.chars().count() <= max {
        clean
    } else {
        let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200E}' | '\u{200F}' | '\u{061C}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes_and_bidi() {
        assert_eq!(sanitize("a\x1b[31mb"), "a\u{FFFD}[31mb");
        assert_eq!(sanitize("x\u{202E}y\u{9b}z\x7f"), "x\u{FFFD}y\u{FFFD}z\u{FFFD}");
        assert_eq!(sanitize("line\none\ttab"), "line one tab");
        assert_eq!(sanitize("héllo 世界"), "héllo 世界");
    }

    #[test]
    fn excerpt_cuts_on_chars() {
        assert_eq!(excerpt("  abcdef  ", 4), "abc…");
        assert_eq!(excerpt("abc", 4), "abc");
        assert_eq!(excerpt("ééééé", 3), "éé…");
    }
}
