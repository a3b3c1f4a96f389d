//! The dependency rules of docs/architecture.md, checked on the source tree:
//! library modules never import `cli`, memory and the vault never import
//! each other, and the top-level modules import each other without a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module of a file under src/ (`memory` for src/memory/recall.rs).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Which top-level modules each module names through `crate::…`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let path = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let group = regex::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let word = regex::Regex::new(r"\b([a-z_]+)\b").unwrap();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let from = module_of(f);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let mut named: Vec<String> = path
            .captures_iter(&text)
            .map(|c| c[1].to_string())
            .collect();
        for g in group.captures_iter(&text) {
            named.extend(word.captures_iter(&g[1]).map(|c| c[1].to_string()));
        }
        let to = graph.entry(from.clone()).or_default();
        to.extend(
            named
                .into_iter()
                .filter(|m| *m != from && modules.contains(m)),
        );
    }
    graph
}

#[test]
fn library_modules_never_import_cli() {
    let offenders: Vec<_> = imports()
        .into_iter()
        .filter(|(m, to)| m != "cli" && to.contains("cli"))
        .map(|(m, _)| m)
        .collect();
    assert!(offenders.is_empty(), "{offenders:?} import crate::cli");
}

#[test]
fn memory_and_the_vault_never_import_each_other() {
    let g = imports();
    assert!(!g["memory"].contains("vault"), "memory imports the vault");
    assert!(!g["vault"].contains("memory"), "the vault imports memory");
}

#[test]
fn top_level_modules_have_no_import_cycle() {
    let g = imports();
    // Depth-first search for a back edge; the path shows the cycle.
    fn visit(
        m: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(i) = path.iter().position(|p| p == m) {
            panic!("import cycle: {} -> {m}", path[i..].join(" -> "));
        }
        path.push(m.to_string());
        for to in g.get(m).into_iter().flatten() {
            visit(to, g, done, path);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in g.keys() {
        visit(m, &g, &mut done, &mut Vec::new());
    }
    assert!(done.len() >= 15, "found only {done:?}");
}
