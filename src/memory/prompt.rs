//! What recall reads of a prompt: at most its start and its end, and for
//! its meaning the technician's own lines. Prompts often carry a pasted
//! log, listing or configuration under (or above) the question; read whole,
//! that material is most of the prompt's meaning and buries what is asked.
//! The encoder reads the prose lines; BM25 still reads everything, since a
//! host name or an event id in a log is a good search term.

use std::borrow::Cow;

/// Characters of a prompt that recall reads at most (the work of a prompt
/// stays bounded however much is pasted into it).
pub const MAX_PROMPT_CHARS: usize = 4000;

/// The part of `prompt` that recall reads: all of it, or when longer than
/// [`MAX_PROMPT_CHARS`] its start and its end, half each, as paragraphs of
/// their own. The question comes before or after what is pasted: a long
/// log must not push it out.
pub fn bounded(prompt: &str) -> Cow<'_, str> {
    let half = MAX_PROMPT_CHARS / 2;
    let head_end = match prompt.char_indices().nth(half) {
        Some((i, _)) => i,
        None => return Cow::Borrowed(prompt),
    };
    let tail_start = prompt
        .char_indices()
        .rev()
        .nth(half - 1)
        .map_or(0, |(i, _)| i);
    if tail_start <= head_end {
        return Cow::Borrowed(prompt);
    }
    Cow::Owned(format!(
        "{}\n\n{}",
        &prompt[..head_end],
        &prompt[tail_start..]
    ))
}

/// The lines of `prompt` that read as a person's words, when the prompt
/// also holds pasted material; the whole prompt otherwise (nothing pasted,
/// or no line reads as prose: a terse prompt is read as it is).
///
/// A paragraph (lines between blank lines) that is mostly output is output
/// throughout: the sentences of a PowerShell error or of an event's
/// description are pasted too.
pub fn own_lines(prompt: &str) -> Cow<'_, str> {
    let mut prose: Vec<&str> = Vec::new();
    let mut pasted = 0usize;
    // The current paragraph's lines, each with whether it reads as prose.
    let mut paragraph: Vec<(&str, bool)> = Vec::new();
    // Keeps a finished paragraph's prose lines, unless it is mostly output;
    // then only a question typed on at its start or end (a run of prose
    // lines there that asks: a question mark, or a first line that opens
    // as a question does).
    fn end_paragraph<'a>(
        paragraph: &mut Vec<(&'a str, bool)>,
        prose: &mut Vec<&'a str>,
        pasted: &mut usize,
    ) {
        let own = paragraph.iter().filter(|(_, p)| *p).count();
        let kept: Vec<&str> = if own * 2 > paragraph.len() {
            paragraph
                .iter()
                .filter(|(_, p)| *p)
                .map(|(l, _)| *l)
                .collect()
        } else {
            let head = paragraph.iter().take_while(|(_, p)| *p).count();
            let tail = paragraph[head..]
                .iter()
                .rev()
                .take_while(|(_, p)| *p)
                .count();
            let asks = |run: &[(&str, bool)]| {
                run.first().is_some_and(|(l, _)| opens_a_question(l))
                    || run.iter().any(|(l, _)| l.ends_with('?'))
            };
            let (start, end) = (&paragraph[..head], &paragraph[paragraph.len() - tail..]);
            [start, end]
                .into_iter()
                .filter(|run| asks(run))
                .flat_map(|run| run.iter().map(|(l, _)| *l))
                .collect()
        };
        *pasted += paragraph.len() - kept.len();
        prose.extend(kept);
        paragraph.clear();
    }
    let mut fenced = false;
    for line in prompt.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            // A fence bounds a paragraph; what it holds is pasted.
            end_paragraph(&mut paragraph, &mut prose, &mut pasted);
            fenced = !fenced;
            pasted += 1;
        } else if fenced {
            pasted += 1;
        } else if trimmed.is_empty() {
            end_paragraph(&mut paragraph, &mut prose, &mut pasted);
        } else {
            paragraph.push((trimmed, reads_as_prose(trimmed)));
        }
    }
    end_paragraph(&mut paragraph, &mut prose, &mut pasted);
    if prose.is_empty() || pasted == 0 {
        Cow::Borrowed(prompt)
    } else {
        Cow::Owned(prose.join("\n"))
    }
}

/// A line of words with the function words of a sentence (or a question
/// mark), not one that a machine printed: no leading time stamp or shell
/// prompt, and mostly plain words rather than numbers, paths and flags.
fn reads_as_prose(line: &str) -> bool {
    if starts_like_output(line) {
        return false;
    }
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let words: Vec<&str> = tokens.iter().filter_map(|t| plain_word(t)).collect();
    if words.len() < 3 || words.len() * 10 < tokens.len() * 7 {
        return false;
    }
    // The function words and filler of a sentence ("the", "how", "please")
    // are the stop words of search; logs and listings rarely hold them.
    line.ends_with('?') || words.iter().any(|w| super::tags::is_stop_word(w))
}

