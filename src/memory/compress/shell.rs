//! A small shell lexer: what a command line runs and which files it writes
//! (redirections, `tee`, `sed -i`, …), without running it.

use super::COMMAND_CHARS;
use super::prose::cut_chars;

/// A command as shown: whole up to COMMAND_CHARS, a heredoc only up to its opening line.
pub(super) fn show_command(command: &str) -> String {
    let command = command.trim();
    let lines: Vec<&str> = command.lines().collect();
    match lines.iter().position(|l| opens_heredoc(l)) {
        Some(k) if k + 1 < lines.len() => {
            format!("{} …", cut_chars(&lines[..=k].join("\n"), COMMAND_CHARS))
        }
        _ => cut_chars(command, COMMAND_CHARS),
    }
}

pub(super) fn opens_heredoc(line: &str) -> bool {
    line.match_indices("<<").any(|(i, _)| {
        let rest = line[i + 2..].trim_start_matches('-').trim_start();
        !line[i + 2..].starts_with('<')
            && rest.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '\'' || c == '"')
    })
}

#[derive(Debug, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Op(&'static str),
}

/// Splits a shell command into words and operators, honouring quotes and skipping heredoc
/// bodies: enough to spot the files it writes, not a shell.
pub(super) fn shell_tokens(command: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut heredocs: Vec<(String, bool)> = Vec::new();
    let mut chars = command.chars().peekable();
    let flush = |toks: &mut Vec<Tok>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            toks.push(Tok::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                if !matches!(n, '"' | '\\' | '$' | '`') {
                                    word.push('\\');
                                }
                                word.push(n);
                            }
                        }
                        _ => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next().filter(|&n| n != '\n') {
                    word.push(n);
                }
            }
            '\n' => {
                flush(&mut toks, &mut word, &mut in_word);
                toks.push(Tok::Op(";"));
                for (delim, strip_tabs) in heredocs.drain(..) {
                    loop {
                        let line: String = chars.by_ref().take_while(|&c| c != '\n').collect();
                        let line = if strip_tabs {
                            line.trim_start_matches('\t')
                        } else {
                            &line
                        };
                        if line.trim_end() == delim || chars.peek().is_none() {
                            break;
                        }
                    }
                }
            }
            ' ' | '\t' | '\r' => flush(&mut toks, &mut word, &mut in_word),
            ';' | '(' | ')' => {
                flush(&mut toks, &mut word, &mut in_word);
                toks.push(Tok::Op(if c == ';' { ";" } else { "(" }));
            }
            '|' => {
                flush(&mut toks, &mut word, &mut in_word);
                let or = chars.next_if_eq(&'|').is_some();
                chars.next_if_eq(&'&');
                toks.push(Tok::Op(if or { "||" } else { "|" }));
            }
            '&' => {
                flush(&mut toks, &mut word, &mut in_word);
                if chars.next_if_eq(&'&').is_some() {
                    toks.push(Tok::Op("&&"));
                } else if chars.next_if_eq(&'>').is_some() {
                    chars.next_if_eq(&'>');
                    toks.push(Tok::Op(">"));
                } else {
                    toks.push(Tok::Op("&"));
                }
            }
            '>' => {
                // "2>" redirects a descriptor: the digits are not a word.
                if in_word && !word.is_empty() && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    flush(&mut toks, &mut word, &mut in_word);
                }
                chars.next_if_eq(&'>');
                chars.next_if_eq(&'|');
                toks.push(Tok::Op(if chars.next_if_eq(&'&').is_some() {
                    ">&"
                } else {
                    ">"
                }));
            }
            '<' => {
                flush(&mut toks, &mut word, &mut in_word);
                if chars.next_if_eq(&'<').is_none() {
                    toks.push(Tok::Op("<"));
                } else if chars.next_if_eq(&'<').is_some() {
                    toks.push(Tok::Op("<<<"));
                } else {
                    let strip_tabs = chars.next_if_eq(&'-').is_some();
                    while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
                    let mut delim = String::new();
                    while let Some(c) =
                        chars.next_if(|c| !c.is_whitespace() && !";|&<>()".contains(*c))
                    {
                        if !matches!(c, '\'' | '"' | '\\') {
                            delim.push(c);
                        }
                    }
                    if !delim.is_empty() {
                        heredocs.push((delim, strip_tabs));
                    }
                    toks.push(Tok::Op("<<"));
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    flush(&mut toks, &mut word, &mut in_word);
    toks
}

/// Files a shell command clearly writes: redirection targets, `tee`, `sed -i`, `cp`/`mv`/
/// `install` destinations, `dd of=` and download outputs.
pub(super) fn shell_written_paths(command: &str) -> Vec<String> {
    let toks = shell_tokens(command);
    let mut out: Vec<String> = Vec::new();
    let mut add = |path: &str| {
        let junk = path.is_empty()
            || path == "-"
            || path.starts_with('&')
            || path.contains(['$', '`', '*'])
            || matches!(
                path,
                "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty" | "nul" | "NUL"
            )
            || path.starts_with("/dev/fd/")
            || path.starts_with("/proc/self/fd/");
        if !junk && !out.iter().any(|p| p == path) {
            out.push(path.to_owned());
        }
    };
    for pair in toks.windows(2) {
        if let [Tok::Op(">"), Tok::Word(target)] = pair {
            add(target);
        }
    }
    let separators = [";", "|", "||", "&&", "&", "("];
    for simple in toks.split(|t| matches!(t, Tok::Op(op) if separators.contains(op))) {
        let mut words = Vec::new();
        let mut target_next = false;
        for tok in simple {
            match tok {
                Tok::Op(op) => target_next = matches!(*op, ">" | ">&" | "<" | "<<<"),
                Tok::Word(_) if target_next => target_next = false,
                Tok::Word(w) => words.push(w.as_str()),
            }
        }
        let words = strip_wrappers(&words);
        let Some((program, args)) = words.split_first() else {
            continue;
        };
        let program = program.rsplit(['/', '\\']).next().unwrap_or(program);
        let operands: Vec<&str> = args
            .iter()
            .copied()
            .filter(|a| !a.starts_with('-') || *a == "-")
            .collect();
        match program {
            "tee" => operands.iter().for_each(|p| add(p)),
            "sed" if args.iter().any(|a| sed_in_place(a)) => {
                let mut script_seen = false;
                let mut it = args.iter();
                while let Some(a) = it.next() {
                    if matches!(*a, "-e" | "-f" | "--expression" | "--file") {
                        it.next();
                        script_seen = true;
                    } else if a.starts_with("--expression=") || a.starts_with("--file=") {
                        script_seen = true;
                    } else if a.starts_with('-') {
                    } else if script_seen {
                        add(a);
                    } else {
                        script_seen = true;
                    }
                }
            }
            "cp" | "mv" | "install" if operands.len() >= 2 => add(operands[operands.len() - 1]),
            "dd" => args
                .iter()
                .filter_map(|a| a.strip_prefix("of="))
                .for_each(&mut add),
            _ => {}
        }
        // Downloads: curl -o, wget -O, PowerShell -OutFile.
        for pair in args.windows(2) {
            let flag = pair[0];
            let output = match program {
                "curl" => matches!(flag, "-o" | "--output"),
                "wget" => matches!(flag, "-O" | "--output-document"),
                _ => false,
            };
            if output || flag.eq_ignore_ascii_case("-OutFile") {
                add(pair[1]);
            }
        }
    }
    out
}

pub(super) fn sed_in_place(arg: &str) -> bool {
    arg.starts_with("--in-place")
        || (arg.starts_with('-')
            && !arg.starts_with("--")
            && arg[1..]
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .any(|c| c == 'i'))
}

/// Drops `sudo`, `env`, assignments and similar wrappers in front of the real program.
pub(super) fn strip_wrappers<'a>(mut words: &'a [&'a str]) -> &'a [&'a str] {
    while let Some((first, rest)) = words.split_first() {
        let assignment = first.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if assignment {
            words = rest;
            continue;
        }
        let takes_value: &[&str] = match *first {
            "sudo" | "doas" => &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"],
            "env" => &["-u", "-C", "-S"],
            "nice" => &["-n"],
            "nohup" | "time" | "exec" | "command" | "stdbuf" => &[],
            _ => return words,
        };
        words = rest;
        while let Some((opt, rest)) = words.split_first() {
            if !opt.starts_with('-') {
                break;
            }
            words = if takes_value.contains(opt) {
                rest.get(1..).unwrap_or_default()
            } else {
                rest
            };
        }
    }
    words
}
