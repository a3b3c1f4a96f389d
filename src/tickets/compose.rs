//! A ticket note and a time entry made from a work session: its title,
//! summary and times, and the memories saved while it ran ("Changes made
//! today:" bullets), so nothing is typed twice.

use super::{NewNote, NewTime, marker};
use crate::error::Result;
use crate::memory::store::{self as mstore, Memory};
use crate::store::Db;
use crate::time::{Millis, local_display, now_ms};
use crate::work::sessions::{self, SessionView};

/// Longest bullet taken from one memory.
const MAX_BULLET: usize = 400;

/// A session and the memories saved during it.
#[derive(Debug)]
pub struct SessionWork {
    pub session: SessionView,
    pub memories: Vec<Memory>,
}

impl SessionWork {
    /// The end of the session, or now while it is open.
    pub fn end_ms(&self, now: Millis) -> Millis {
        self.session.ended_ms.unwrap_or(now)
    }
}

pub async fn session_work(db: &mut Db, session_id: &str) -> Result<SessionWork> {
    let session = sessions::view(db, session_id).await?;
    let memories = mstore::made_during(
        db,
        &session.machine_id,
        session.started_ms,
        session.ended_ms.unwrap_or_else(now_ms),
        session.project_id.as_deref(),
        session.client_id.as_deref(),
    )
    .await?;
    Ok(SessionWork { session, memories })
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

/// The note for a session: internal unless `public`.
pub fn note(work: &SessionWork, public: bool, now: Millis) -> NewNote {
    let s = &work.session;
    let title = s
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "Work session".into());
    let scope = match (&s.client, &s.project) {
        (Some(c), Some(p)) => format!(" ({c} / {p})"),
        (Some(c), None) => format!(" ({c})"),
        (None, Some(p)) => format!(" ({p})"),
        (None, None) => String::new(),
    };
    let end = match s.ended_ms {
        Some(e) => local_display(e),
        None => format!("{} (still open)", local_display(now)),
    };
    let mut body = format!(
        "{title}{scope}\n{} – {end}, {}, on {}\n",
        local_display(s.started_ms),
        crate::time::human_duration(work.end_ms(now) - s.started_ms),
        s.machine
    );
    if let Some(summary) = s.summary.as_deref().filter(|t| !t.trim().is_empty()) {
        body.push('\n');
        body.push_str(summary.trim());
        body.push('\n');
    }
    if !work.memories.is_empty() {
        body.push_str("\nChanges made today:\n");
        for m in &work.memories {
            let detail = flat(&m.body);
            let line = if detail.is_empty() || detail == flat(&m.title) {
                flat(&m.title)
            } else {
                format!("{}: {detail}", flat(&m.title))
            };
            body.push_str(&format!("- {}\n", shorten(&line, MAX_BULLET)));
        }
    }
    if s.summary.as_deref().is_none_or(|t| t.trim().is_empty()) && work.memories.is_empty() {
        body.push_str("\nNo summary or memories were recorded for this session.\n");
    }
    NewNote {
        subject: shorten(&title, 120),
        body: body.trim_end().to_string(),
        public,
    }
}

/// The time entry for a session: its start and length (whole minutes,
/// rounded up, at least one), with its title as notes unless given.
pub fn time(work: &SessionWork, notes: Option<String>, charge: bool, now: Millis) -> NewTime {
    let s = &work.session;
    let ms = (work.end_ms(now) - s.started_ms).max(0);
    let notes = notes
        .filter(|n| !n.trim().is_empty())
        .or_else(|| s.title.clone().filter(|t| !t.trim().is_empty()))
        .or_else(|| {
            s.summary
                .as_deref()
                .and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
                .map(|l| shorten(l.trim(), 200))
        })
        .unwrap_or_else(|| "Work session".into());
    NewTime {
        start_ms: s.started_ms,
        minutes: ((ms + 59_999) / 60_000).max(1),
        notes,
        charge,
    }
}

/// The body as posted: the note, then the marker line that identifies it.
pub fn with_marker(body: &str, outbox_id: &str) -> String {
    format!("{}\n\n{}", body.trim_end(), marker(outbox_id))
}

/// Whether a posted note carries this outbox item's marker, however the
/// provider reformatted the body: a PSA may store a note as HTML (tags
/// around lines, links made of `scheme:` words, entities), change line
/// breaks and spaces, or change the case of text. Missing the marker would
/// post the note again.
pub fn has_marker(body: &str, outbox_id: &str) -> bool {
    squeezed(&plain_text(body)).contains(&squeezed(&marker(outbox_id)))
}

/// Whether two texts say the same once formatting is set aside: markup and
/// entities, runs of whitespace, leading and trailing space.
pub fn same_text(posted: &str, ours: &str) -> bool {
    let words = |t: &str| flat(&plain_text(t));
    words(posted) == words(ours)
}

