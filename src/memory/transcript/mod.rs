//! Streaming, incremental reader of Claude Code transcripts (JSONL) that cuts them into turns.
//!
//! Claude Code appends lines asynchronously, so only complete lines are consumed and the
//! caller resumes from [`ReadOutcome::end_offset`]. No line is ever held whole: every JSON
//! string is capped while it streams in (head and tail kept, the middle replaced by a cut
//! marker that records its size), so a 20 MB tool result costs a few hundred KiB.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::recall::{MARKER_END, MARKER_START};
use crate::redact::Redactor;

mod lines;

use lines::{LineCapper, Parsed, measure, read_line};
pub use lines::{cap_middle, has_cut_marker, original_len};

/// Most bytes of one line (after its strings are capped) kept for parsing; longer lines are
/// read through and skipped.
pub const MAX_LINE_BYTES: usize = 8 << 20;
/// Cap on each piece of conversational content appended to [`Turn::raw_text`].
pub const RAW_PIECE_CAP: usize = 64 << 10;
/// Cap on a whole turn's `raw_text`, so a turn of 500 tool calls stays bounded too; the rest
/// only counts in [`Turn::raw_overflow_bytes`].
pub const RAW_TURN_CAP: usize = 4 << 20;
/// Cap on each string inside a kept tool input (file contents in Write, old/new strings...).
pub const INPUT_STRING_CAP: usize = 4 << 10;
/// Cap on a kept tool result text (head and tail kept).
pub const RESULT_CAP: usize = 8 << 10;

/// Claude Code's own injected reminders: noise for a memory, closed blocks are removed.
const REMINDER_START: &str = "<system-reminder>";
const REMINDER_END: &str = "</system-reminder>";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadOutcome {
    pub turns: Vec<Turn>,
    /// Offset just past the last complete line: where the next read starts.
    pub end_offset: u64,
    /// Malformed, binary or oversized lines (blank lines are not counted).
    pub skipped_lines: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub session_id: Option<String>,
    pub cwd: Option<String>,
    /// uuid of the line that opened the turn (stable key for dedup).
    pub first_uuid: Option<String>,
    /// Byte range of the turn's lines.
    pub start_offset: u64,
    pub end_offset: u64,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// The user's request(s): the opening prompt, then any message typed while the agent
    /// worked; markers stripped. Empty for a turn that began before the read range.
    pub prompt: String,
    /// Visible assistant text of the main thread (no thinking, no subagent text).
    pub assistant_text: Vec<String>,
    /// In order, each with its result attached. A result whose call lies before the read
    /// range is kept as a call with an empty name.
    pub tool_calls: Vec<ToolCall>,
    /// Conversational content (user text, assistant text incl. thinking, tool inputs as
    /// compact JSON, tool results), one piece per line, each capped at [`RAW_PIECE_CAP`].
    pub raw_text: String,
    /// Bytes of conversational content cut by the caps.
    pub raw_overflow_bytes: u64,
}

impl Turn {
    /// A turn that began before the read range and holds no request.
    pub fn is_continuation(&self) -> bool {
        self.prompt.is_empty()
    }

    fn is_empty(&self) -> bool {
        self.prompt.is_empty()
            && self.assistant_text.is_empty()
            && self.tool_calls.is_empty()
            && self.raw_text.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The input, with every string capped at [`INPUT_STRING_CAP`].
    pub input: Value,
    pub result: Option<ToolResult>,
}

impl ToolCall {
    /// A string field of the input, e.g. `command` or `file_path`.
    pub fn input_str(&self, key: &str) -> Option<&str> {
        self.input.get(key).and_then(Value::as_str)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// Capped at [`RESULT_CAP`]: head and tail kept, where errors usually are.
    pub text: String,
    pub is_error: bool,
    /// The command was interrupted (Bash `toolUseResult.interrupted`).
    pub interrupted: bool,
    /// Size of the full result text, cut parts included.
    pub total_bytes: u64,
}

/// Reads complete lines from `start_offset` to the end of `reader` and cuts them into turns.
///
/// An incomplete last line (no trailing `\n`) is not consumed: `end_offset` stops before it.
/// Lines of any size are streamed with their strings capped; malformed JSON, binary garbage and
/// lines still over [`MAX_LINE_BYTES`] after that are skipped and counted. Only `user`,
/// `assistant` and queued-message attachment lines are read; other types are ignored.
pub fn read_turns<R: Read + Seek>(reader: R, start_offset: u64) -> io::Result<ReadOutcome> {
    read_turns_bounded(reader, start_offset, u64::MAX, None, None)
}

/// [`read_turns`] that reads no byte at or past `end_offset` (a file that keeps growing
/// cannot keep it reading) and stops at the first line boundary after `deadline`. Cut short
/// by the deadline, it leaves out the turn in progress (unless it is the only one) so that
/// the next read, from [`ReadOutcome::end_offset`], takes that turn whole.
///
/// With a `redactor`, every string of the conversation is redacted as soon as it is parsed:
/// before it is capped, cut, quoted into JSON or compressed, so that no truncation or
/// re-encoding can split a secret away from the context that identifies it.
pub fn read_turns_bounded<R: Read + Seek>(
    mut reader: R,
    start_offset: u64,
    end_offset: u64,
    deadline: Option<std::time::Instant>,
    redactor: Option<&Redactor>,
) -> io::Result<ReadOutcome> {
    reader.seek(SeekFrom::Start(start_offset))?;
    let limit = end_offset.saturating_sub(start_offset);
    let mut input = BufReader::with_capacity(64 << 10, reader.take(limit));
    let mut capper = LineCapper::default();
    let mut builder = Builder::new(start_offset, redactor);
    let mut pos = start_offset;
    let mut skipped_lines = 0;
    let mut timed_out = false;
    loop {
        // At least one line is read, so that every run moves on.
        if pos > start_offset && deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            timed_out = true;
            break;
        }
        capper.reset();
        let (len, complete) = read_line(&mut input, &mut capper)?;
        if !complete {
            break;
        }
        let line_start = pos;
        pos += len;
        match capper.finish() {
            Parsed::Blank => {}
            Parsed::Bad => skipped_lines += 1,
            Parsed::Json(v) => builder.line(v, line_start),
        }
    }
    let mut turns = builder.finish(pos);
    if timed_out && turns.len() > 1 {
        let open = turns.pop().expect("more than one turn");
        pos = open.start_offset;
    }
    Ok(ReadOutcome {
        turns,
        end_offset: pos,
        skipped_lines,
    })
}

/// The first line start at or after `offset` in `reader` (its end when there is none).
/// Reading stops at `end`; used to begin a bounded read on a whole line.
pub fn next_line_start<R: Read + Seek>(mut reader: R, offset: u64, end: u64) -> io::Result<u64> {
    if offset == 0 {
        return Ok(0);
    }
    // The byte before `offset` tells whether `offset` already starts a line.
    reader.seek(SeekFrom::Start(offset - 1))?;
    let mut input = BufReader::with_capacity(64 << 10, reader.take(end.saturating_sub(offset - 1)));
    let mut pos = offset - 1;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(end);
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            return Ok(pos + i as u64 + 1);
        }
        let n = buf.len();
        input.consume(n);
        pos += n as u64;
    }
}

