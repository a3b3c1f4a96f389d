//! Compresses one transcript turn into a dense, extractive memory draft, deterministically and
//! without an LLM: what was asked, what changed, what ran and how it ended, what failed and how
//! it was fixed, what was decided, and what is still open.
//!
//! Paths written or edited and commands run are kept verbatim (commands cut at ~300 chars);
//! everything else is summarised, so a memory is a few percent of the turn's raw text.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::transcript::{ToolCall, Turn, has_cut_marker};

mod prose;
mod shell;

use prose::*;
use shell::*;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub title: String,
    pub body: String,
    /// Every path written or edited (tools and detected shell writes), in order of first change.
    pub files: Vec<String>,
    /// Every Bash command run, verbatim, in order of first run.
    pub commands: Vec<String>,
    /// Tool calls that failed (errors, non-zero exits, rejections).
    pub errors: usize,
}

const TITLE_CHARS: usize = 80;
const ASK_CHARS: usize = 200;
const COMMAND_CHARS: usize = 300;
const RESULT_CHARS: usize = 300;
const DECIDED_CHARS: usize = 400;
const OPEN_CHARS: usize = 300;
const REASON_CHARS: usize = 160;
const SENTENCE_CHARS: usize = 200;
const MAX_ERRORS: usize = 5;
const MAX_LISTED: usize = 5;

/// Turns `turn` into a memory draft, or None when it holds nothing worth remembering (no
/// actions and only chit-chat, a bare slash command, or a continuation with no substance).
pub fn compress(turn: &Turn) -> Option<Draft> {
    let facts = Facts::collect(&turn.tool_calls);
    let ask = collapse(&turn.prompt);
    let final_text = turn
        .assistant_text
        .last()
        .map(String::as_str)
        .unwrap_or_default();
    let result = lead_sentences(final_text, RESULT_CHARS);
    if !facts.acted {
        let trivial = if ask.is_empty() {
            result.chars().count() < 80
        } else {
            is_chitchat(&ask) || (ask.starts_with('/') && turn.assistant_text.is_empty())
        };
        if trivial {
            return None;
        }
    }

    let [
        asked,
        changed,
        ran,
        errors,
        looked_at,
        used,
        decided,
        result_label,
        open,
    ] = SECTION_LABELS;
    let mut body = String::new();
    section(&mut body, asked, &cut_words(&ask, ASK_CHARS));
    section(&mut body, changed, &facts.changed());
    section(&mut body, ran, &facts.ran());
    section(&mut body, errors, &facts.errors(&turn.tool_calls));
    section(&mut body, looked_at, &facts.looked_at());
    section(&mut body, used, &facts.used());
    section(
        &mut body,
        decided,
        &decisions(&turn.assistant_text, &result),
    );
    section(&mut body, result_label, &result);
    section(&mut body, open, &open_items(&facts, final_text));

    Some(Draft {
        title: title(&ask, &facts, &result),
        body,
        files: facts.changes.iter().map(|c| c.path.clone()).collect(),
        commands: facts.runs.iter().map(|r| r.command.clone()).collect(),
        errors: facts.failures.len(),
    })
}

/// The labels of a turn summary's sections, in the order they appear.
pub const SECTION_LABELS: [&str; 9] = [
    "Asked",
    "Changed",
    "Ran",
    "Errors",
    "Looked at",
    "Used",
    "Decided",
    "Result",
    "Open",
];

/// The lines of `body` without their section label (`Ran: `), so two
/// turns are compared by what was done, not by the template they share.
pub fn section_values(body: &str) -> impl Iterator<Item = &str> {
    body.lines().map(|line| {
        SECTION_LABELS
            .iter()
            .find_map(|label| line.strip_prefix(label)?.strip_prefix(": "))
            .unwrap_or(line)
    })
}

fn section(body: &mut String, label: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    if !body.is_empty() {
        body.push('\n');
    }
    body.push_str(label);
    body.push_str(": ");
    body.push_str(value);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Failed(Option<i64>),
    Interrupted,
    Rejected,
    Pending,
}

impl Outcome {
    fn of(call: &ToolCall) -> Self {
        let Some(r) = &call.result else {
            return Self::Pending;
        };
        let head = r.text.trim_start();
        if r.interrupted || head.starts_with("[Request interrupted") {
            return Self::Interrupted;
        }
        if r.is_error && is_rejection(head) {
            return Self::Rejected;
        }
        // Only a command's result opens with its exit code; other tools just say is_error.
        let code = if call.name == "Bash" || call.name.is_empty() {
            exit_code(head)
        } else {
            None
        };
        if r.is_error || code.is_some_and(|c| c != 0) {
            Self::Failed(code)
        } else {
            Self::Ok
        }
    }

    fn failed(self) -> bool {
        matches!(self, Self::Failed(_) | Self::Rejected)
    }

    fn label(self) -> String {
        match self {
            Self::Ok => "ok".into(),
            Self::Failed(Some(code)) => format!("failed (exit {code})"),
            Self::Failed(None) => "failed".into(),
            Self::Interrupted => "interrupted".into(),
            Self::Rejected => "rejected by user".into(),
            Self::Pending => "no result".into(),
        }
    }
}

fn is_rejection(text: &str) -> bool {
    text.contains("doesn't want to proceed with this tool use")
        || text.contains("tool use was rejected")
}

/// Exit code as Claude Code reports a failed command: "Exit code 101" opening the result.
fn exit_code(text: &str) -> Option<i64> {
    let text = text.trim_start();
    let rest = text
        .strip_prefix("Error: ")
        .unwrap_or(text)
        .strip_prefix("Exit code ")?;
    let len = rest
        .char_indices()
        .take_while(|&(i, c)| c.is_ascii_digit() || (i == 0 && c == '-'))
        .count();
    rest[..len].parse().ok()
}

