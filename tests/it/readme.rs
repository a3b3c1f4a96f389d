//! The README and the guides match the tool: every `msp` command in their
//! console and shell examples names subcommands and flags that exist. Each
//! command line is split the way a shell would (quotes, `&&`, `|`, `;`,
//! comments), its subcommands are followed through `msp ... --help`, and
//! every `--flag` must appear in the help of the command it is given to.

use crate::common::{Env, MSP};

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// The documents whose examples are checked.
const DOCS: &[&str] = &[
    "README.md",
    "docs/configuration.md",
    "docs/guide/agent.md",
    "docs/guide/memory.md",
    "docs/guide/sync.md",
    "docs/guide/tickets.md",
    "docs/guide/vault.md",
    "docs/guide/work.md",
];

/// `msp` command lines in ```console (after `$ `) and ```sh blocks, with
/// the line they are on.
fn example_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block: Option<&str> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if let Some(fence) = t.strip_prefix("```") {
            in_block = match in_block {
                Some(_) => None,
                None => Some(if fence.starts_with("console") || fence.starts_with("sh") {
                    "shell"
                } else {
                    "other"
                }),
            };
            continue;
        }
        if in_block != Some("shell") {
            continue;
        }
        let cmd = t.strip_prefix("$ ").unwrap_or(t);
        if t.starts_with("$ ") || cmd.starts_with("msp ") {
            out.push((i + 1, cmd.to_string()));
        }
    }
    out
}

