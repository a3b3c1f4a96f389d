//! The recall benchmark's fixtures stay honest (bench/data/, used by
//! bench/recall.py): every paraphrase question is answerable (its gold
//! memory exists, in its client) and shares no content word with that
//! memory's title and body, so the set measures understanding, not word
//! matching. Content words: lower-cased `[a-z0-9]+` tokens that are not in
//! bench/data/stopwords-en.txt, compared after a light plural strip.

use serde::Deserialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

const MIN_QUESTIONS: usize = 120;
const MIN_CLIENTS: usize = 8;
const MIN_PROMPTS: usize = 60;

#[derive(Deserialize)]
struct Fixture {
    clients: Vec<Client>,
    memories: Vec<Memory>,
    questions: Vec<Question>,
}

#[derive(Deserialize)]
struct Client {
    slug: String,
}

#[derive(Deserialize)]
struct Memory {
    id: String,
    client: String,
    title: String,
    body: String,
}

#[derive(Deserialize)]
struct Question {
    client: String,
    gold: String,
    question: String,
}

#[derive(Deserialize)]
struct Precision {
    prompts: Vec<String>,
}

fn bench_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn stopwords() -> HashSet<String> {
    bench_file("stopwords-en.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// A word and its light plural strips (`policies` -> `policy`, `boxes` ->
/// `box`, `printers` -> `printer`); two words match when these sets meet.
fn forms(word: &str) -> Vec<String> {
    let mut out = vec![word.to_string()];
    if word.len() > 3 {
        if let Some(stem) = word.strip_suffix("ies") {
            out.push(format!("{stem}y"));
        }
        if let Some(stem) = word.strip_suffix("es") {
            out.push(stem.to_string());
        }
        if !word.ends_with("ss")
            && let Some(stem) = word.strip_suffix('s')
        {
            out.push(stem.to_string());
        }
    }
    out
}

fn content_words(text: &str, stop: &HashSet<String>) -> BTreeSet<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|w| !w.is_empty() && !stop.contains(*w))
        .map(str::to_string)
        .collect()
}

/// Everything wrong with a fixture, one line per problem.
fn problems(f: &Fixture, stop: &HashSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let clients: HashSet<&str> = f.clients.iter().map(|c| c.slug.as_str()).collect();
    let mut by_id: HashMap<&str, &Memory> = HashMap::new();
    let mut titles = HashSet::new();
    for m in &f.memories {
        if by_id.insert(&m.id, m).is_some() {
            out.push(format!("memory id {} is used twice", m.id));
        }
        if !clients.contains(m.client.as_str()) {
            out.push(format!("memory {} names unknown client {}", m.id, m.client));
        }
        // bench/recall.py maps stored memories back by (client, title).
        if !titles.insert((&m.client, &m.title)) {
            out.push(format!("title {:?} is used twice in {}", m.title, m.client));
        }
    }
    for q in &f.questions {
        let Some(gold) = by_id.get(q.gold.as_str()) else {
            out.push(format!(
                "{:?}: gold memory {} does not exist",
                q.question, q.gold
            ));
            continue;
        };
        if gold.client != q.client {
            out.push(format!(
                "{:?}: gold {} belongs to {}, not {}",
                q.question, q.gold, gold.client, q.client
            ));
        }
        let known: HashSet<String> = content_words(&format!("{} {}", gold.title, gold.body), stop)
            .iter()
            .flat_map(|w| forms(w))
            .collect();
        let shared: Vec<String> = content_words(&q.question, stop)
            .into_iter()
            .filter(|w| forms(w).iter().any(|f| known.contains(f)))
            .collect();
        if !shared.is_empty() {
            out.push(format!(
                "{:?} shares {shared:?} with its gold memory {}",
                q.question, q.gold
            ));
        }
    }
    if f.questions.len() < MIN_QUESTIONS {
        out.push(format!(
            "{} questions, want at least {MIN_QUESTIONS}",
            f.questions.len()
        ));
    }
    let asked_in: HashSet<&str> = f.questions.iter().map(|q| q.client.as_str()).collect();
    if asked_in.len() < MIN_CLIENTS {
        out.push(format!(
            "questions in {} clients, want at least {MIN_CLIENTS}",
            asked_in.len()
        ));
    }
    out
}

#[test]
fn paraphrase_questions_share_no_content_word_with_their_gold_memory() {
    let fixture: Fixture = serde_json::from_str(&bench_file("paraphrase.json")).unwrap();
    let found = problems(&fixture, &stopwords());
    assert!(
        found.is_empty(),
        "bench/data/paraphrase.json:\n{}",
        found.join("\n")
    );
}

#[test]
fn fixture_check_reports_a_leaked_word_a_missing_gold_and_a_small_set() {
    let fixture: Fixture = serde_json::from_value(serde_json::json!({
        "clients": [{"slug": "acme"}],
        "memories": [{"id": "vpn", "client": "acme", "title": "SSL VPN for the sales team",
                      "body": "FortiClient to the FortiGate; policies per group."}],
        "questions": [
            {"client": "acme", "gold": "vpn", "question": "how do the sales people reach the file server?"},
            {"client": "acme", "gold": "vpn", "question": "which policy lets reps in from the road?"},
            {"client": "acme", "gold": "nope", "question": "where is the firewall config?"},
            {"client": "acme", "gold": "vpn", "question": "how do reps reach the share from the road?"}
        ]
    }))
    .unwrap();
    let found = problems(&fixture, &stopwords());
    let has = |needle: &str| found.iter().any(|p| p.contains(needle));
    assert!(has(r#"shares ["sales"]"#), "{found:#?}");
    assert!(has(r#"shares ["policy"]"#), "plural strip: {found:#?}");
    assert!(has("gold memory nope does not exist"), "{found:#?}");
    assert!(has("4 questions, want at least 120"), "{found:#?}");
    assert!(has("questions in 1 clients"), "{found:#?}");
    assert_eq!(
        found.len(),
        5,
        "the clean question is not reported: {found:#?}"
    );
}

#[test]
fn precision_prompts_are_enough_and_distinct() {
    let p: Precision = serde_json::from_str(&bench_file("precision.json")).unwrap();
    let distinct: HashSet<&String> = p.prompts.iter().collect();
    assert!(
        p.prompts.len() >= MIN_PROMPTS,
        "{} prompts, want at least {MIN_PROMPTS}",
        p.prompts.len()
    );
    assert_eq!(distinct.len(), p.prompts.len(), "a prompt is listed twice");
}