#[derive(Debug, Default)]
struct Change {
    path: String,
    written: u32,
    edited: u32,
    shell: u32,
    failed: u32,
}

#[derive(Debug, Clone, Copy)]
enum ChangeKind {
    Written,
    Edited,
    Shell,
}

#[derive(Debug)]
struct Run {
    command: String,
    outcomes: Vec<Outcome>,
}

#[derive(Debug)]
struct Failure {
    call: usize,
    what: String,
    reason: String,
}

/// What the tool calls of a turn did, gathered in one pass.
#[derive(Debug, Default)]
struct Facts {
    changes: Vec<Change>,
    /// (call index, change index) of every successful change, to tell what fixed a failure.
    change_log: Vec<(usize, usize)>,
    runs: Vec<Run>,
    failures: Vec<Failure>,
    reads: Vec<String>,
    searches: Vec<String>,
    fetched: Vec<String>,
    used: Vec<(String, u32)>,
    open_todos: Vec<String>,
    /// Any call of the turn's own (results of earlier calls do not count).
    acted: bool,
}

fn input_str<'a>(call: &'a ToolCall, key: &str) -> &'a str {
    call.input_str(key).map(str::trim).unwrap_or_default()
}

impl Facts {
    fn collect(calls: &[ToolCall]) -> Self {
        let mut f = Self::default();
        for (i, call) in calls.iter().enumerate() {
            let outcome = Outcome::of(call);
            let failed = outcome.failed();
            f.acted |= !call.name.is_empty();
            match call.name.as_str() {
                "Bash" => {
                    let command = input_str(call, "command");
                    if !command.is_empty() {
                        for path in shell_written_paths(command) {
                            f.change(i, &path, ChangeKind::Shell, failed);
                        }
                        f.run(command, outcome);
                    }
                }
                "Write" => f.change(i, input_str(call, "file_path"), ChangeKind::Written, failed),
                "Edit" | "MultiEdit" => {
                    f.change(i, input_str(call, "file_path"), ChangeKind::Edited, failed)
                }
                "NotebookEdit" => f.change(
                    i,
                    input_str(call, "notebook_path"),
                    ChangeKind::Edited,
                    failed,
                ),
                "Read" | "NotebookRead" | "LS" => {
                    let path = ["file_path", "notebook_path", "path"]
                        .iter()
                        .map(|k| input_str(call, k))
                        .find(|p| !p.is_empty());
                    push_unique(&mut f.reads, path.unwrap_or_default());
                }
                "Grep" | "Glob" => {
                    let (pattern, path) = (input_str(call, "pattern"), input_str(call, "path"));
                    let search = if path.is_empty() {
                        format!("`{pattern}`")
                    } else {
                        format!("`{pattern}` in {path}")
                    };
                    push_unique(&mut f.searches, &search);
                }
                "WebSearch" => push_unique(
                    &mut f.searches,
                    &format!("web \"{}\"", input_str(call, "query")),
                ),
                "WebFetch" => push_unique(&mut f.fetched, input_str(call, "url")),
                "TodoWrite" => f.open_todos = open_todos(&call.input),
                "" => {}
                name => {
                    let label = match name {
                        "Task" | "Agent" => format!(
                            "{name} \"{}\"",
                            cut_words(&collapse(input_str(call, "description")), 60)
                        ),
                        "Skill" => format!("Skill {}", input_str(call, "skill")),
                        _ => name.to_owned(),
                    };
                    match f.used.iter_mut().find(|(l, _)| *l == label) {
                        Some((_, n)) => *n += 1,
                        None => f.used.push((label, 1)),
                    }
                }
            }
            if failed {
                let reason = call
                    .result
                    .as_ref()
                    .map(|r| failure_reason(&r.text))
                    .unwrap_or_default();
                f.failures.push(Failure {
                    call: i,
                    what: describe(call),
                    reason,
                });
            }
        }
        f
    }

    fn change(&mut self, call: usize, path: &str, kind: ChangeKind, failed: bool) {
        if path.is_empty() {
            return;
        }
        let idx = match self.changes.iter().position(|c| c.path == path) {
            Some(idx) => idx,
            None => {
                self.changes.push(Change {
                    path: path.to_owned(),
                    ..Change::default()
                });
                self.changes.len() - 1
            }
        };
        let c = &mut self.changes[idx];
        if failed {
            c.failed += 1;
            return;
        }
        match kind {
            ChangeKind::Written => c.written += 1,
            ChangeKind::Edited => c.edited += 1,
            ChangeKind::Shell => c.shell += 1,
        }
        self.change_log.push((call, idx));
    }

    fn run(&mut self, command: &str, outcome: Outcome) {
        match self.runs.iter_mut().find(|r| r.command == command) {
            Some(run) => run.outcomes.push(outcome),
            None => self.runs.push(Run {
                command: command.to_owned(),
                outcomes: vec![outcome],
            }),
        }
    }

    fn changed(&self) -> String {
        let items: Vec<String> = self
            .changes
            .iter()
            .map(|c| {
                let mut kinds = Vec::new();
                for (n, what) in [
                    (c.written, "written"),
                    (c.edited, "edited"),
                    (c.shell, "written by shell"),
                ] {
                    match n {
                        0 => {}
                        1 => kinds.push(what.to_owned()),
                        n => kinds.push(format!("{what} x{n}")),
                    }
                }
                match c.failed {
                    0 => {}
                    1 => kinds.push("1 change failed".into()),
                    n => kinds.push(format!("{n} changes failed")),
                }
                format!("{} ({})", c.path, kinds.join(", "))
            })
            .collect();
        items.join(", ")
    }

