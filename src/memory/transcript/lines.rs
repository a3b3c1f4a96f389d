//! The line capper: reads one transcript line of any length while holding a
//! bounded part of it. Every JSON string is capped while it streams in (head
//! and tail kept, the middle replaced by a cut marker that records its size).

use std::borrow::Cow;
use std::io::{self, BufRead};

use serde_json::Value;

use super::MAX_LINE_BYTES;
use crate::memory::text::{token_cut_back, token_cut_forward};

/// While a line streams in, strings keep this much head and tail.
pub(super) const STRING_HEAD: usize = 192 << 10;
pub(super) const STRING_TAIL: usize = 64 << 10;
/// Cut markers read `⟦…1234 bytes cut…⟧`: unusual enough not to occur in real text, and
/// parseable, so the original size survives any number of cuts.
pub(super) const CUT_OPEN: &str = "⟦…";
pub(super) const CUT_CLOSE: &str = " bytes cut…⟧";

/// Size of `s` before any cut: its own bytes plus those recorded in its cut markers.
pub fn original_len(s: &str) -> u64 {
    let (visible, hidden) = measure(s);
    visible + hidden
}

/// Keeps the head and tail of `s` within about `max` bytes, replacing the middle by a cut
/// marker that records how many bytes it stood for.
pub fn cap_middle(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let head = token_cut_back(s, max / 2);
    let tail = token_cut_forward(s, s.len() - max / 2).max(head);
    let cut = original_len(&s[head..tail]);
    Cow::Owned(format!("{}{}{}", &s[..head], cut_marker(cut), &s[tail..]))
}

/// Whether `s` holds a cut marker (summaries leave such lines out).
pub fn has_cut_marker(s: &str) -> bool {
    s.contains(CUT_CLOSE)
}

fn cut_marker(bytes: u64) -> String {
    format!("{CUT_OPEN}{bytes}{CUT_CLOSE}")
}

/// (bytes outside cut markers, bytes recorded inside them)
pub(super) fn measure(s: &str) -> (u64, u64) {
    let (mut visible, mut hidden) = (0u64, 0u64);
    let mut rest = s;
    while let Some(i) = rest.find(CUT_OPEN) {
        let after = &rest[i + CUT_OPEN.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(CUT_CLOSE) {
            visible += i as u64;
            hidden = hidden.saturating_add(after[..digits].parse().unwrap_or(0));
            rest = &after[digits + CUT_CLOSE.len()..];
        } else {
            visible += (i + CUT_OPEN.len()) as u64;
            rest = after;
        }
    }
    (visible + rest.len() as u64, hidden)
}

/// Feeds one line to `capper`; returns the bytes consumed (with the `\n`) and whether the
/// line was complete. Reading stops at EOF without consuming an incomplete line's offset.
pub(super) fn read_line<B: BufRead>(
    input: &mut B,
    capper: &mut LineCapper,
) -> io::Result<(u64, bool)> {
    let mut consumed = 0u64;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((consumed, false));
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                capper.feed(&buf[..i]);
                input.consume(i + 1);
                return Ok((consumed + i as u64 + 1, true));
            }
            None => {
                let n = buf.len();
                capper.feed(buf);
                input.consume(n);
                consumed += n as u64;
            }
        }
    }
}

pub(super) enum Parsed {
    Blank,
    Bad,
    Json(Value),
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) enum Scan {
    #[default]
    Outside,
    InString,
    Escape,
    Unicode,
}

/// A JSON-aware copier for one line: bytes outside strings are copied, strings are decoded and
/// re-encoded with only their head and tail kept. Its output is valid JSON whenever the input
/// was, whatever the line's size, and parses with serde_json.
#[derive(Default)]
pub(super) struct LineCapper {
    out: Vec<u8>,
    scan: Scan,
    head: Vec<u8>,
    tail: Vec<u8>,
    cut: u64,
    hex: u32,
    hex_digits: u8,
    high_surrogate: Option<u32>,
    content: bool,
    overflow: bool,
    bad: bool,
}