/// Removes every `<msp-memory>` … `</msp-memory>` block, so recalled memory never feeds on
/// itself. An unclosed block is cut to the end of the text; a stray end marker is dropped.
pub fn strip_injected(text: &str) -> Cow<'_, str> {
    strip_blocks(text, MARKER_START, MARKER_END, true)
}

/// Removes `open`…`close` blocks (and the line break after each). With `greedy`, an unclosed
/// block runs to the end and stray closers go too; without, both are left alone.
fn strip_blocks<'a>(text: &'a str, open: &str, close: &str, greedy: bool) -> Cow<'a, str> {
    let found = text.contains(open) || (greedy && text.contains(close));
    if !found {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(open) {
        let after = &rest[i + open.len()..];
        match after.find(close) {
            Some(j) => {
                out.push_str(&rest[..i]);
                let tail = &after[j + close.len()..];
                rest = tail
                    .strip_prefix("\r\n")
                    .or_else(|| tail.strip_prefix('\n'))
                    .unwrap_or(tail);
            }
            None if greedy => {
                out.push_str(&rest[..i]);
                rest = "";
            }
            None => break,
        }
    }
    out.push_str(rest);
    if greedy && out.contains(close) {
        out = out.replace(close, "");
    }
    Cow::Owned(out)
}

/// Text as it should be captured: msp memory and Claude Code reminders removed.
fn clean(text: &str) -> Cow<'_, str> {
    match strip_injected(text) {
        Cow::Borrowed(t) => strip_blocks(t, REMINDER_START, REMINDER_END, false),
        Cow::Owned(t) => {
            Cow::Owned(strip_blocks(&t, REMINDER_START, REMINDER_END, false).into_owned())
        }
    }
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Applies `f` to every string inside `v` (object keys excepted).
fn map_strings(v: &mut Value, f: &dyn Fn(&str) -> Cow<'_, str>) {
    match v {
        Value::String(s) => {
            if let Cow::Owned(new) = f(s) {
                *s = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| map_strings(item, f)),
        Value::Object(map) => map.values_mut().for_each(|item| map_strings(item, f)),
        _ => {}
    }
}

/// The text of a tool_result `content`: a string or a list of text/image
/// blocks, as Windows tools' output reads on Linux (see [`windows_text`]).
fn result_text(content: Option<&Value>) -> String {
    windows_text(raw_result_text(content))
}

/// Output of Windows tools as plain text: CRLF line ends as `\n`, and
/// UTF-16LE output that reached the transcript byte by byte (`h\0e\0l\0...`,
/// with or without its `\u{FF}\u{FE}` mark: PowerShell 5's `>` and many
/// console tools write it) decoded. Anything else is left as it is.
fn windows_text(text: String) -> String {
    let text = match utf16le_bytes_as_text(&text) {
        Some(decoded) => decoded,
        None => text,
    };
    if text.contains("\r\n") {
        text.replace("\r\n", "\n")
    } else {
        text
    }
}

/// `text` decoded as UTF-16LE when it is UTF-16LE bytes read one char per
/// byte: every char below 256, and NULs at least a third of them.
fn utf16le_bytes_as_text(text: &str) -> Option<String> {
    let nuls = text.chars().filter(|&c| c == '\0').count();
    if nuls == 0 || nuls * 3 < text.chars().count() {
        return None;
    }
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        bytes.push(u8::try_from(u32::from(c)).ok()?);
    }
    let bytes = bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(&bytes);
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_le_bytes([p[0], p.get(1).copied().unwrap_or(0)]))
        .collect();
    let decoded = String::from_utf16_lossy(&units);
    Some(decoded.trim_end_matches('\0').to_string())
}

