//! A one-line text field with a cursor (the URL editor is a `TextArea`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Text being edited; the cursor is a char index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    text: String,
    cursor: usize,
}

impl TextField {
    /// A field holding `text`, cursor at the end.
    pub fn new(text: &str) -> TextField {
        TextField { text: text.to_string(), cursor: text.chars().count() }
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor position in chars.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Replaces the text, cursor at the end.
    pub fn set(&mut self, text: &str) {
        *self = TextField::new(text);
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.text.char_indices().nth(char_idx).map_or(self.text.len(), |(i, _)| i)
    }

    /// Inserts text at the cursor; control characters other than newline
    /// are dropped (pasted CRLF becomes LF).
    pub fn insert(&mut self, s: &str) {
        let clean: String = s
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .chars()
            .filter(|c| *c == '\n' || !(c.is_control() || crate::text::is_format(*c)))
            .collect();
        let at = self.byte_at(self.cursor);
        self.text.insert_str(at, &clean);
        self.cursor += clean.chars().count();
    }

    /// Deletes the char before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    /// Deletes the char under the cursor.
    pub fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    /// Deletes from the start of the line to the cursor (Ctrl-U).
    pub fn kill_to_start(&mut self) {
        let at = self.byte_at(self.cursor);
        let start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let removed = self.text[start..at].chars().count();
        self.text.replace_range(start..at, "");
        self.cursor -= removed;
    }

    /// Applies a text-editing key; false when the key is not an edit.
    pub fn edit(&mut self, k: &KeyEvent) -> bool {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Char('u') if ctrl => self.kill_to_start(),
            KeyCode::Char(c) if !ctrl && !k.modifiers.contains(KeyModifiers::ALT) => self.insert(&c.to_string()),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Left => self.left(),
            KeyCode::Right => self.right(),
            KeyCode::Home => self.home(),
            KeyCode::End => self.end(),
            _ => return false,
        }
        true
    }

    /// Moves the cursor one char left.
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Moves the cursor one char right.
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    /// Moves the cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Moves the cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_at_the_cursor_with_unicode() {
        let mut f = TextField::new("héllo");
        f.left();
        f.left();
        f.insert("世");
        assert_eq!(f.text(), "hél世lo");
        f.backspace();
        f.backspace();
        assert_eq!(f.text(), "hélo");
        f.home();
        f.delete();
        assert_eq!((f.text(), f.cursor()), ("élo", 0));
        f.end();
        f.insert("\x1b[1m\r\nx");
        assert_eq!(f.text(), "élo[1m\nx");
        f.kill_to_start();
        assert_eq!(f.text(), "élo[1m\n");
    }
}