    fn ran(&self) -> String {
        let items: Vec<String> = self
            .runs
            .iter()
            .map(|run| {
                // Consecutive equal outcomes fold: "ok x3", "failed (exit 1), then ok".
                let mut groups: Vec<(Outcome, usize)> = Vec::new();
                for &o in &run.outcomes {
                    match groups.last_mut() {
                        Some((last, n)) if *last == o => *n += 1,
                        _ => groups.push((o, 1)),
                    }
                }
                let outcomes: Vec<String> = groups
                    .iter()
                    .map(|&(o, n)| {
                        if n > 1 {
                            format!("{} x{n}", o.label())
                        } else {
                            o.label()
                        }
                    })
                    .collect();
                format!(
                    "`{}` -> {}",
                    show_command(&run.command),
                    outcomes.join(", then ")
                )
            })
            .collect();
        items.join("; ")
    }

    fn errors(&self, calls: &[ToolCall]) -> String {
        let mut items: Vec<String> = self
            .failures
            .iter()
            .take(MAX_ERRORS)
            .map(|f| {
                let mut item = f.what.clone();
                if !f.reason.is_empty() {
                    item = format!("{item}: {}", f.reason);
                }
                let fate = self.fate(calls, f.call);
                if !fate.is_empty() {
                    item = format!("{item} -> {fate}");
                }
                item
            })
            .collect();
        if self.failures.len() > MAX_ERRORS {
            items.push(format!("(+{} more)", self.failures.len() - MAX_ERRORS));
        }
        items.join("; ")
    }

    /// What became of a failed call: the next attempt at the same thing tells.
    fn fate(&self, calls: &[ToolCall], failed: usize) -> String {
        let key = call_key(&calls[failed]);
        let Some(retry) = (failed + 1..calls.len()).find(|&j| call_key(&calls[j]) == key) else {
            return String::new();
        };
        match Outcome::of(&calls[retry]) {
            Outcome::Ok => {
                let mut fixed: Vec<&str> = Vec::new();
                for &(call, idx) in &self.change_log {
                    let path = self.changes[idx].path.as_str();
                    if call > failed && call < retry && !fixed.contains(&path) {
                        fixed.push(path);
                    }
                }
                if fixed.is_empty() {
                    "ok on retry".into()
                } else {
                    format!("fixed by editing {}", list_some(&fixed, 3))
                }
            }
            o if o.failed() => "failed again".into(),
            _ => String::new(),
        }
    }

    fn looked_at(&self) -> String {
        let mut parts = Vec::new();
        if !self.reads.is_empty() {
            parts.push(format!("read {}", summarize_paths(&self.reads)));
        }
        if !self.searches.is_empty() {
            parts.push(format!("searched {}", list_some(&self.searches, 4)));
        }
        if !self.fetched.is_empty() {
            parts.push(format!("fetched {}", list_some(&self.fetched, 3)));
        }
        parts.join("; ")
    }

    fn used(&self) -> String {
        let items: Vec<String> = self
            .used
            .iter()
            .map(|(label, n)| {
                if *n > 1 {
                    format!("{label} x{n}")
                } else {
                    label.clone()
                }
            })
            .collect();
        list_some(&items, 8)
    }
}

/// Same thing attempted again: same command, or same tool on the same target.
fn call_key(call: &ToolCall) -> String {
    match call.name.as_str() {
        "Bash" => input_str(call, "command").to_owned(),
        "Write" | "Edit" | "MultiEdit" => format!("change {}", input_str(call, "file_path")),
        "" => format!("earlier {}", call.id),
        name => format!("{name} {}", call.input),
    }
}

/// A failed call as the Errors section names it.
fn describe(call: &ToolCall) -> String {
    match call.name.as_str() {
        "Bash" => format!(
            "`{}`",
            cut_chars(first_line(input_str(call, "command")), 80)
        ),
        "" => "an earlier call".into(),
        name => {
            let target = [
                "file_path",
                "notebook_path",
                "path",
                "url",
                "pattern",
                "query",
                "description",
            ]
            .iter()
            .map(|k| input_str(call, k))
            .find(|t| !t.is_empty());
            match target {
                Some(t) => format!("{name} {}", cut_chars(t, 80)),
                None => name.to_owned(),
            }
        }
    }
}

/// The most telling line of a failed result: a hard error beats a "failed" summary, which beats
/// the last line.
fn failure_reason(text: &str) -> String {
    if is_rejection(text) {
        return "rejected by user".into();
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !has_cut_marker(l) && exit_code(l).is_none_or(|_| l.len() > 16)
        })
        .collect();
    let Some(last) = lines.len().checked_sub(1) else {
        return String::new();
    };
    let mut best = (0u8, last);
    for (i, line) in lines.iter().enumerate() {
        let s = severity(line);
        if s > best.0 {
            best = (s, i);
        }
    }
    let mut reason = lines[best.1].to_owned();
    // "thread 'x' panicked at src/lib.rs:10:5:" says what only on the next line.
    if reason.ends_with(':')
        && let Some(next) = lines.get(best.1 + 1)
    {
        reason = format!("{reason} {next}");
    }
    cut_chars(&collapse(&reason), REASON_CHARS)
}

fn severity(line: &str) -> u8 {
    const HARD: &[&str] = &[
        "panicked",
        "error:",
        "error[",
        "error ",
        "fatal",
        "exception",
        "no such file",
        "permission denied",
        "not found",
        "cannot",
        "can't",
        "unable to",
        "refused",
        "denied",
        "does not exist",
        "traceback",
    ];
    const SOFT: &[&str] = &[
        "failed",
        "failure",
        "invalid",
        "timed out",
        "timeout",
        "unknown",
    ];
    let lower = line.to_lowercase();
    if lower.starts_with("traceback") {
        return 1; // the exception itself is on the last line
    }
    if HARD.iter().any(|c| lower.contains(c)) {
        3
    } else if SOFT.iter().any(|c| lower.contains(c)) {
        2
    } else {
        0
    }
}