impl LineCapper {
    pub(super) fn reset(&mut self) {
        // Don't keep a huge buffer alive because of one big line.
        if self.out.capacity() > (1 << 20) {
            self.out = Vec::new();
        }
        self.out.clear();
        self.head.clear();
        self.tail.clear();
        self.scan = Scan::Outside;
        self.cut = 0;
        self.high_surrogate = None;
        self.content = false;
        self.overflow = false;
        self.bad = false;
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.bad {
            match self.scan {
                Scan::Outside => {
                    let n = bytes.iter().position(|&b| b == b'"').unwrap_or(bytes.len());
                    let run = &bytes[..n];
                    self.content |= run.iter().any(|b| !b.is_ascii_whitespace());
                    self.emit(run);
                    if n < bytes.len() {
                        self.content = true;
                        self.scan = Scan::InString;
                        bytes = &bytes[n + 1..];
                    } else {
                        bytes = &[];
                    }
                }
                Scan::InString => {
                    let n = bytes
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\')
                        .unwrap_or(bytes.len());
                    if n > 0 {
                        self.flush_surrogate();
                        self.push(&bytes[..n]);
                    }
                    if n < bytes.len() {
                        if bytes[n] == b'"' {
                            self.flush_surrogate();
                            self.end_string();
                            self.scan = Scan::Outside;
                        } else {
                            self.scan = Scan::Escape;
                        }
                        bytes = &bytes[n + 1..];
                    } else {
                        bytes = &[];
                    }
                }
                Scan::Escape => {
                    let c = match bytes[0] {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.hex = 0;
                            self.hex_digits = 0;
                            self.scan = Scan::Unicode;
                            bytes = &bytes[1..];
                            continue;
                        }
                        _ => {
                            self.bad = true;
                            return;
                        }
                    };
                    bytes = &bytes[1..];
                    self.flush_surrogate();
                    self.push_char(c);
                    self.scan = Scan::InString;
                }
                Scan::Unicode => {
                    let Some(d) = char::from(bytes[0]).to_digit(16) else {
                        self.bad = true;
                        return;
                    };
                    bytes = &bytes[1..];
                    self.hex = self.hex * 16 + d;
                    self.hex_digits += 1;
                    if self.hex_digits == 4 {
                        self.code_unit(self.hex);
                        self.scan = Scan::InString;
                    }
                }
            }
        }
    }

    fn code_unit(&mut self, unit: u32) {
        match unit {
            0xD800..=0xDBFF => {
                self.flush_surrogate();
                self.high_surrogate = Some(unit);
            }
            0xDC00..=0xDFFF => {
                let c = match self.high_surrogate.take() {
                    Some(high) => {
                        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))
                    }
                    None => None,
                };
                self.push_char(c.unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            _ => {
                self.flush_surrogate();
                self.push_char(char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
        }
    }

    fn flush_surrogate(&mut self) {
        if self.high_surrogate.take().is_some() {
            self.push_char(char::REPLACEMENT_CHARACTER);
        }
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push(c.encode_utf8(&mut buf).as_bytes());
    }

    /// Appends decoded string bytes: the head fills first, then a bounded rolling tail.
    fn push(&mut self, mut bytes: &[u8]) {
        if self.head.len() < STRING_HEAD {
            let take = (STRING_HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
        if bytes.is_empty() {
            return;
        }
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * STRING_TAIL {
            let drop = self.tail.len() - STRING_TAIL;
            self.tail.drain(..drop);
            self.cut += drop as u64;
        }
    }

    fn end_string(&mut self) {
        let s = if self.cut == 0 {
            self.head.extend_from_slice(&self.tail);
            String::from_utf8_lossy(&self.head).into_owned()
        } else {
            // Cut on character boundaries so no replacement characters appear at the seams.
            let head_end = utf8_floor(&self.head);
            let tail_start = self
                .tail
                .iter()
                .take(3)
                .take_while(|&&b| b & 0xC0 == 0x80)
                .count();
            let head = String::from_utf8_lossy(&self.head[..head_end]);
            let tail = String::from_utf8_lossy(&self.tail[tail_start..]);
            // And on token boundaries, so no secret is cut into fragments
            // that redaction would not recognise.
            let h = token_cut_back(&head, head.len());
            let t = token_cut_forward(&tail, 0);
            let cut =
                self.cut + (self.head.len() - head_end + tail_start + (head.len() - h) + t) as u64;
            format!("{}{}{}", &head[..h], cut_marker(cut), &tail[t..])
        };
        self.head.clear();
        self.tail.clear();
        self.cut = 0;
        if !self.overflow {
            if serde_json::to_writer(&mut self.out, &s).is_err() {
                self.bad = true;
            }
            if self.out.len() > MAX_LINE_BYTES {
                self.overflow = true;
            }
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        if self.out.len() + bytes.len() > MAX_LINE_BYTES {
            self.overflow = true;
            return;
        }
        self.out.extend_from_slice(bytes);
    }

    pub(super) fn finish(&mut self) -> Parsed {
        if !self.content {
            return Parsed::Blank;
        }
        if self.bad || self.overflow || self.scan != Scan::Outside {
            return Parsed::Bad;
        }
        match serde_json::from_slice::<Value>(&self.out) {
            Ok(v @ Value::Object(_)) => Parsed::Json(v),
            _ => Parsed::Bad,
        }
    }
}

/// Length of `bytes` without a trailing incomplete UTF-8 sequence.
pub(super) fn utf8_floor(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=len.min(4) {
        let b = bytes[len - back];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let need = match b {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if need > back { len - back } else { len };
    }
    len
}