/// `text` without letter case, whitespace or invisible characters, with
/// every dash a hyphen: what survives any reformatting of a marker.
fn squeezed(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '\u{ad}' | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}'
                )
        })
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The text of what may be HTML: tags dropped (each as a space: a `<br>` or
/// `</p>` separates words), entities decoded. A `<` not followed by a tag
/// name, `/` or `!` is text.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            let opens_tag = rest[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
            match rest.find('>') {
                Some(end) if opens_tag => {
                    out.push(' ');
                    rest = &rest[end + 1..];
                }
                _ => {
                    out.push('<');
                    rest = &rest[1..];
                }
            }
        } else {
            match decode_entity(rest) {
                Some((c, len)) => {
                    out.push(c);
                    rest = &rest[len..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity at the start of `text` stands for, and the
/// entity's length.
fn decode_entity(text: &str) -> Option<(char, usize)> {
    let end = text
        .char_indices()
        .take(12)
        .find(|&(_, c)| c == ';')
        .map(|(i, _)| i)?;
    let name = &text[1..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let code = match name.strip_prefix('#') {
                Some(hex) if hex.starts_with(['x', 'X']) => {
                    u32::from_str_radix(&hex[1..], 16).ok()?
                }
                Some(dec) => dec.parse().ok()?,
                None => return None,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(summary: Option<&str>, ended: Option<Millis>) -> SessionView {
        SessionView {
            id: "s1".into(),
            short_id: "s1".into(),
            machine_id: "m1".into(),
            machine: "d2testnas".into(),
            client_id: Some("c1".into()),
            client: Some("Dataforth".into()),
            project_id: None,
            project: None,
            title: Some("Veeam repair".into()),
            summary: summary.map(str::to_string),
            started_at: String::new(),
            ended_at: None,
            duration_seconds: 0,
            duration: String::new(),
            billable: true,
            status: "closed",
            origin: "manual".into(),
            started_ms: 0,
            ended_ms: ended,
        }
    }

    fn memory(title: &str, body: &str) -> Memory {
        Memory {
            seq: 1,
            id: "m".into(),
            kind: "note".into(),
            title: title.into(),
            body: body.into(),
            tags: String::new(),
            project_id: None,
            client_id: None,
            machine_id: None,
            source_path: None,
            claude_session_id: None,
            importance: 5,
            created_at: 0,
            last_used_at: None,
            use_count: 0,
            raw_tokens: 0,
            stored_tokens: 0,
            ..Default::default()
        }
    }

    #[test]
    fn the_note_lists_what_was_done_and_is_internal_by_default() {
        let work = SessionWork {
            session: view(Some("Backups run again."), Some(90 * 60_000)),
            memories: vec![
                memory(
                    "Restarted veeam service on d2testnas",
                    "systemctl restart veeam;\n verified: job ran green",
                ),
                memory("Checked disk space", ""),
            ],
        };
        let n = note(&work, false, 0);
        assert!(!n.public);
        assert_eq!(n.subject, "Veeam repair");
        assert!(n.body.contains("Veeam repair (Dataforth)"), "{}", n.body);
        assert!(n.body.contains("1h 30m, on d2testnas"), "{}", n.body);
        assert!(n.body.contains("Backups run again."));
        assert!(n.body.contains(
            "Changes made today:\n- Restarted veeam service on d2testnas: systemctl restart veeam; verified: job ran green\n- Checked disk space"
        ), "{}", n.body);
    }

    #[test]
    fn an_empty_session_says_so() {
        let work = SessionWork {
            session: view(None, Some(60_000)),
            memories: vec![],
        };
        assert!(note(&work, true, 0).body.contains("No summary"));
    }

    #[test]
    fn time_rounds_up_to_whole_minutes() {
        let work = SessionWork {
            session: view(None, Some(61_000)),
            memories: vec![],
        };
        let t = time(&work, None, false, 0);
        assert_eq!((t.start_ms, t.minutes), (0, 2));
        assert_eq!(t.notes, "Veeam repair");
        assert_eq!(
            time(&work, Some("Remote fix".into()), true, 0).notes,
            "Remote fix"
        );
    }

    #[test]
    fn markers_identify_the_outbox_item() {
        let body = with_marker("did things\n", "0192-abc");
        assert!(body.ends_with("\n\nmsp:0192-abc"));
        assert!(has_marker(&body, "0192-abc"));
        assert!(!has_marker(&body, "0192-abd"));
    }

    #[test]
    fn a_marker_reformatted_by_the_provider_is_still_found() {
        let id = "019a4f2e-7c1d-7b3e-9f00-5a6b7c8d9e0f";
        let body = with_marker("Rebooted the NAS & checked <logs>.", id);
        let reformatted = [
            // Stored as HTML: escaped, lines as paragraphs and breaks.
            format!("<p>Rebooted the NAS &amp; checked &lt;logs&gt;.</p><p>msp:{id}</p>"),
            body.replace('\n', "<br />\r\n"),
            // The `msp:` word made a link.
            format!("Rebooted the NAS.<br><a href=\"msp:{id}\">msp:{id}</a>"),
            // Entities for the colon and dashes, trimmed, upper case.
            format!("  Rebooted\r\n\r\nmsp&#58;{}  ", id.replace('-', "&#x2d;")),
            format!("Rebooted\n\nMSP:{}", id.to_uppercase()),
            // A non-breaking or zero-width space slipped in.
            format!("Rebooted\n\nmsp:&nbsp;{id}"),
            format!("Rebooted\n\nmsp:\u{200b}{id}"),
        ];
        for posted in &reformatted {
            assert!(has_marker(posted, id), "{posted}");
            assert!(!has_marker(posted, "019a4f2e-7c1d-7b3e-9f00-5a6b7c8d9e10"));
        }
        // Text with a bare `<` or `&` is not taken for markup.
        assert_eq!(plain_text("a < b && c <d> e"), "a < b && c   e");
        assert!(same_text("<p>Veeam&nbsp;repair</p>\r\n", "Veeam repair"));
        assert!(!same_text("Veeam repair 2", "Veeam repair"));
    }
}