fn open_todos(input: &Value) -> Vec<String> {
    let Some(todos) = input.get("todos").and_then(Value::as_array) else {
        return Vec::new();
    };
    todos
        .iter()
        .filter_map(|t| {
            let content = collapse(t.get("content").and_then(Value::as_str)?);
            match t.get("status").and_then(Value::as_str).unwrap_or("pending") {
                "completed" => None,
                "in_progress" => Some(format!("{content} (in progress)")),
                _ => Some(content),
            }
        })
        .filter(|t| !t.is_empty())
        .collect()
}

fn title(ask: &str, facts: &Facts, result: &str) -> String {
    if !ask.is_empty() {
        let first = sentences(ask).into_iter().next().unwrap_or_default();
        // "ok. now fix the job" says nothing in its first sentence.
        let basis = if first.chars().count() < 20 {
            ask
        } else {
            first.as_str()
        };
        return cut_words(basis, TITLE_CHARS);
    }
    let mut parts = Vec::new();
    if !facts.changes.is_empty() {
        let paths: Vec<&str> = facts.changes.iter().map(|c| c.path.as_str()).collect();
        parts.push(format!("changed {}", list_some(&paths, 2)));
    }
    if let Some(run) = facts.runs.first() {
        parts.push(format!("ran {}", cut_chars(first_line(&run.command), 40)));
    }
    let what = if parts.is_empty() {
        sentences(result).into_iter().next().unwrap_or_default()
    } else {
        parts.join("; ")
    };
    cut_words(&format!("Continued: {what}"), TITLE_CHARS)
}

#[cfg(test)]
mod tests {

    #[test]
    fn section_values_drop_only_a_leading_label() {
        let body = "Asked: why is DNS slow?\nLooked at: /etc/resolv.conf\nResult: the Result: was cached\nplain line";
        let values: Vec<&str> = section_values(body).collect();
        assert_eq!(
            values,
            [
                "why is DNS slow?",
                "/etc/resolv.conf",
                "the Result: was cached",
                "plain line"
            ]
        );
    }

    use super::super::transcript::fixtures::{Tx, failing_test_run, filler};
    use super::super::transcript::{ToolResult, read_turns};
    use super::*;
    use serde_json::json;
    use std::io::Cursor;

    fn turns(tx: &Tx) -> Vec<Turn> {
        read_turns(Cursor::new(tx.text.as_bytes()), 0)
            .unwrap()
            .turns
    }

