//! The one output path: a command hands its result to the printer, which
//! writes it as JSON (`--json`, stable snake_case fields) or for people (a
//! line, or a table whose columns are declared once). Data goes to stdout,
//! diagnostics to stderr.

use std::io::Write;

use serde::Serialize;

use super::Ctx;
use crate::error::{Error, Result};

/// How a table makes one cell of a row.
type Cell<'a, T> = Box<dyn Fn(&T) -> String + 'a>;

/// The columns of a table: a header and how a row's cell is made, each.
pub struct Table<'a, T> {
    columns: Vec<(&'static str, Cell<'a, T>)>,
}

impl<'a, T> Table<'a, T> {
    /// Adds a column named `header` whose cells `cell` makes.
    pub fn col(&mut self, header: &'static str, cell: impl Fn(&T) -> String + 'a) -> &mut Self {
        self.columns.push((header, Box::new(cell)));
        self
    }
}

impl Ctx {
    /// A remark for people on stderr (what happened on the side, what to do
    /// next); left out with `--json`, whose reader wants the data alone.
    pub fn tell(&self, line: impl AsRef<str>) {
        if !self.json {
            note(line);
        }
    }

    /// Prints one result: `value` as JSON with `--json`, else the text
    /// `human` makes of it (one or more lines; nothing when it is empty).
    pub fn print<T: Serialize + ?Sized>(
        &self,
        value: &T,
        human: impl FnOnce(&T) -> String,
    ) -> Result<()> {
        if self.json {
            return print_json(value);
        }
        let text = human(value);
        if text.is_empty() {
            return Ok(());
        }
        out(text)
    }

    /// Prints a list: a JSON array with `--json`, else a table with these
    /// columns, one row per item.
    pub fn list<'a, T: Serialize>(
        &self,
        items: &[T],
        columns: impl FnOnce(&mut Table<'a, T>),
    ) -> Result<()> {
        if self.json {
            return print_json(items);
        }
        let mut table = Table {
            columns: Vec::new(),
        };
        columns(&mut table);
        let header: Vec<&str> = table.columns.iter().map(|(h, _)| *h).collect();
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|item| table.columns.iter().map(|(_, cell)| cell(item)).collect())
            .collect();
        print_table(&header, &rows)
    }
}

pub(super) fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("writing to stdout", e))
}

/// A progress bar on stderr with this template, hidden with `--json` (and,
/// by indicatif, without a terminal).
pub fn progress_bar(ctx: &Ctx, template: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if ctx.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

/// Prints one line of data on stdout.
pub fn out(line: impl AsRef<str>) -> Result<()> {
    let mut s = line.as_ref().to_string();
    s.push('\n');
    write_stdout(s.as_bytes())
}

/// Prints a diagnostic on stderr (never data).
pub fn note(line: impl AsRef<str>) {
    let _ = writeln!(std::io::stderr().lock(), "{}", line.as_ref());
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Other(e.to_string()))?;
    out(text)
}

/// Widest a table cell gets (characters) before it is cut with `…`; the
/// last column, which is not padded, gets more.
const MAX_CELL: usize = 80;
const MAX_LAST_CELL: usize = 240;

/// A value made safe for one table cell: control characters (ESC, CR, LF,
/// tab, ...) and the invisible bidi overrides escaped, so a name synced
/// from another machine can neither move the cursor, colour the terminal,
/// nor break the rows; then cut to `max` characters with `…`.
fn cell(value: &str, max: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for c in value.chars() {
        let piece: std::borrow::Cow<'_, str> = match c {
            '\t' => "\\t".into(),
            '\r' => "\\r".into(),
            '\n' => "\\n".into(),
            c if c.is_control()
                || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') =>
            {
                format!("\\u{{{:x}}}", c as u32).into()
            }
            c => c.to_string().into(),
        };
        let len = piece.chars().count();
        if n + len > max {
            // Room for the ellipsis: drop back to `max - 1`.
            while n > max.saturating_sub(1) {
                out.pop();
                n -= 1;
            }
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        n += len;
    }
    out
}

/// Prints rows as an aligned table with a header (see [`format_table`]).
pub fn print_table(header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    write_stdout(format_table(header, rows).as_bytes())
}

/// Rows as an aligned table with a header, one line each; the last column
/// is not padded. Cells are sanitised and bounded (see [`cell`]).
pub fn format_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let fit = |cells: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        cells
            .enumerate()
            .map(|(i, c)| {
                cell(
                    c,
                    if i + 1 == cols {
                        MAX_LAST_CELL
                    } else {
                        MAX_CELL
                    },
                )
            })
            .collect()
    };
    let header = fit(&mut header.iter().copied());
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| fit(&mut r.iter().map(String::as_str)))
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(c);
            if i != last {
                // Padding by hand: a format width is limited to u16.
                let pad = widths[i].saturating_sub(c.chars().count());
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.trim_end().to_string()
    };
    let mut text = line(&header);
    text.push('\n');
    for r in &rows {
        text.push_str(&line(r));
        text.push('\n');
    }
    text
}

/// An RFC 3339 time (as the JSON views carry it) the way tables show time:
/// local, to the minute. Anything else is shown as it is.
pub fn local_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => crate::time::local_display(t.timestamp_millis()),
        Err(_) => rfc3339.to_string(),
    }
}

/// `-` for a missing value in tables.
/// A `--limit` as SQL's `LIMIT`: 0 (all) is SQLite's -1, no limit.
pub fn sql_limit(limit: u32) -> i64 {
    if limit == 0 { -1 } else { i64::from(limit) }
}

pub fn or_dash(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or("-").to_string()
}

/// A text argument where `-` means "read it from stdin" (at most 1 MiB):
/// what it holds stays out of the process list and shell history, and it
/// may be longer than a command line allows. `what` names it in errors.
pub fn text_or_stdin(value: String, what: &str, hint: &str) -> Result<String> {
    if value != "-" {
        return Ok(value);
    }
    use std::io::Read as _;
    const MAX: u64 = 1 << 20;
    let mut text = String::new();
    std::io::stdin()
        .take(MAX + 1)
        .read_to_string(&mut text)
        .map_err(|e| crate::error::Error::io(format!("reading the {what} from stdin"), e))?;
    if text.len() as u64 > MAX {
        return Err(crate::error::Error::usage(format!(
            "the {what} on stdin is longer than 1 MiB"
        ))
        .with_hint(hint.to_string()));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn table_cells_escape_control_characters_and_are_cut_with_an_ellipsis() {
        assert_eq!(cell("Acme Corp", 80), "Acme Corp");
        assert_eq!(
            cell("a\u{1b}[2Jb\rc\td\ne\u{7}f\u{202e}g", 80),
            "a\\u{1b}[2Jb\\rc\\td\\ne\\u{7}f\\u{202e}g"
        );
        let long = "x".repeat(70_000);
        let c = cell(&long, 80);
        assert_eq!(c.chars().count(), 80);
        assert!(c.ends_with('…'));
        assert_eq!(cell("abcdef", 6), "abcdef");
        assert_eq!(cell("abcdefg", 6), "abcde…");
        // An escape is never cut in half.
        assert_eq!(cell("abcd\u{1b}", 6), "abcd…");
        assert_eq!(cell("ü".repeat(10).as_str(), 4), "üüü…");
    }
}