fn raw_result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item.get("type").and_then(Value::as_str)? {
                "text" => str_field(item, "text"),
                "image" => Some("[image]"),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// One text of a user line as a request, or None when it is Claude Code's own output
/// (interrupt notices, local command output) or empty once cleaned.
fn prompt_piece(text: &str) -> Option<String> {
    let cleaned = clean(text);
    let t = cleaned.trim();
    const NOT_REQUESTS: [&str; 6] = [
        "[Request interrupted by user",
        "<local-command-stdout>",
        "<local-command-stderr>",
        "<local-command-caveat>",
        "<bash-stdout>",
        "<bash-stderr>",
    ];
    if t.is_empty() || NOT_REQUESTS.iter().any(|p| t.starts_with(p)) {
        return None;
    }
    if let Some(name) = between(t, "<command-name>", "</command-name>") {
        let args = between(t, "<command-args>", "</command-args>")
            .unwrap_or("")
            .trim();
        let name = name.trim();
        return Some(if args.is_empty() {
            name.to_owned()
        } else {
            format!("{name} {args}")
        });
    }
    if let Some(cmd) = between(t, "<bash-input>", "</bash-input>") {
        return Some(format!("! {}", cmd.trim()));
    }
    Some(t.to_owned())
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

/// Appends one piece of conversational content to the turn's raw text, within the caps.
fn push_raw(turn: &mut Turn, piece: &str) {
    let piece = piece.trim();
    if piece.is_empty() {
        return;
    }
    let original = original_len(piece);
    let room = RAW_TURN_CAP.saturating_sub(turn.raw_text.len());
    if room < 256 {
        turn.raw_overflow_bytes = turn.raw_overflow_bytes.saturating_add(original);
        return;
    }
    let kept = cap_middle(piece, RAW_PIECE_CAP.min(room));
    turn.raw_overflow_bytes = turn
        .raw_overflow_bytes
        .saturating_add(original.saturating_sub(measure(&kept).0));
    if !turn.raw_text.is_empty() {
        turn.raw_text.push('\n');
    }
    turn.raw_text.push_str(&kept);
}

struct Builder<'r> {
    redactor: Option<&'r Redactor>,
    turns: Vec<Turn>,
    cur: Turn,
    /// tool_use id -> index in `cur.tool_calls`
    calls: HashMap<String, usize>,
    /// uuids already taken: Claude Code sometimes writes a line twice (resume, retries).
    seen: HashSet<String>,
}

impl<'r> Builder<'r> {
    fn new(start: u64, redactor: Option<&'r Redactor>) -> Self {
        Self {
            redactor,
            turns: Vec::new(),
            cur: Turn {
                start_offset: start,
                ..Turn::default()
            },
            calls: HashMap::new(),
            seen: HashSet::new(),
        }
    }

    fn line(&mut self, mut v: Value, start: u64) {
        let kind = str_field(&v, "type").unwrap_or_default().to_owned();
        // System lines, summaries, snapshots and types yet to come are not conversation;
        // attachments only when they carry a message typed while the agent worked.
        if !matches!(kind.as_str(), "user" | "assistant" | "attachment") {
            return;
        }
        if let Some(uuid) = str_field(&v, "uuid")
            && !self.seen.insert(uuid.to_owned())
        {
            return;
        }
        if let Some(r) = self.redactor {
            // The conversation; `toolUseResult` repeats a tool's output and
            // is read only for its flags and a short error string.
            for key in ["message", "attachment"] {
                if let Some(x) = v.get_mut(key) {
                    r.redact_json(x);
                }
            }
            if let Some(x @ Value::String(_)) = v.get_mut("toolUseResult") {
                r.redact_json(x);
            }
        }
        match kind.as_str() {
            "user" => self.user(v, start),
            "assistant" => self.assistant(v),
            _ => self.queued_prompt(&v),
        }
    }

    /// A message the user typed while the agent was busy: Claude Code folds it into the running
    /// turn as a `queued_command` attachment (no user line), so it joins this turn's requests.
    /// Other attachments (hook context, file mentions, reminders) are not requests.
    fn queued_prompt(&mut self, v: &Value) {
        let Some(a) = v.get("attachment") else { return };
        let human = a
            .pointer("/origin/kind")
            .and_then(Value::as_str)
            .is_none_or(|k| k == "human");
        let prompt_mode = str_field(a, "commandMode").is_none_or(|m| m == "prompt");
        if str_field(a, "type") != Some("queued_command")
            || flag(a, "isMeta")
            || flag(v, "isMeta")
            || !human
            || !prompt_mode
        {
            return;
        }
        let text = match a.get("prompt") {
            Some(Value::String(s)) => s.clone(),
            Some(blocks @ Value::Array(_)) => result_text(Some(blocks)),
            _ => return,
        };
        let Some(piece) = prompt_piece(&text) else {
            return;
        };
        push_raw(&mut self.cur, &piece);
        if !self.cur.prompt.is_empty() {
            self.cur.prompt.push_str("\n\n");
        }
        self.cur.prompt.push_str(&piece);
        self.note_meta(v);
    }

    fn finish(mut self, end: u64) -> Vec<Turn> {
        let last = std::mem::take(&mut self.cur);
        self.keep(last, end);
        self.turns
    }

    fn open(&mut self, start: u64) {
        let prev = std::mem::replace(
            &mut self.cur,
            Turn {
                start_offset: start,
                ..Turn::default()
            },
        );
        self.keep(prev, start);
        self.calls.clear();
    }

    fn keep(&mut self, mut turn: Turn, end: u64) {
        turn.end_offset = end;
        if !turn.is_empty() {
            self.turns.push(turn);
        }
    }

    fn note_meta(&mut self, v: &Value) {
        let t = &mut self.cur;
        let set = |slot: &mut Option<String>, key: &str| {
            if slot.is_none() {
                *slot = str_field(v, key).map(str::to_owned);
            }
        };
        set(&mut t.session_id, "sessionId");
        set(&mut t.cwd, "cwd");
        set(&mut t.first_uuid, "uuid");
        if let Some(ts) = str_field(v, "timestamp") {
            if t.started_at.is_none() {
                t.started_at = Some(ts.to_owned());
            }
            t.ended_at = Some(ts.to_owned());
        }
    }

    fn user(&mut self, mut v: Value, start: u64) {
        // Compact summaries restate older turns; they are not this turn's content.
        if flag(&v, "isCompactSummary") || flag(&v, "isVisibleInTranscriptOnly") {
            return;
        }
        let meta = flag(&v, "isMeta");
        let sidechain = flag(&v, "isSidechain");
        let structured = v.get_mut("toolUseResult").map(Value::take);
        let content = v
            .pointer_mut("/message/content")
            .map(Value::take)
            .unwrap_or_default();
        let mut texts = Vec::new();
        let mut results = Vec::new();
        match content {
            Value::String(s) => texts.push(s),
            Value::Array(blocks) => {
                for mut block in blocks {
                    match str_field(&block, "type") {
                        Some("text") => {
                            if let Some(Value::String(s)) = block.get_mut("text").map(Value::take) {
                                texts.push(s);
                            }
                        }
                        Some("image") => texts.push("[image]".to_owned()),
                        Some("tool_result") => results.push(block),
                        _ => {}
                    }
                }
            }
            _ => {}
        }

        // Results answer calls of the turn in progress, even on a line that also opens one.
        let single = results.len() == 1;
        for block in &results {
            self.tool_result(block, if single { structured.as_ref() } else { None });
        }

        let prompt = if meta || sidechain {
            None
        } else {
            let pieces: Vec<String> = texts.iter().filter_map(|t| prompt_piece(t)).collect();
            (!pieces.is_empty()).then(|| pieces.join("\n\n"))
        };
        match prompt {
            Some(prompt) => {
                self.open(start);
                push_raw(&mut self.cur, &prompt);
                self.cur.prompt = prompt;
            }
            None => {
                for text in &texts {
                    push_raw(&mut self.cur, &clean(text));
                }
            }
        }
        self.note_meta(&v);
    }

    fn tool_result(&mut self, block: &Value, structured: Option<&Value>) {
        let id = str_field(block, "tool_use_id")
            .unwrap_or_default()
            .to_owned();
        let raw = result_text(block.get("content"));
        let text = clean(&raw);
        push_raw(&mut self.cur, &text);
        let mut is_error = flag(block, "is_error");
        let mut interrupted = false;
        match structured {
            Some(Value::Object(o)) => {
                interrupted = o
                    .get("interrupted")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            }
            // Failed tools often carry just "Error: ..." here.
            Some(Value::String(s)) => is_error |= s.starts_with("Error"),
            _ => {}
        }
        let result = ToolResult {
            text: cap_middle(&text, RESULT_CAP).into_owned(),
            is_error,
            interrupted,
            total_bytes: original_len(&text),
        };
        match self.calls.get(&id) {
            Some(&i) => self.cur.tool_calls[i].result = Some(result),
            None => self.cur.tool_calls.push(ToolCall {
                id,
                name: String::new(),
                input: Value::Null,
                result: Some(result),
            }),
        }
    }

    fn assistant(&mut self, mut v: Value) {
        self.note_meta(&v);
        // Subagent text is not the answer; its actions still happened, so tool calls stay.
        let sidechain = flag(&v, "isSidechain");
        let blocks = match v.pointer_mut("/message/content").map(Value::take) {
            Some(Value::Array(blocks)) => blocks,
            Some(Value::String(s)) => vec![serde_json::json!({"type": "text", "text": s})],
            _ => return,
        };
        for mut block in blocks {
            match str_field(&block, "type").unwrap_or_default() {
                "text" => {
                    let text = clean(str_field(&block, "text").unwrap_or_default())
                        .trim()
                        .to_owned();
                    // Claude Code's synthetic filler after interrupts.
                    if text.is_empty() || text == "No response requested." {
                        continue;
                    }
                    push_raw(&mut self.cur, &text);
                    if !sidechain {
                        self.cur
                            .assistant_text
                            .push(cap_middle(&text, RAW_PIECE_CAP).into_owned());
                    }
                }
                "thinking" => push_raw(
                    &mut self.cur,
                    &clean(str_field(&block, "thinking").unwrap_or_default()),
                ),
                "tool_use" | "server_tool_use" => {
                    let id = str_field(&block, "id").unwrap_or_default().to_owned();
                    if !id.is_empty() && self.calls.contains_key(&id) {
                        continue;
                    }
                    let name = str_field(&block, "name").unwrap_or("unknown").to_owned();
                    let mut input = block.get_mut("input").map(Value::take).unwrap_or_default();
                    map_strings(&mut input, &strip_injected);
                    push_raw(&mut self.cur, &format!("{name} {input}"));
                    map_strings(&mut input, &|s| cap_middle(s, INPUT_STRING_CAP));
                    if !id.is_empty() {
                        self.calls.insert(id.clone(), self.cur.tool_calls.len());
                    }
                    self.cur.tool_calls.push(ToolCall {
                        id,
                        name,
                        input,
                        result: None,
                    });
                }
                _ => {}
            }
        }
    }
}

/// The transcript builder the integration tests use too (one file for both).
#[cfg(test)]
#[path = "../../../tests/it/support/transcript.rs"]
mod builder;

/// Builders of realistic transcript lines, shared with the compress tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::builder::Lines;
    use serde_json::json;

    pub(crate) const SESSION: &str = "7d3f2a10-5c1e-4b7a-9f0e-2b8c6d4e1a90";
    pub(crate) const CWD: &str = "/home/tech/clients/acme";

    /// A transcript of session [`SESSION`] in [`CWD`] under construction;
    /// every line gets a fresh uuid and timestamp.
    pub(crate) struct Tx(Lines);

    impl Tx {
        pub fn new() -> Self {
            Self::starting_at(0)
        }

        /// A transcript whose uuids continue after `n` (to append to another one).
        pub fn starting_at(n: u32) -> Self {
            let mut lines = Lines::new(SESSION, CWD, "00000000-0000-4000-8000-", 10);
            lines.n = n;
            Tx(lines)
        }

        pub fn uuid(n: u32) -> String {
            Self::new().0.uuid(n)
        }
    }

    impl std::ops::Deref for Tx {
        type Target = Lines;
        fn deref(&self) -> &Lines {
            &self.0
        }
    }

    impl std::ops::DerefMut for Tx {
        fn deref_mut(&mut self) -> &mut Lines {
            &mut self.0
        }
    }

    /// A turn that runs the tests and is cut right after the call (the
    /// returned offset); the failed run's result, `Exit code 101` and
    /// `output`, follows the cut.
    pub(crate) fn failing_test_run(output: &str) -> (Tx, u64) {
        let mut tx = Tx::new();
        tx.prompt("Run the tests")
            .tool("toolu_a", "Bash", json!({"command": "cargo test"}));
        let cut = tx.text.len() as u64;
        let result = json!(format!("Exit code 101\n{output}"));
        tx.result("toolu_a", result, true, json!("Error: Exit code 101"));
        (tx, cut)
    }

    /// Deterministic filler text of about `bytes` bytes, shaped like tool output.
    pub(crate) fn filler(label: &str, bytes: usize) -> String {
        let mut out = String::with_capacity(bytes + 80);
        let mut i = 0u64;
        while out.len() < bytes {
            i += 1;
            out.push_str(&format!(
                "{label} line {i}: value={} status=ok elapsed={}ms\n",
                i.wrapping_mul(2654435761) % 100_000,
                i % 997
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{CWD, SESSION, Tx, failing_test_run};
    use super::*;
    use serde_json::json;
    use std::io::Cursor;

    fn read(text: &[u8], offset: u64) -> ReadOutcome {
        read_turns(Cursor::new(text), offset).expect("in-memory read")
    }

    /// A realistic two-turn transcript with noise lines of every kind around it.
    fn two_turns() -> Tx {
        let mut tx = Tx::new();
        tx.raw(r#"{"type":"summary","summary":"Veeam job failing","leafUuid":"abc"}"#)
            .raw(r#"{"type":"queue-operation","operation":"dequeue","timestamp":"2026-03-01T09:59:00.000Z","sessionId":"x"}"#)
            .hook_context("<msp-memory>\nACME NAS is at 10.0.0.5 (secret-recall)\n</msp-memory>")
            .prompt("The nightly Veeam job at ACME fails. Check the config and fix it.")
            .think("Let me look at the job config first.")
            .say("I'll check the job configuration.")
            .bash("toolu_01", "cat /etc/veeam/job.conf", "target=/mnt/nas\nretries=1\n", 0)
            .write("toolu_02", "/etc/veeam/job.conf", "target=/mnt/nas\nretries=5\n")
            .raw(r#"{"type":"file-history-snapshot","messageId":"m1","snapshot":{"trackedFileBackups":{}},"isSnapshotUpdate":false}"#)
            .raw(r#"{"type":"atis-latch","data":{"whatever":[1,2,3]},"timestamp":"2026-03-01T10:00:30.000Z"}"#)
            .raw(r#"{"type":"system","subtype":"stop_hook_summary","content":"<msp-memory>\nold\n</msp-memory>","level":"info"}"#)
            .say("Raised retries to 5 because the NAS wakes up slowly.")
            .prompt("thanks, now restart the service")
            .bash("toolu_03", "systemctl restart veeamservice", "", 0)
            .say("Restarted.");
        tx
    }

    #[test]
    fn bounded_read_stops_at_the_end_it_was_given() {
        let tx = two_turns();
        let whole = tx.text.as_bytes();
        let second = tx.text.find("thanks, now restart").unwrap();
        // The line start of the second prompt: the file as it was when the run began.
        let end = tx.text[..second].rfind('\n').unwrap() as u64 + 1;
        let out = read_turns_bounded(Cursor::new(whole), 0, end, None, None).unwrap();
        assert_eq!(out.end_offset, end, "nothing past the given end is read");
        assert_eq!(out.turns.len(), 1);
    }

    #[test]
    fn bounded_read_past_its_deadline_leaves_the_open_turn_for_next_time() {
        let tx = two_turns();
        let whole = tx.text.as_bytes();
        let past = std::time::Instant::now() - std::time::Duration::from_secs(1);
        // One line is always read, so every run moves on.
        let out = read_turns_bounded(Cursor::new(whole), 0, u64::MAX, Some(past), None).unwrap();
        assert!(out.end_offset > 0);
        assert!(out.end_offset <= whole.len() as u64);
        assert_eq!(whole[out.end_offset as usize - 1], b'\n');
    }

    #[test]
    fn next_line_start_lands_after_a_newline() {
        let text = b"aaaa\nbbbb\ncccc\n";
        let at = |o| next_line_start(Cursor::new(&text[..]), o, text.len() as u64).unwrap();
        assert_eq!(at(0), 0);
        assert_eq!(at(5), 5, "already a line start");
        assert_eq!(at(6), 10);
        assert_eq!(at(14), 15, "no line after: the end");
    }

    #[test]
    fn splits_turns_and_partitions_offsets() {
        let tx = two_turns();
        let out = read(tx.text.as_bytes(), 0);
        assert_eq!(out.skipped_lines, 0);
        assert_eq!(out.end_offset, tx.text.len() as u64);
        assert_eq!(out.turns.len(), 2);
        let (a, b) = (&out.turns[0], &out.turns[1]);
        assert_eq!(
            a.prompt,
            "The nightly Veeam job at ACME fails. Check the config and fix it."
        );
        assert_eq!(b.prompt, "thanks, now restart the service");
        assert_eq!(a.session_id.as_deref(), Some(SESSION));
        assert_eq!(a.cwd.as_deref(), Some(CWD));
        // Noise before the first prompt (summary, queue, attachment) forms no turn of its own.
        let first_prompt_at = tx
            .text
            .find(r#""content":"The nightly"#)
            .map(|i| tx.text[..i].rfind('\n').unwrap() + 1)
            .unwrap();
        assert_eq!(a.start_offset, first_prompt_at as u64);
        assert_eq!(a.end_offset, b.start_offset);
        assert_eq!(b.end_offset, out.end_offset);
        // uuid 1 is the attachment line.
        assert_eq!(a.first_uuid.as_deref(), Some(Tx::uuid(2).as_str()));
        assert!(a.started_at.as_deref().unwrap() < a.ended_at.as_deref().unwrap());

        assert_eq!(
            a.assistant_text,
            [
                "I'll check the job configuration.",
                "Raised retries to 5 because the NAS wakes up slowly."
            ]
        );
        let names: Vec<&str> = a.tool_calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Bash", "Write"]);
        let bash = &a.tool_calls[0];
        assert_eq!(bash.input_str("command"), Some("cat /etc/veeam/job.conf"));
        let res = bash.result.as_ref().unwrap();
        assert_eq!(res.text, "target=/mnt/nas\nretries=1\n");
        assert!(!res.is_error && !res.interrupted);
        assert_eq!(
            a.tool_calls[1].input_str("file_path"),
            Some("/etc/veeam/job.conf")
        );
        assert!(
            a.raw_text.contains("Let me look at the job config first."),
            "thinking is raw content"
        );
        assert!(
            a.raw_text.contains("retries=5"),
            "tool inputs are raw content"
        );
        assert!(
            !a.assistant_text.iter().any(|t| t.contains("Let me look")),
            "thinking is not visible text"
        );
        assert_eq!(b.tool_calls.len(), 1);
        assert_eq!(a.raw_overflow_bytes, 0);
    }

    #[test]
    fn resumes_from_end_offset() {
        let mut tx = two_turns();
        let first = read(tx.text.as_bytes(), 0);
        let again = read(tx.text.as_bytes(), first.end_offset);
        assert!(again.turns.is_empty());
        assert_eq!(again.end_offset, first.end_offset);

        tx.prompt("Is the NAS mounted?")
            .bash("toolu_04", "ls /mnt/nas", "backups\n", 0)
            .say("Yes, it is mounted.");
        let next = read(tx.text.as_bytes(), first.end_offset);
        assert_eq!(next.turns.len(), 1);
        assert_eq!(next.turns[0].prompt, "Is the NAS mounted?");
        assert_eq!(next.turns[0].start_offset, first.end_offset);
        assert_eq!(next.end_offset, tx.text.len() as u64);
    }

    #[test]
    fn incomplete_last_line_is_left_for_later() {
        let mut tx = two_turns();
        let complete_len = tx.text.len() as u64;
        tx.prompt("Now check the second job please");
        let full = tx.text.clone();
        let partial = &full.as_bytes()[..full.len() - 20];
        let out = read(partial, 0);
        assert_eq!(out.end_offset, complete_len);
        assert_eq!(out.turns.len(), 2);
        assert_eq!(out.skipped_lines, 0);
        // Even a complete JSON object is not taken without its newline.
        let no_newline = &full.as_bytes()[..full.len() - 1];
        assert_eq!(read(no_newline, 0).end_offset, complete_len);

        let later = read(full.as_bytes(), out.end_offset);
        assert_eq!(later.turns.len(), 1);
        assert_eq!(later.turns[0].prompt, "Now check the second job please");
    }

    #[test]
    fn mid_turn_offset_yields_a_continuation_turn() {
        let (mut tx, cut) = failing_test_run("test result: FAILED. 1 passed; 1 failed");
        tx.edit("toolu_b", "src/lib.rs", "a", "b")
            .say("Fixed the off-by-one in src/lib.rs; tests pass now.");
        let head = read(&tx.text.as_bytes()[..cut as usize], 0);
        assert_eq!(head.turns.len(), 1);
        assert!(head.turns[0].tool_calls[0].result.is_none());

        let tail = read(tx.text.as_bytes(), cut);
        assert_eq!(tail.turns.len(), 1);
        let t = &tail.turns[0];
        assert!(t.is_continuation());
        assert_eq!(t.start_offset, cut);
        assert_eq!(t.first_uuid.as_deref(), Some(Tx::uuid(3).as_str()));
        let orphan = &t.tool_calls[0];
        assert_eq!((orphan.id.as_str(), orphan.name.as_str()), ("toolu_a", ""));
        assert!(orphan.result.as_ref().unwrap().is_error);
        assert_eq!(t.tool_calls[1].name, "Edit");
        assert_eq!(
            t.assistant_text,
            ["Fixed the off-by-one in src/lib.rs; tests pass now."]
        );
    }

    #[test]
    fn skips_malformed_and_binary_lines() {
        let mut tx = Tx::new();
        tx.prompt("first").say("one");
        let mut bytes = tx.text.clone().into_bytes();
        bytes.extend_from_slice(b"{\"type\":\"user\",\"message\":{\"content\":\"trunc\n");
        bytes.extend_from_slice(b"\xff\xfe\x00\x01garbage\x02\x7f\n");
        bytes.extend_from_slice(b"not json at all\n");
        bytes.extend_from_slice(b"[1,2,3]\n");
        bytes.extend_from_slice(
            b"{\"type\":\"user\",\"message\":{\"content\":\"bad \\q escape\"}}\n",
        );
        bytes.extend_from_slice(b"\n   \r\n");
        // Invalid UTF-8 inside a string is taken lossily, not skipped.
        bytes.extend_from_slice(b"{\"type\":\"user\",\"uuid\":\"u-x\",\"message\":{\"role\":\"user\",\"content\":\"caf\xe9 is down\"}}\n");
        let out = read(&bytes, 0);
        assert_eq!(out.skipped_lines, 5);
        assert_eq!(out.end_offset, bytes.len() as u64);
        assert_eq!(out.turns.len(), 2);
        assert_eq!(out.turns[1].prompt, "caf\u{FFFD} is down");
    }

    #[test]
    fn windows_tool_output_reads_as_plain_text() {
        let utf16 = |s: &str, bom: bool| -> String {
            let mut bytes: Vec<u8> = if bom { vec![0xFF, 0xFE] } else { vec![] };
            bytes.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
            bytes.into_iter().map(char::from).collect()
        };
        let text = "Name  Status\r\nSpooler  Stopped\r\ncafé ✓\r\n";
        let want = "Name  Status\nSpooler  Stopped\ncafé ✓\n";
        assert_eq!(windows_text(utf16(text, true)), want);
        assert_eq!(windows_text(utf16(text, false)), want);
        assert_eq!(windows_text(text.to_string()), want);
        // Not UTF-16: a stray NUL, a progress bar's lone CR, and text with
        // chars past 255 stay as they are.
        for kept in ["a\0bcdef", "50%\r100%\n", "\0\0€"] {
            assert_eq!(windows_text(kept.to_string()), kept);
        }
        let c = Value::String(utf16("dir\r\n", true));
        assert_eq!(result_text(Some(&c)), "dir\n");
    }

    #[test]
    fn never_panics_on_any_prefix_or_noise() {
        let tx = two_turns();
        let bytes = tx.text.as_bytes();
        // Every cut near a line end, and a sample of the others.
        let near_line_end =
            |i: usize| bytes[i.saturating_sub(3)..(i + 3).min(bytes.len())].contains(&b'\n');
        for cut in (0..bytes.len()).filter(|&i| i % 5 == 0 || near_line_end(i)) {
            let out = read(&bytes[..cut], 0);
            assert!(out.end_offset <= cut as u64);
            assert!(out.end_offset == 0 || bytes[out.end_offset as usize - 1] == b'\n');
        }
        // Deterministic pseudo-random bytes, JSON punctuation included.
        let mut state = 0x2545F4914F6CDD1Du64;
        let alphabet = b"{}[]\":,\\u0123456789abcdefnrt \n\xff\xc3\xa9";
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                alphabet[(state % alphabet.len() as u64) as usize]
            })
            .collect();
        let out = read(&noise, 0);
        assert!(out.end_offset <= noise.len() as u64);
        for start in [0u64, 1, 17, 999, 1 << 40] {
            let _ = read(bytes, start);
        }
    }

    /// A reader over virtual content: runs of one byte are generated, not stored.
    struct Virtual {
        parts: Vec<(Vec<u8>, u64)>,
        pos: u64,
    }

    impl Virtual {
        fn len(&self) -> u64 {
            self.parts
                .iter()
                .map(|(b, n)| if *n == 0 { b.len() as u64 } else { *n })
                .sum()
        }
    }

    impl Read for Virtual {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut start = 0u64;
            for (bytes, repeat) in &self.parts {
                let len = if *repeat == 0 {
                    bytes.len() as u64
                } else {
                    *repeat
                };
                if self.pos < start + len {
                    let at = self.pos - start;
                    let n = ((len - at) as usize).min(buf.len());
                    if *repeat == 0 {
                        buf[..n].copy_from_slice(&bytes[at as usize..at as usize + n]);
                    } else {
                        buf[..n].fill(bytes[0]);
                    }
                    self.pos += n as u64;
                    return Ok(n);
                }
                start += len;
            }
            Ok(0)
        }
    }

    impl Seek for Virtual {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.pos = match to {
                SeekFrom::Start(p) => p,
                SeekFrom::End(d) => self.len().saturating_add_signed(d),
                SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
            };
            Ok(self.pos)
        }
    }

    #[test]
    fn twenty_megabyte_lines_are_streamed_not_kept() {
        const HUGE: u64 = 20 << 20;
        let mut tx = Tx::new();
        tx.prompt("Dump the event log").tool(
            "toolu_big",
            "Bash",
            json!({"command": "journalctl --no-pager"}),
        );
        let before = tx.text.clone();
        let mut after = Tx::starting_at(100);
        after.say("The log is huge; the failure is at the end.");
        let parts = vec![
            (before.into_bytes(), 0),
            (br#"{"type":"user","uuid":"u-big","message":{"role":"user","content":[{"tool_use_id":"toolu_big","type":"tool_result","content":"BEGIN "#.to_vec(), 0),
            (b"x".to_vec(), HUGE),
            (br#" error: disk full","is_error":true}]},"toolUseResult":"Error: Exit code 1"}"#.to_vec(), 0),
            (b"\n".to_vec(), 0),
            // A line with no strings at all: nothing to cap, so it is skipped past the limit.
            (b"1".to_vec(), HUGE),
            (b"\n".to_vec(), 0),
            // A Write whose content is huge keeps its path.
            (br#"{"type":"assistant","uuid":"a-big","message":{"role":"assistant","content":[{"type":"tool_use","id":"toolu_w","name":"Write","input":{"file_path":"/srv/dump.txt","content":""#.to_vec(), 0),
            (b"y".to_vec(), HUGE),
            (b"\"}}]}}\n".to_vec(), 0),
            (after.text.clone().into_bytes(), 0),
        ];
        let reader = Virtual { parts, pos: 0 };
        let total = reader.len();
        let out = read_turns(reader, 0).unwrap();
        assert_eq!(out.end_offset, total);
        assert_eq!(out.skipped_lines, 1);
        assert_eq!(out.turns.len(), 1);
        let t = &out.turns[0];
        let res = t.tool_calls[0].result.as_ref().unwrap();
        assert!(res.is_error);
        assert_eq!(
            res.total_bytes,
            HUGE + "BEGIN ".len() as u64 + " error: disk full".len() as u64
        );
        assert!(
            res.text.len() <= RESULT_CAP + 64,
            "result kept small: {}",
            res.text.len()
        );
        assert!(res.text.starts_with("BEGIN ") && res.text.ends_with(" error: disk full"));
        let write = &t.tool_calls[1];
        assert_eq!(write.input_str("file_path"), Some("/srv/dump.txt"));
        assert!(write.input_str("content").unwrap().len() <= INPUT_STRING_CAP + 64);
        assert!(t.raw_text.len() < 4 * RAW_PIECE_CAP);
        assert!(
            t.raw_overflow_bytes >= 2 * HUGE - 2 * RAW_PIECE_CAP as u64,
            "overflow {}",
            t.raw_overflow_bytes
        );
        assert_eq!(
            t.assistant_text,
            ["The log is huge; the failure is at the end."]
        );
    }

    #[test]
    fn strip_injected_cases() {
        assert!(matches!(
            strip_injected("plain text"),
            Cow::Borrowed("plain text")
        ));
        let text =
            "before\n<msp-memory>\nold fact\n</msp-memory>\nafter <msp-memory>x</msp-memory>end";
        assert_eq!(strip_injected(text), "before\nafter end");
        assert_eq!(strip_injected("keep <msp-memory>\nnever closed"), "keep ");
        assert_eq!(
            strip_injected("stray </msp-memory> closer"),
            "stray  closer"
        );
        assert_eq!(strip_injected("<msp-memory>only</msp-memory>"), "");
        // Claude Code reminders go; an unclosed one is left as it may be quoted text.
        assert_eq!(
            clean("ok<system-reminder>\nnoise\n</system-reminder>\ndone"),
            "okdone"
        );
        assert_eq!(
            clean("what is <system-reminder>?"),
            "what is <system-reminder>?"
        );
    }

    #[test]
    fn memory_markers_are_stripped_everywhere() {
        let block = "<msp-memory>\nSECRET-RECALL client password hint\n</msp-memory>";
        let mut tx = Tx::new();
        tx.hook_context(block)
            .prompt(&format!("{block}\nWhy is the backup slow?"))
            .meta(&format!("Caveat: {block}"))
            .tool(
                "toolu_1",
                "Bash",
                json!({"command": format!("echo '{block}' > /dev/null")}),
            )
            .result(
                "toolu_1",
                json!([{"type": "text", "text": format!("hook said {block} ok")}]),
                false,
                json!({"stdout": block, "stderr": "", "interrupted": false}),
            )
            .say(&format!("You told me before: {block} The disk is slow."))
            .think(block);
        let out = read(tx.text.as_bytes(), 0);
        assert_eq!(out.turns.len(), 1);
        let t = &out.turns[0];
        assert_eq!(t.prompt, "Why is the backup slow?");
        let all = serde_json::to_string(&out).unwrap();
        assert!(!all.contains("SECRET-RECALL"), "{all}");
        assert!(!all.contains("msp-memory"));
        assert_eq!(t.assistant_text, ["You told me before:  The disk is slow."]);
        assert_eq!(
            t.tool_calls[0].result.as_ref().unwrap().text,
            "hook said  ok"
        );
    }

    #[test]
    fn meta_sidechain_and_command_lines_are_not_prompts() {
        let mut tx = Tx::new();
        tx.prompt("Audit the firewall rules");
        let mut side = tx.user(json!("Subagent: list the rules"));
        side["isSidechain"] = json!(true);
        tx.push(side);
        let mut side_say = tx.user(json!(null));
        side_say["type"] = json!("assistant");
        side_say["isSidechain"] = json!(true);
        side_say["message"] = json!({"role": "assistant", "content": [
            {"type": "text", "text": "subagent chatter"},
            {"type": "tool_use", "id": "toolu_s", "name": "Bash", "input": {"command": "iptables -S"}}]});
        tx.push(side_say);
        let mut compact = tx.user(json!(
            "This session is being continued from a previous conversation..."
        ));
        compact["isCompactSummary"] = json!(true);
        tx.push(compact)
            .meta("Caveat: The messages below were generated by the user while running local commands.")
            .prompt("[Request interrupted by user for tool use]")
            .prompt("<local-command-stdout>Compacted</local-command-stdout>")
            .result("toolu_s", json!("-P INPUT ACCEPT"), false, json!({"stdout": "-P INPUT ACCEPT", "stderr": "", "interrupted": true}))
            .say("Done auditing.")
            .prompt("<command-message>review is running…</command-message>\n<command-name>/review</command-name>\n<command-args>firewall</command-args>")
            .prompt("<bash-input>ufw status</bash-input>");
        let out = read(tx.text.as_bytes(), 0);
        let prompts: Vec<&str> = out.turns.iter().map(|t| t.prompt.as_str()).collect();
        assert_eq!(
            prompts,
            [
                "Audit the firewall rules",
                "/review firewall",
                "! ufw status"
            ]
        );
        let t = &out.turns[0];
        assert_eq!(t.assistant_text, ["Done auditing."]);
        assert_eq!(t.tool_calls.len(), 1, "subagent actions still count");
        assert!(t.tool_calls[0].result.as_ref().unwrap().interrupted);
        assert!(!t.raw_text.contains("continued from a previous"));
    }

    #[test]
    fn messages_typed_mid_turn_join_the_prompt() {
        let mut tx = Tx::new();
        tx.prompt("Restart the Veeam service")
            .bash("toolu_1", "systemctl restart veeamservice", "", 0)
            .queued(
                "<msp-memory>\nold\n</msp-memory>\nalso check the NAS mount",
                "prompt",
                "human",
            )
            .queued(
                "<task-notification>done</task-notification>",
                "task-notification",
                "human",
            )
            .queued("message from another session", "prompt", "peer")
            .bash("toolu_2", "ls /mnt/nas", "backups", 0)
            .say("Restarted, and the NAS is mounted.");
        let out = read(tx.text.as_bytes(), 0);
        assert_eq!(out.turns.len(), 1);
        assert_eq!(
            out.turns[0].prompt,
            "Restart the Veeam service\n\nalso check the NAS mount"
        );
        assert_eq!(out.turns[0].tool_calls.len(), 2);
    }

    #[test]
    fn split_messages_and_duplicate_lines() {
        let mut tx = Tx::new();
        tx.prompt("Check disk space");
        let line = {
            let mut t = Tx::starting_at(50);
            t.tool("toolu_d", "Bash", json!({"command": "df -h"}));
            t.text.clone()
        };
        // The same line twice (same uuid), then the same tool_use id under another uuid.
        tx.raw(line.trim_end()).raw(line.trim_end());
        tx.tool("toolu_d", "Bash", json!({"command": "df -h"}))
            .result(
                "toolu_d",
                json!("/dev/sda1 91%"),
                false,
                json!({"stdout": "/dev/sda1 91%", "stderr": "", "interrupted": false}),
            )
            .say("Disk is at 91%.")
            .say("Clean /var/log next.");
        let out = read(tx.text.as_bytes(), 0);
        let t = &out.turns[0];
        assert_eq!(t.tool_calls.len(), 1);
        assert_eq!(
            t.tool_calls[0].result.as_ref().unwrap().text,
            "/dev/sda1 91%"
        );
        assert_eq!(
            t.assistant_text,
            ["Disk is at 91%.", "Clean /var/log next."]
        );
    }

    #[test]
    fn escapes_and_unicode_survive_the_capper() {
        let line = r#"{"type":"user","uuid":"u1","message":{"role":"user","content":"caf\u00e9 \ud83d\ude00 tab\tq\"uote\\ lone\ud800x \/ end"}}"#;
        let out = read(format!("{line}\n").as_bytes(), 0);
        assert_eq!(
            out.turns[0].prompt,
            "café 😀 tab\tq\"uote\\ lone\u{FFFD}x / end"
        );
    }

    #[test]
    fn long_strings_are_capped_with_their_size() {
        let big = "é".repeat(200_000) + "END";
        let mut tx = Tx::new();
        tx.prompt("show it").bash("toolu_1", "cat big.txt", &big, 0);
        let out = read(tx.text.as_bytes(), 0);
        let t = &out.turns[0];
        let res = t.tool_calls[0].result.as_ref().unwrap();
        assert_eq!(res.total_bytes, big.len() as u64);
        assert!(res.text.ends_with("END") && res.text.starts_with('é'));
        assert!(res.text.len() < RESULT_CAP + 64);
        assert_eq!(original_len(&res.text), big.len() as u64);
        assert!(t.raw_overflow_bytes >= big.len() as u64 - RAW_PIECE_CAP as u64);
        let capped = cap_middle(&big, 1000);
        assert_eq!(original_len(&capped), big.len() as u64);
        assert_eq!(original_len(&cap_middle(&capped, 100)), big.len() as u64);
    }
}