    fn only_turn(tx: &Tx) -> Turn {
        let mut all = turns(tx);
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    fn rust_source(name: &str, bytes: usize) -> String {
        let mut out = format!("//! {name}\nuse std::path::Path;\n\n");
        let mut i = 0;
        while out.len() < bytes {
            i += 1;
            out.push_str(&format!(
                "/// Checks share {i} before the report.\npub fn check_{i}(root: &Path) -> anyhow::Result<u64> {{\n    let meta = std::fs::metadata(root.join(\"share{i}\"))?;\n    Ok(meta.len() / {i})\n}}\n\n"
            ));
        }
        out
    }

    /// A Rust coding turn: reads, a new file, edits, a failing then passing test run.
    fn coding_turn() -> Tx {
        let mut tx = Tx::new();
        let cargo_fail = format!(
            "{}running 14 tests\ntest report::tests::offline_nas ... FAILED\n\nfailures:\n\n---- report::tests::offline_nas stdout ----\n\nthread 'report::tests::offline_nas' panicked at src/report.rs:88:14:\ncalled `Result::unwrap()` on an `Err` value: Os {{ code: 112, kind: HostUnreachable }}\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\nfailures:\n    report::tests::offline_nas\n\ntest result: FAILED. 13 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.41s\n\nerror: test failed, to rerun pass `--lib`",
            filler("   Compiling", 6_000)
        );
        tx.prompt("The backup report binary crashes when the client's NAS is offline. Make it report the share as unreachable instead of panicking, and add a test.")
            .think(&filler("thinking: the report walks every share", 3_000))
            .say("Let me look at the report code first.")
            .read("toolu_01", "src/main.rs", &rust_source("main", 8_000))
            .read("toolu_02", "src/report.rs", &rust_source("report", 14_000))
            .tool("toolu_03", "Grep", json!({"pattern": "unwrap\\(\\)", "path": "src", "output_mode": "content"}))
            .result("toolu_03", json!(filler("src/report.rs:88: let meta = fs::metadata(p).unwrap()", 2_500)), false, json!({"mode": "content", "numFiles": 3}))
            .say("The root cause is an unwrap on fs::metadata in src/report.rs, which panics when the share is unreachable. I'll use a Reachability enum instead of panicking.")
            .edit("toolu_04", "src/report.rs", &rust_source("old", 900), &rust_source("new", 1_300))
            .write("toolu_05", "tests/report_offline.rs", &rust_source("offline test", 4_000))
            .bash("toolu_06", "cargo build 2>&1 | tail -50", &filler("   Compiling msp-report", 6_000), 0)
            .bash("toolu_07", "cargo test", &cargo_fail, 101)
            .edit("toolu_08", "src/report.rs", "let meta = fs::metadata(p).unwrap();", "let meta = match fs::metadata(p) { Ok(m) => m, Err(_) => return Reachability::Unreachable };")
            .bash("toolu_09", "cargo test", &filler("test report::tests::case ... ok", 5_000), 0)
            .bash("toolu_10", "cargo clippy --all-targets -- -D warnings", &filler("    Checking msp-report", 1_500), 0)
            .say("Done. An offline share is now reported as unreachable instead of crashing the report, and tests/report_offline.rs covers it. All 14 tests pass and clippy is clean.\n\n```rust\nenum Reachability { Reachable(u64), Unreachable }\n```\n\nYou may want to add the same check to the email summary later.");
        tx
    }

    /// A sysadmin turn: logs, heredoc config writes, tee, sed -i, a failing then fixed mount.
    fn sysadmin_turn() -> Tx {
        let mut tx = Tx::new();
        let unit = "[Unit]\nDescription=NAS mount\n[Mount]\nWhat=//10.0.0.5/backup\nWhere=/mnt/nas\nType=cifs\nOptions=credentials=/etc/veeam/nas.cred,vers=3.0\n[Install]\nWantedBy=multi-user.target\n";
        tx.prompt("Veeam agent jobs on acme-fs01 fail every night with 'target unreachable'. Find out why and fix it so tonight's job runs.")
            .bash("toolu_11", "journalctl -u veeamservice --since '24 hours ago' --no-pager", &filler("Mar 01 02:00:01 acme-fs01 veeamservice[812]: [error] Target /mnt/nas unreachable", 40_000), 0)
            .bash("toolu_12", "cat /etc/veeam/veeam.ini", &filler("retries=1 timeout=30", 3_000), 0)
            .bash("toolu_13", "ls /mnt/nas", "ls: cannot access '/mnt/nas': No such file or directory", 2)
            .say("The root cause is that /mnt/nas is never mounted at boot, because the fstab entry was removed during the last upgrade. I'll use a systemd mount unit instead of fstab.")
            .bash("toolu_14", &format!("sudo tee /etc/systemd/system/mnt-nas.mount > /dev/null <<'EOF'\n{unit}EOF"), "", 0)
            .bash("toolu_15", "cat > /etc/veeam/nas.cred <<'EOF'\nusername=veeam\npassword=REDACTED\nEOF\nchmod 600 /etc/veeam/nas.cred", "", 0)
            .bash("toolu_16", "systemctl daemon-reload && systemctl enable --now mnt-nas.mount", "Created symlink /etc/systemd/system/multi-user.target.wants/mnt-nas.mount", 0)
            .bash("toolu_16b", "ls /mnt/nas", "", 0)
            .bash("toolu_17", "ls /mnt/nas", "acme-fs01\nVeeamConfigBackup\n", 0)
            .bash("toolu_18", "sed -i 's/^retries=1$/retries=5/' /etc/veeam/veeam.ini && grep retries /etc/veeam/veeam.ini", "retries=5", 0)
            .bash("toolu_19", "veeamconfig job start --name 'Nightly acme-fs01' 2>&1 | tee /var/log/veeam-manual-run.log", &filler("Job started, session id 9f1c", 4_000), 0)
            .tool("toolu_20", "TodoWrite", json!({"todos": [
                {"content": "Mount NAS via systemd", "status": "completed", "activeForm": "Mounting"},
                {"content": "Verify tonight's job result", "status": "pending", "activeForm": "Verifying"}]}))
            .result("toolu_20", json!("Todos have been modified successfully."), false, json!({"oldTodos": [], "newTodos": []}))
            .say("Fixed: /mnt/nas is now mounted by mnt-nas.mount at boot and the manual job run started fine. Retries were raised to 5 in /etc/veeam/veeam.ini. Next step: check tomorrow morning that the nightly job succeeded.");
        tx
    }

    /// An M365 turn: MCP calls with big JSON, a docs fetch, a PowerShell script written and run.
    fn m365_turn() -> Tx {
        let mut tx = Tx::new();
        let mailbox_json = (0..120)
            .map(|i| format!("{{\"displayName\":\"User {i}\",\"primarySmtpAddress\":\"user{i}@acme.example\",\"forwardingSmtpAddress\":null,\"quotaUsedGB\":{}}}", i % 50))
            .collect::<Vec<_>>()
            .join(",");
        let script = filler(
            "Get-Mailbox -ResultSize Unlimited | Where-Object { $_.ForwardingSmtpAddress }",
            6_000,
        );
        tx.prompt("Check whether any ACME mailbox forwards mail outside the tenant and give me a script the helpdesk can rerun monthly.")
            .tool("toolu_21", "mcp__m365__list_mailboxes", json!({"tenant": "acme.example", "include": ["forwarding", "quota"]}))
            .result("toolu_21", json!([{"type": "text", "text": format!("[{mailbox_json}]")}]), false, json!(null))
            .tool("toolu_22", "WebFetch", json!({"url": "https://learn.microsoft.com/en-us/powershell/module/exchange/get-mailbox", "prompt": "Which property shows forwarding?"}))
            .result("toolu_22", json!(filler("ForwardingSmtpAddress: The ForwardingSmtpAddress parameter specifies a forwarding SMTP address", 20_000)), false, json!({"bytes": 20000, "code": 200}))
            .tool("toolu_23", "mcp__m365__get_transport_rules", json!({"tenant": "acme.example"}))
            .result("toolu_23", json!(filler("{\"name\":\"Block external forwarding\",\"state\":\"Disabled\"}", 8_000)), false, json!(null))
            .say("No mailbox forwards externally today, but the transport rule blocking external forwarding is disabled, so I chose to have the script report both.")
            .write("toolu_24", "C:\\Scripts\\ACME\\Check-Forwarding.ps1", &script)
            .bash("toolu_25", "pwsh -File 'C:\\Scripts\\ACME\\Check-Forwarding.ps1' -Tenant acme.example -OutFile 'C:\\Reports\\acme-forwarding.csv'", &filler("Checked mailbox", 5_000), 0)
            .say("No external forwarding found across 120 mailboxes. The script is at C:\\Scripts\\ACME\\Check-Forwarding.ps1 and writes C:\\Reports\\acme-forwarding.csv. The transport rule 'Block external forwarding' is disabled; you still need to decide with the client whether to enable it.");
        tx
    }

    /// Every changed path and every command (as shown) must be in the body.
    fn assert_complete(turn: &Turn, draft: &Draft, extra_paths: &[&str]) {
        for call in &turn.tool_calls {
            let path = call
                .input_str("file_path")
                .or_else(|| call.input_str("notebook_path"));
            if matches!(
                call.name.as_str(),
                "Write" | "Edit" | "MultiEdit" | "NotebookEdit"
            ) {
                let path = path.unwrap();
                assert!(
                    draft.body.contains(path),
                    "missing path {path} in\n{}",
                    draft.body
                );
                assert!(draft.files.iter().any(|f| f == path));
            }
            if call.name == "Bash" {
                let command = call.input_str("command").unwrap();
                assert!(
                    draft.body.contains(&show_command(command)),
                    "missing command {command} in\n{}",
                    draft.body
                );
                assert!(draft.commands.iter().any(|c| c == command.trim()));
                let shown = show_command(command);
                let first = shown.trim_end_matches(" …").trim_end_matches('…');
                assert!(
                    command.starts_with(first),
                    "shown form is a verbatim prefix"
                );
            }
        }
        for path in extra_paths {
            assert!(
                draft.body.contains(path),
                "missing shell-written {path} in\n{}",
                draft.body
            );
            assert!(
                draft.files.iter().any(|f| f == path),
                "{path} not in files {:?}",
                draft.files
            );
        }
    }

    #[test]
    fn realistic_turns_shrink_by_over_90_percent() {
        let cases: [(&str, Tx, &[&str]); 3] = [
            ("coding", coding_turn(), &[]),
            (
                "sysadmin",
                sysadmin_turn(),
                &[
                    "/etc/systemd/system/mnt-nas.mount",
                    "/etc/veeam/nas.cred",
                    "/etc/veeam/veeam.ini",
                    "/var/log/veeam-manual-run.log",
                ],
            ),
            ("m365", m365_turn(), &["C:\\Reports\\acme-forwarding.csv"]),
        ];
        let mut reductions = Vec::new();
        for (name, tx, extra) in &cases {
            let turn = only_turn(tx);
            let draft = compress(&turn).expect("a real turn is remembered");
            assert_complete(&turn, &draft, extra);
            let raw = turn.raw_text.chars().count();
            let kept = draft.title.chars().count() + draft.body.chars().count();
            let reduction = 1.0 - kept as f64 / raw as f64;
            println!(
                "{name}: raw {raw} chars -> {kept} chars, reduction {:.1}%\n{}\n{}\n",
                reduction * 100.0,
                draft.title,
                draft.body
            );
            assert!(
                reduction >= 0.90,
                "{name}: only {:.1}% reduction",
                reduction * 100.0
            );
            reductions.push(reduction);
        }
        reductions.sort_by(f64::total_cmp);
        assert!(
            reductions[1] >= 0.95,
            "median reduction {:.1}%",
            reductions[1] * 100.0
        );
    }

    #[test]
    fn any_prefix_or_start_compresses_without_panic() {
        let text = coding_turn().text.clone() + &sysadmin_turn().text;
        let bytes = text.as_bytes();
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
        for start in line_starts {
            for turn in read_turns(Cursor::new(bytes), start as u64).unwrap().turns {
                let draft = compress(&turn);
                assert_eq!(draft, compress(&turn));
                if let Some(d) = draft {
                    assert!(d.title.chars().count() <= TITLE_CHARS + 1, "{}", d.title);
                }
            }
        }
        for end in (0..bytes.len()).step_by(4_999) {
            for turn in read_turns(Cursor::new(&bytes[..end]), 0).unwrap().turns {
                let _ = compress(&turn);
            }
        }
    }

    #[test]
    fn coding_turn_sections() {
        let draft = compress(&only_turn(&coding_turn())).unwrap();
        let body = &draft.body;
        assert_eq!(
            draft.title,
            "The backup report binary crashes when the client's NAS is offline."
        );
        assert!(body.starts_with("Asked: The backup report binary crashes"));
        assert!(
            body.contains("Changed: src/report.rs (edited x2), tests/report_offline.rs (written)"),
            "{body}"
        );
        assert!(
            body.contains("`cargo test` -> failed (exit 101), then ok"),
            "{body}"
        );
        assert!(body.contains("`cargo build 2>&1 | tail -50` -> ok"));
        assert!(
            body.contains("Errors: `cargo test`: thread 'report::tests::offline_nas' panicked at src/report.rs:88:14: called `Result::unwrap()`"),
            "{body}"
        );
        assert!(body.contains("-> fixed by editing src/report.rs"), "{body}");
        assert!(
            body.contains(
                "Looked at: read src/main.rs, src/report.rs; searched `unwrap\\(\\)` in src"
            ),
            "{body}"
        );
        assert!(
            body.contains("Decided: The root cause is an unwrap on fs::metadata"),
            "{body}"
        );
        assert!(
            body.contains("Result: Done. An offline share is now reported as unreachable"),
            "{body}"
        );
        assert!(!body.contains("enum Reachability"), "code blocks stay out");
        assert!(
            body.contains("Open: You may want to add the same check to the email summary later."),
            "{body}"
        );
        assert_eq!(draft.errors, 1);
        assert_eq!(draft.files, ["src/report.rs", "tests/report_offline.rs"]);
        assert_eq!(
            draft.commands,
            [
                "cargo build 2>&1 | tail -50",
                "cargo test",
                "cargo clippy --all-targets -- -D warnings"
            ]
        );
    }

    #[test]
    fn sysadmin_turn_sections() {
        let draft = compress(&only_turn(&sysadmin_turn())).unwrap();
        let body = &draft.body;
        assert!(
            body.contains(
                "`sudo tee /etc/systemd/system/mnt-nas.mount > /dev/null <<'EOF' …` -> ok"
            ),
            "{body}"
        );
        assert!(!body.contains("WantedBy"), "heredoc bodies stay out");
        assert!(
            body.contains("`ls /mnt/nas` -> failed (exit 2), then ok x2"),
            "{body}"
        );
        assert!(body.contains("`ls /mnt/nas`: ls: cannot access '/mnt/nas': No such file or directory -> fixed by editing /etc/systemd/system/mnt-nas.mount"), "{body}");
        assert!(body.contains("/etc/veeam/veeam.ini (written by shell)"));
        assert!(
            body.contains(
                "Open: todo: Verify tonight's job result; Next step: check tomorrow morning"
            ),
            "{body}"
        );
        assert!(
            !body.contains("Mount NAS via systemd"),
            "completed todos are not open"
        );
    }

    #[test]
    fn chit_chat_and_empty_turns_are_not_remembered() {
        let mut tx = Tx::new();
        tx.prompt("thanks!")
            .say("You're welcome!")
            .prompt("ok cool")
            .prompt("/cost");
        for turn in turns(&tx) {
            assert_eq!(compress(&turn), None, "{:?}", turn.prompt);
        }
        assert_eq!(compress(&Turn::default()), None);
        // A bare continuation with a short closing line.
        let turn = Turn {
            assistant_text: vec!["Done.".into()],
            ..Turn::default()
        };
        assert_eq!(compress(&turn), None);
        // A knowledge answer is worth keeping even without tools.
        let mut tx = Tx::new();
        tx.prompt("Which port does the Veeam backup service listen on?")
            .say("It listens on TCP 9392 by default; the data movers use 2500-3300.");
        let draft = compress(&only_turn(&tx)).unwrap();
        assert!(
            draft
                .body
                .contains("Result: It listens on TCP 9392 by default")
        );
        // Chit-chat that led to actions is kept.
        let mut tx = Tx::new();
        tx.prompt("yes")
            .bash("toolu_1", "systemctl restart veeamservice", "", 0);
        assert!(
            compress(&only_turn(&tx))
                .unwrap()
                .body
                .contains("`systemctl restart veeamservice` -> ok")
        );
    }

    #[test]
    fn continuation_turn_is_titled_from_actions() {
        let (mut tx, cut) = failing_test_run("error[E0425]: cannot find value `x` in this scope");
        tx.edit("toolu_b", "src/lib.rs", "x", "y")
            .bash("toolu_c", "cargo test", "test result: ok", 0)
            .say("Fixed.");
        let out = read_turns(Cursor::new(tx.text.as_bytes()), cut).unwrap();
        let draft = compress(&out.turns[0]).unwrap();
        assert_eq!(draft.title, "Continued: changed src/lib.rs; ran cargo test");
        assert!(!draft.body.contains("Asked:"));
        assert!(
            draft.body.contains(
                "Errors: an earlier call: error[E0425]: cannot find value `x` in this scope"
            ),
            "{}",
            draft.body
        );
        assert_eq!(draft.errors, 1);
    }

    #[test]
    fn shell_writes_are_detected() {
        let cases: &[(&str, &[&str])] = &[
            ("echo 'x=1' > /etc/a.conf", &["/etc/a.conf"]),
            (
                "make 2>&1 | tee -a /var/log/build.log",
                &["/var/log/build.log"],
            ),
            (
                "cat <<'EOF' > /etc/b.conf\nline > /not/this\nEOF\necho done >> /tmp/c.log",
                &["/etc/b.conf", "/tmp/c.log"],
            ),
            (
                "sudo tee /etc/c.conf >/dev/null <<EOF\nk=v\nEOF",
                &["/etc/c.conf"],
            ),
            (
                "sudo sed -i.bak -e 's/a/b/' /etc/d.conf /etc/d2.conf",
                &["/etc/d.conf", "/etc/d2.conf"],
            ),
            ("sed -n 's/a/b/p' /etc/untouched.conf", &[]),
            (
                "cp -r ./build /srv/www/app && mv a.txt \"/srv/my dir/b.txt\"",
                &["/srv/www/app", "/srv/my dir/b.txt"],
            ),
            ("echo \"a > b\" 'c > d'", &[]),
            (
                "ls /nope 2>/dev/null; cmd &> out.log; cmd 2> err.log",
                &["out.log", "err.log"],
            ),
            (
                "dd if=/dev/zero of=/tmp/disk.img bs=1M count=10",
                &["/tmp/disk.img"],
            ),
            ("FOO=1 env -i nohup ./run.sh > \"$LOG\" 2>&1", &[]),
            ("cat < in.txt | grep x", &[]),
            ("printf '%s\\n' a >| /tmp/clobber", &["/tmp/clobber"]),
            (
                "curl -fsSL -o /tmp/agent.msi https://x/agent.msi && wget -q -O agent.tgz https://x",
                &["/tmp/agent.msi", "agent.tgz"],
            ),
            ("sudo -u backup tee -a /srv/b.log", &["/srv/b.log"]),
            ("ssh -o BatchMode=yes host uptime", &[]),
        ];
        for (command, expected) in cases {
            assert_eq!(shell_written_paths(command), *expected, "{command}");
        }
    }

    #[test]
    fn commands_are_shown_verbatim_or_cut() {
        let long = format!(
            "rsync -av {} /backup/",
            (0..80)
                .map(|i| format!("/srv/share{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let shown = show_command(&long);
        assert_eq!(shown.chars().count(), COMMAND_CHARS + 1);
        assert!(shown.ends_with('…') && long.starts_with(shown.trim_end_matches('…')));
        assert_eq!(
            show_command("cat > /etc/x <<EOF\na\nEOF"),
            "cat > /etc/x <<EOF …"
        );
        assert_eq!(
            show_command("cd /srv &&\ncat > x <<-'END'\n\ta\n\tEND"),
            "cd /srv &&\ncat > x <<-'END' …"
        );
        assert_eq!(
            show_command("for h in a b; do\n  ping -c1 $h\ndone"),
            "for h in a b; do\n  ping -c1 $h\ndone"
        );
        assert_eq!(
            show_command("git log --oneline <<< x"),
            "git log --oneline <<< x"
        );
    }

    fn call(name: &str, input: Value, result: Option<(&str, bool, bool)>) -> ToolCall {
        ToolCall {
            id: format!("toolu_{name}"),
            name: name.into(),
            input,
            result: result.map(|(text, is_error, interrupted)| ToolResult {
                text: text.into(),
                is_error,
                interrupted,
                total_bytes: text.len() as u64,
            }),
        }
    }

    #[test]
    fn outcomes_and_odd_inputs() {
        let turn = Turn {
            prompt: "Do the maintenance".into(),
            tool_calls: vec![
                call(
                    "Bash",
                    json!({"command": "apt-get upgrade -y"}),
                    Some(("", false, true)),
                ),
                call(
                    "Bash",
                    json!({"command": "rm -rf /var/cache/apt"}),
                    Some((
                        "The user doesn't want to proceed with this tool use.",
                        true,
                        false,
                    )),
                ),
                call("Bash", json!({"command": "sleep 600"}), None),
                call(
                    "Bash",
                    json!({"command": 42}),
                    Some(("weird", false, false)),
                ),
                call(
                    "Edit",
                    json!({"file_path": "/etc/motd", "old_string": "a", "new_string": "b"}),
                    Some(("String to replace not found in file.", true, false)),
                ),
                call(
                    "mcp__veeam__list_jobs",
                    json!({"server": "vbr01"}),
                    Some(("[]", false, false)),
                ),
                call(
                    "mcp__veeam__list_jobs",
                    json!(null),
                    Some(("[]", false, false)),
                ),
                call(
                    "Task",
                    json!({"description": "Explore the backup scripts", "prompt": "..."}),
                    Some(("found 3", false, false)),
                ),
                call("FutureTool", json!([1, 2]), None),
                call("Read", json!({"file_path": 7}), None),
                call(
                    "Bash",
                    json!({"command": "false"}),
                    Some(("Exit code 1", true, false)),
                ),
            ],
            ..Turn::default()
        };
        let draft = compress(&turn).unwrap();
        let body = &draft.body;
        assert!(
            body.contains("`apt-get upgrade -y` -> interrupted"),
            "{body}"
        );
        assert!(body.contains("`rm -rf /var/cache/apt` -> rejected by user"));
        assert!(body.contains("`sleep 600` -> no result"));
        assert!(body.contains("/etc/motd (1 change failed)"));
        assert!(body.contains("Errors: `rm -rf /var/cache/apt`: rejected by user; Edit /etc/motd: String to replace not found in file.; `false`"), "{body}");
        assert!(
            body.contains(
                "Used: mcp__veeam__list_jobs x2, Task \"Explore the backup scripts\", FutureTool"
            ),
            "{body}"
        );
        assert_eq!(draft.errors, 3);
        assert_eq!(compress(&turn), Some(draft), "deterministic");
    }

    #[test]
    fn many_reads_are_summarised() {
        let paths: Vec<String> = (0..9)
            .map(|i| format!("src/mod{i}.rs"))
            .chain(["tests/a.rs".into(), "Cargo.toml".into()])
            .collect();
        assert_eq!(
            summarize_paths(&paths),
            "11 files in src/ (9), tests/ (1), ./ (1)"
        );
        assert_eq!(summarize_paths(&paths[..2]), "src/mod0.rs, src/mod1.rs");
    }

    #[test]
    fn reasons_pick_the_telling_line() {
        assert_eq!(
            failure_reason(
                "Exit code 1\nTraceback (most recent call last):\n  File \"x.py\", line 3\nValueError: bad port"
            ),
            "ValueError: bad port"
        );
        assert_eq!(
            failure_reason("Exit code 1\nsome output\nlast words"),
            "last words"
        );
        assert_eq!(
            failure_reason("Exit code 2\nmake: *** [all] Error 2\nerror: linker `cc` not found"),
            "make: *** [all] Error 2"
        );
        assert_eq!(failure_reason(""), "");
        assert_eq!(exit_code("Exit code -1073741510\n"), Some(-1073741510));
        assert_eq!(exit_code("Error: Exit code 2"), Some(2));
        assert_eq!(exit_code("Exit code \n"), None);
        assert_eq!(exit_code("grep found: exit code 1 in build.log"), None);
    }

    #[test]
    fn text_helpers() {
        assert_eq!(cut_words("alpha beta gamma delta", 12), "alpha beta…");
        assert_eq!(cut_chars("héllo", 2), "hé…");
        assert_eq!(
            sentences("1. First step. Second!\n- bullet *bold*\n```\ncode. here\n```\n## Heading"),
            ["First step.", "Second!", "bullet *bold", "Heading"]
        );
        assert!(is_chitchat("Thanks, that works!"));
        assert!(!is_chitchat("thanks, now restart the service"));
        assert!(is_open_item("Pending: reboot the host."));
        assert!(!is_open_item("It runs depending on the schedule."));
        assert!(has_cue(
            "I chose WireGuard because it is faster.",
            DECISION_CUES
        ));
        assert!(!has_cue("The fixture is ready.", &["fix "]));
        assert_eq!(lead_sentences("One. Two. Three.", 9), "One. Two.");
    }
}