/// A token that is a word of a sentence: letters (apostrophes and hyphens
/// inside), with the punctuation of a sentence around it.
fn plain_word(token: &str) -> Option<&str> {
    let w = token
        .trim_start_matches(['(', '"', '\'', '“', '‘', '*', '_', '`'])
        .trim_end_matches([
            '.', ',', ';', ':', '!', '?', ')', '"', '\'', '”', '’', '*', '_', '`',
        ]);
    let first_last_letters = w.chars().next().is_some_and(char::is_alphabetic)
        && w.chars().last().is_some_and(char::is_alphabetic);
    (first_last_letters
        && w.chars()
            .all(|c| c.is_alphabetic() || c == '\'' || c == '’' || c == '-'))
    .then_some(w)
}

/// Whether `line` opens as a question to the assistant does, though typed
/// without its question mark ("why does the backup keep failing"): an
/// interrogative, or a verb that asks followed by who is asked about. Pasted
/// output rarely opens so; "Could not resolve host" is not a question.
fn opens_a_question(line: &str) -> bool {
    const ASKING: &[&str] = &[
        "why", "how", "what", "what's", "what’s", "whats", "where", "which", "who",
    ];
    const VERBS: &[&str] = &[
        "can", "could", "would", "should", "will", "do", "does", "did", "is", "are", "was",
    ];
    const WHO: &[&str] = &[
        "you", "we", "i", "it", "this", "that", "these", "those", "they", "he", "she", "there",
        "someone", "anyone",
    ];
    let mut words = line
        .split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’'));
    let first = words.next().unwrap_or("");
    let second = words.next().unwrap_or("");
    let is = |list: &[&str], w: &str| list.iter().any(|l| l.eq_ignore_ascii_case(w));
    is(ASKING, first) || is(VERBS, first) && is(WHO, second)
}