/// Shell words, split into commands at `&&`, `||`, `|` and `;`, up to a
/// comment. Quotes group words; their content is kept as it is.
fn commands(line: &str) -> Vec<Vec<String>> {
    let mut cmds = vec![Vec::new()];
    let mut word = String::new();
    let mut has_word = false;
    let mut chars = line.chars().peekable();
    let end_word = |word: &mut String, has_word: &mut bool, cmds: &mut Vec<Vec<String>>| {
        if *has_word {
            cmds.last_mut().unwrap().push(std::mem::take(word));
            *has_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                has_word = true;
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                has_word = true;
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            '#' if !has_word => break,
            c if c.is_whitespace() => end_word(&mut word, &mut has_word, &mut cmds),
            '&' | '|' | ';' => {
                end_word(&mut word, &mut has_word, &mut cmds);
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                cmds.push(Vec::new());
            }
            c => {
                has_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut word, &mut has_word, &mut cmds);
    cmds.into_iter()
        .filter(|c| c.first().is_some_and(|w| w == "msp"))
        .collect()
}

struct Helps<'a> {
    env: &'a Env,
    cache: HashMap<Vec<String>, Option<String>>,
}

impl<'a> Helps<'a> {
    fn new(env: &'a Env) -> Helps<'a> {
        Helps {
            env,
            cache: HashMap::new(),
        }
    }

    /// `msp PATH... --help`, or `None` when msp refuses the path.
    fn help(&mut self, path: &[String]) -> Option<String> {
        if let Some(h) = self.cache.get(path) {
            return h.clone();
        }
        let mut cmd: Command = self.env.command(path);
        cmd.arg("--help");
        let out = cmd.output().expect("run msp --help");
        let help = out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned());
        self.cache.insert(path.to_vec(), help.clone());
        help
    }
}

/// What is wrong with one `msp` command of an example, if anything.
fn check(helps: &mut Helps, words: &[String]) -> Option<String> {
    let mut path: Vec<String> = Vec::new();
    let mut rest = words[1..].iter().peekable();
    // Global flags before the subcommand.
    while rest.peek().is_some_and(|w| *w == "--json") {
        rest.next();
    }
    let mut help = helps.help(&path).expect("msp --help");
    while help.contains("\nCommands:\n") {
        let Some(next) = rest.peek() else { break };
        if next.starts_with('-') {
            break;
        }
        path.push(next.to_string());
        rest.next();
        match helps.help(&path) {
            Some(h) => help = h,
            None => return Some(format!("unknown subcommand `msp {}`", path.join(" "))),
        }
    }
    for w in rest {
        if w == "--" {
            break;
        }
        let Some(flag) = w.strip_prefix("--") else {
            continue;
        };
        let name = flag.split('=').next().unwrap();
        let listed = help.lines().any(|l| {
            l.split([' ', ',', '='])
                .any(|tok| tok == format!("--{name}"))
        });
        if !listed {
            return Some(format!("`msp {}` has no flag --{name}", path.join(" ")));
        }
    }
    None
}

#[test]
fn readme_and_guide_examples_name_only_existing_commands_and_flags() {
    let env = Env::new();
    let mut helps = Helps::new(&env);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut problems = Vec::new();
    for doc in DOCS {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for (line, example) in example_lines(&text) {
            for words in commands(&example) {
                checked += 1;
                if let Some(p) = check(&mut helps, &words) {
                    problems.push(format!("{doc}:{line}: {p}\n    {example}"));
                }
            }
        }
    }
    assert!(
        checked >= 40,
        "only {checked} commands found: is the parser broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checker itself fails on what it must catch.
#[test]
fn example_checker_catches_unknown_subcommands_and_flags() {
    let env = Env::new();
    let mut helps = Helps::new(&env);
    let bad = [
        (
            "msp session begin --title x",
            "unknown subcommand `msp session begin`",
        ),
        (
            "msp session start --titel x",
            "`msp session start` has no flag --titel",
        ),
        (
            "cd ~/w && msp client add X --colour red # note",
            "has no flag --colour",
        ),
        (
            "printf %s x | msp vault set a/b --user u password=-",
            "has no flag --user",
        ),
    ];
    for (line, want) in bad {
        let cmds = commands(line);
        assert_eq!(cmds.len(), 1, "{line}: {cmds:?}");
        let got = check(&mut helps, &cmds[0]).unwrap_or_default();
        assert!(got.contains(want), "{line}: {got:?}");
    }
    for line in [
        "msp session start --title 'a # b' --billable   # comment --nope",
        "msp --json context recall --prompt \"why --x\"",
        "msp agent exec self --wait -- printf --anything",
        "msp ticket time 1001 --minutes=30",
        "msp machine update self --no-approval-required",
    ] {
        let cmds = commands(line);
        assert_eq!(check(&mut helps, &cmds[0]), None, "{line}");
    }
    assert_eq!(
        example_lines(
            "```console\n$ msp doctor\nok  x\n```\n```text\n$ msp nope\n```\n```sh\nmsp setup --uninstall\n```\n"
        ),
        [
            (2, "msp doctor".to_string()),
            (9, "msp setup --uninstall".to_string())
        ]
    );
    let _ = MSP;
}

/// The Quickstart said "schema 2" and its doctor "schema 1" when msp said 7:
/// every schema number and doctor check in the README is what msp prints.
#[test]
fn readme_schema_numbers_and_doctor_checks_match_msp() {
    let env = Env::new();
    let setup = env.ok(&["setup", "--no-hooks"]).stdout;
    let schema = regex::Regex::new(r"\(schema (\d+)\)").unwrap();
    let real = schema
        .captures(&setup)
        .unwrap_or_else(|| panic!("no schema in: {setup}"))[1]
        .to_string();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let shown: Vec<String> = schema
        .captures_iter(&readme)
        .map(|c| c[1].to_string())
        .collect();
    assert!(!shown.is_empty());
    assert!(
        shown.iter().all(|n| *n == real),
        "README shows schema {shown:?}, msp {real}"
    );
    // Without hooks doctor fails (exit 1), but it lists every check.
    let doctor = env.msp(&["--json", "doctor"]).json();
    let names: Vec<String> = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let check_line = regex::Regex::new(r"(?m)^(?:ok|warn|FAIL)\s+(\w+)\s").unwrap();
    let in_readme: Vec<String> = check_line
        .captures_iter(&readme)
        .map(|c| c[1].to_string())
        .collect();
    assert!(in_readme.len() >= 5, "{in_readme:?}");
    for n in &in_readme {
        assert!(
            names.contains(n) || n == "hooks" || n == "hook_binary",
            "README shows doctor check {n}, msp has {names:?}"
        );
    }
    for n in &names {
        assert!(
            in_readme.contains(n),
            "msp doctor has {n}, the README does not show it"
        );
    }
}
