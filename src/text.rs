//! Making untrusted strings (from the network or from files) safe to show.

/// Makes a string safe to print on a terminal: control characters (C0, DEL,
/// C1) and bidirectional controls become U+FFFD; tabs, line breaks and the
/// Unicode line and paragraph separators (U+2028, U+2029) become a space;
/// every other Unicode format character (general category Cf: zero-width
/// spaces and joiners, the byte-order mark U+FEFF, soft hyphens, tag
/// characters…) is dropped. The result cannot move the cursor, change
/// colours, set the window title, reorder text or hide characters.
pub fn sanitize(s: &str) -> String {
    // Most text is printable ASCII: nothing to replace (a fast scan).
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.to_string();
    }
    s.chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some(' '),
            c if c.is_control() || is_bidi_control(c) => Some('\u{FFFD}'),
            c if is_format(c) => None,
            c => Some(c),
        })
        .collect()
}

/// `1 job`, `2 jobs`: a count and its noun, plural when it is not one.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
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

/// Bidirectional embedding, override, isolate and mark characters.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Unicode general category Cf (format), as of Unicode 16.
pub fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{0600}'..='\u{0605}'
        | '\u{061C}'
        | '\u{06DD}'
        | '\u{070F}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08E2}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}'
        | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}')
}

/// What kind of file `m` describes, as a noun phrase for messages: `a
/// directory`, `a FIFO`, `a device`, `a socket`, `a symbolic link`, `a
/// regular file`.
pub fn file_kind(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
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
    fn drops_format_characters_and_separators() {
        assert_eq!(sanitize("a\u{2028}b\u{2029}c"), "a b c");
        assert_eq!(sanitize("\u{FEFF}zero\u{200B}width\u{200D}joined\u{2060}\u{00AD}"), "zerowidthjoined");
        assert_eq!(sanitize("tag\u{E0041}\u{E007F}s\u{2066}i"), "tags\u{FFFD}i");
        // Nothing in Cf, Zl or Zp survives.
        for c in ['\u{200B}', '\u{200C}', '\u{FEFF}', '\u{2028}', '\u{2029}', '\u{2064}', '\u{FFF9}', '\u{1D173}'] {
            let out = sanitize(&format!("x{c}y"));
            assert!(!out.contains(c), "{c:?} passed: {out:?}");
        }
        // OSC 52, window title, DCS and C1 sequences are defused.
        let hostile = "\x1b]52;c;aGk=\x07\x1b]0;pwned\x07\x1bP1$r\x1b\\\u{9d}x";
        assert!(sanitize(hostile).chars().all(|c| !c.is_control()));
    }

    #[test]
    fn excerpt_cuts_on_chars() {
        assert_eq!(excerpt("  abcdef  ", 4), "abc…");
        assert_eq!(excerpt("abc", 4), "abc");
        assert_eq!(excerpt("ééééé", 3), "éé…");
    }
}