const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A line that starts as program output does: a date or time (`Jan 12
/// 03:14:07` as syslog writes it), a bracketed field (`[12:01:03]`,
/// `[ERROR]`), a JSON key or bracket, or a shell prompt.
fn starts_like_output(line: &str) -> bool {
    let mut tokens = line.split_whitespace();
    let first = tokens.next().unwrap_or("");
    let second = tokens.next().unwrap_or("");
    let syslog_date =
        MONTHS.contains(&first) && !second.is_empty() && second.chars().all(|c| c.is_ascii_digit());
    let json =
        first.starts_with(['{', '}', ']']) || first.starts_with('"') && first.contains("\":");
    let digits_then = |s: &str, sep: char| {
        let mut parts = s.split(sep);
        parts
            .next()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && parts
                .next()
                .is_some_and(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit()))
    };
    let shell = ["PS ", "$ ", "# ", "> ", "C:\\", ">>> "];
    first.starts_with('[')
        || syslog_date
        || json
        || digits_then(first, '-')
        || digits_then(first, ':')
        || digits_then(first, '/')
        || digits_then(first, '.')
        || shell.iter().any(|p| line.starts_with(p))
        || first.contains('@') && first.ends_with(['$', '#', ':'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_is_kept_and_a_pasted_windows_log_left_out() {
        let prompt = "why does the file server keep dropping its time source?\n\n\
            2026-01-03 12:00:01 Warning Time-Service 129: NtpClient was unable to set a domain peer.\n\
            2026-01-03 12:00:09 Error DistributedCOM 10016: The application-specific permission settings do not grant it.\n\
            PS C:\\> Get-Process | Sort-Object CPU -Descending\n\
            svchost    2260    41.20    C:\\Windows\\System32\\svchost.exe -k netsvcs -p";
        assert_eq!(
            own_lines(prompt),
            "why does the file server keep dropping its time source?"
        );
    }

    #[test]
    fn the_sentences_of_pasted_output_are_output_too() {
        let prompt = "Get-Mailbox : The term 'Get-Mailbox' is not recognized as the name of a cmdlet.\n\
            Check the spelling of the name, or if a path was included, verify that the path is correct.\n\
            At line:1 char:1\n\
            + Get-Mailbox -Identity jdoe\n\
            + ~~~~~~~~~~~\n    + CategoryInfo          : ObjectNotFound: (Get-Mailbox:String) [], CommandNotFoundException\n\
            \n\
            how do we give the new office manager the shared calendar?";
        assert_eq!(
            own_lines(prompt),
            "how do we give the new office manager the shared calendar?"
        );
    }

    #[test]
    fn a_question_typed_on_right_after_the_output_is_kept() {
        let prompt = "Jan  4 00:49:12 nas01 kernel: [86412.331] md/raid1:md0: Disk failure on sdb1\n\
            Jan  4 00:49:13 nas01 kernel: [86412.402] md/raid1:md0: Operation continuing on 1 devices.\n\
            why does the backup job fail every night?";
        assert_eq!(
            own_lines(prompt),
            "why does the backup job fail every night?"
        );
    }

    #[test]
    fn a_question_typed_on_without_its_question_mark_is_kept() {
        let log = "Jan  4 00:49:12 nas01 kernel: [86412.331] md/raid1:md0: Disk failure on sdb1\n\
            Jan  4 00:49:13 nas01 kernel: [86412.402] md/raid1:md0: Operation continuing on 1 devices.\n";
        for question in [
            "why does the backup job fail every night",
            "can you tell me which disk to replace first",
        ] {
            assert_eq!(own_lines(&format!("{log}{question}")), question);
            assert_eq!(own_lines(&format!("{question}\n{log}")), question);
        }
        // Output that reads as a sentence stays output, at either edge.
        for sentence in [
            "Could not resolve host: the name server did not answer in time",
            "Please check the address of the recipient and try to send it again",
        ] {
            let prompt = format!("{log}{sentence}\n\nwhere is the NAS rack?");
            assert_eq!(own_lines(&prompt), "where is the NAS rack?", "{sentence}");
        }
    }

    #[test]
    fn what_opens_a_question() {
        for line in [
            "why does the VPN drop",
            "How do we reset the MFA",
            "what's wrong with the spooler",
            "what’s wrong with the scanner",
            "Could you check the DHCP scope",
            "is it the certificate",
            "did we renew the domain",
        ] {
            assert!(opens_a_question(line), "{line}");
        }
        for line in [
            "Could not resolve host: example.com",
            "Is not a valid Win32 application",
            "Can't open file for writing",
            "the printer is offline",
            "",
        ] {
            assert!(!opens_a_question(line), "{line}");
        }
    }

    #[test]
    fn a_long_prompt_keeps_its_start_and_its_end() {
        let short = "é".repeat(MAX_PROMPT_CHARS);
        assert!(matches!(bounded(&short), Cow::Borrowed(_)));
        let log =
            "2026-01-03 12:00:01 Error Service Control Manager 7000: start failed.\n".repeat(200);
        let prompt = format!("{log}\nwhy does the print spooler keep stopping? ünïcode");
        let read = bounded(&prompt);
        assert!(
            read.chars().count() <= MAX_PROMPT_CHARS + 2,
            "{}",
            read.len()
        );
        assert!(read.starts_with("2026-01-03 12:00:01"));
        assert!(read.ends_with("why does the print spooler keep stopping? ünïcode"));
        assert_eq!(
            own_lines(&read),
            "why does the print spooler keep stopping? ünïcode"
        );
    }

    #[test]
    fn prose_around_a_fenced_block_is_kept_in_order() {
        let prompt = "The VPN drops every hour for the sales team.\n```\n\
            interface GigabitEthernet0/1\n description Uplink to the core switch\n```\n\
            What should we change on the firewall?";
        assert_eq!(
            own_lines(prompt),
            "The VPN drops every hour for the sales team.\nWhat should we change on the firewall?"
        );
    }

    #[test]
    fn a_prompt_without_pasted_lines_or_without_prose_is_read_whole() {
        for prompt in [
            "what did we do when the phones stopped ringing?",
            "first line of a request\nand its second line, about the printer",
            "DC01 w32time broken",
            "[12:01:03] ERROR backup job failed\n[12:01:04] ERROR retry 1/3",
        ] {
            assert_eq!(own_lines(prompt), prompt, "{prompt}");
        }
    }

    #[test]
    fn output_and_listing_lines_do_not_read_as_prose() {
        for line in [
            "Jan 12 03:14:07 fw01 kernel: DROP IN=eth0 OUT= SRC=10.0.0.5",
            "Jan  4 11:29:58 srv01 systemd-resolved[611]: Using degraded feature set UDP instead of UDP+EDNS0 for DNS server",
            "  \"message\": \"Some background jobs are delayed while the queue drains.\"",
            "12/01/2026 03:14 backup failed on the NAS",
            "$ sudo systemctl restart nginx",
            "admin@fw01:~$ show run",
            "   at System.Net.Sockets.Socket.Connect(EndPoint remoteEP)",
            "ip address 10.1.1.1 255.255.255.0",
            "Get-ADUser -Filter * -Properties LastLogonDate",
            "{\"status\": \"error\", \"code\": 503}",
        ] {
            assert!(!reads_as_prose(line), "{line}");
        }
        for line in [
            "the scanner on the second floor stopped emailing scans",
            "can you check why Outlook keeps asking for a password?",
            "It started after the firewall firmware update last night.",
        ] {
            assert!(reads_as_prose(line), "{line}");
        }
    }
}
