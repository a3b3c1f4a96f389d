//! Built-in MSP domain vocabulary: tag extraction, canonical names, query
//! expansion and stop words.
//!
//! The vocabulary is a static list of canonical tags (lower-case kebab-case,
//! e.g. `active-directory`, `hyper-v`, `m365`), each with a [`Category`], an
//! optional broader parent tag (`veeam` -> `backup`, `exchange-online` ->
//! `exchange` -> `email`) and its synonyms, abbreviations and product names.
//!
//! Matching works on tokens, never on substrings: text is lower-cased and split
//! into runs of alphanumeric characters (so `Hyper-V`, `hyper v` and `HYPER-V,`
//! are the same two tokens `hyper v`, and `adobe` never yields `ad`). Aliases
//! of up to [`MAX_WORDS`] tokens are found by greedy longest match, so
//! `windows server 2019` gives `windows-server` and not `windows`. A trailing
//! plural `s` is tried as a fallback (`firewalls` -> `firewall`). `+`/`#`
//! directly after a word are kept only where the vocabulary knows the result
//! (`c++`, `c#`).
//!
//! The vocabulary and the stop words are data files beside this module
//! (`vocabulary.txt`, `stop_words.txt`). The build script turns them into
//! perfect-hash tables (phf) and the parent/child links, so there is no
//! table-building cost at run time (the hook binaries pay nothing per
//! process) and no const evaluation at compile time.

/// What kind of thing a tag names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Products, protocols, languages, platforms (`veeam`, `dkim`, `powershell`).
    Technology,
    /// Kinds of systems and components (`firewall`, `nas`, `printer`, `backup`).
    Infrastructure,
    /// Symptoms and failure modes (`outage`, `timeout`, `disk-full`).
    Problem,
    /// Things a technician does (`migrate`, `restore`, `offboarding`).
    Action,
}

impl Category {
    /// Lower-case name, e.g. `"technology"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Technology => "technology",
            Category::Infrastructure => "infrastructure",
            Category::Problem => "problem",
            Category::Action => "action",
        }
    }
}

/// Longest alias, in tokens, that the scanner looks for.
pub const MAX_WORDS: usize = 4;

struct Term {
    tag: &'static str,
    category: Category,
    /// Broader tag, or `""` (resolved into `PARENTS` by the build script;
    /// read here by the tests that check it).
    #[cfg_attr(not(test), allow(dead_code))]
    parent: &'static str,
    aliases: &'static [&'static str],
}

/// No term.
const NONE: u16 = u16::MAX;

/// One key of the vocabulary (tokens joined by single spaces, e.g. "hyper
/// v"). Multi-word aliases also have their proper prefixes ("red", "red
/// hat") as keys, flagged `prefix`, so the scanner widens its window only
/// while a longer alias is still possible.
#[derive(Clone, Copy, Debug)]
struct Key {
    /// The term this key names, or [`NONE`] for a prefix-only key.
    term: u16,
    /// Some longer key starts with this one followed by a space.
    prefix: bool,
}

// VOCABULARY, KEYS, STOPS, STOP_WORDS, PARENTS, CHILD_START, CHILD_LIST.
include!(concat!(env!("OUT_DIR"), "/tags_data.rs"));

#[cfg(test)]
mod normalize;

fn stop_lookup(word: &str) -> bool {
    STOPS.contains(word)
}

fn lookup_slot(key: &str) -> Option<Key> {
    KEYS.get(key).copied()
}

fn children_of(t: u16) -> &'static [u16] {
    let i = usize::from(t);
    &CHILD_LIST[usize::from(CHILD_START[i])..usize::from(CHILD_START[i + 1])]
}

fn parent_of(t: u16) -> Option<u16> {
    let p = PARENTS[usize::from(t)];
    (p != NONE).then_some(p)
}

/// How the tokenizer treats `+` and `#` right after a word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Symbols {
    /// Always separators (full-text search style).
    Drop,
    /// Kept only if the vocabulary has the resulting word (`c++`, `c#`).
    Known,
}

/// Lower-cases `text` and appends its tokens to `out`, separated by single
/// spaces, recording each token's byte range in `spans`. Tokens are runs of
/// alphanumeric characters; everything else separates.
fn tokenize_into(text: &str, out: &mut String, spans: &mut Vec<(usize, usize)>, symbols: Symbols) {
    let mut chars = text.chars().peekable();
    let mut start: Option<usize> = None;
    while let Some(c) = chars.next() {
        let alnum = c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric());
        if alnum {
            if start.is_none() {
                if !out.is_empty() {
                    out.push(' ');
                }
                start = Some(out.len());
            }
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
            continue;
        }
        let Some(s) = start.take() else { continue };
        if (c == '+' || c == '#') && symbols == Symbols::Known {
            let mark = out.len();
            out.push(c);
            if c == '+' && chars.peek() == Some(&'+') {
                chars.next();
                out.push('+');
            }
            if lookup_slot(&out[s..]).is_none_or(|slot| slot.term == NONE) {
                out.truncate(mark);
            }
        }
        spans.push((s, out.len()));
    }
    if let Some(s) = start {
        spans.push((s, out.len()));
    }
}

/// Already in key form: tokens of `[a-z0-9+#]` separated by single spaces.
fn is_normalized(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b' ' | b'+' | b'#')
        })
}

/// A single-word alias that full-text search tokenizes to itself.
fn is_single_word(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `true` when the last token of `key` may be a plural (`firewalls`).
fn plural_candidate(key: &str) -> bool {
    let last = key.rsplit(' ').next().unwrap_or(key);
    last.len() >= 4 && last.ends_with('s') && !last.ends_with("ss")
}

/// The term for a normalized key, with the plural fallback.
fn lookup_key(key: &str) -> Option<u16> {
    if let Some(s) = lookup_slot(key).filter(|s| s.term != NONE) {
        return Some(s.term);
    }
    if plural_candidate(key) {
        return lookup_slot(&key[..key.len() - 1])
            .map(|s| s.term)
            .filter(|&t| t != NONE);
    }
    None
}

/// The term for any spelling of a word or phrase.
fn lookup_phrase(phrase: &str) -> Option<u16> {
    if is_normalized(phrase) {
        return lookup_key(phrase);
    }
    let mut norm = String::with_capacity(phrase.len());
    let mut spans = Vec::new();
    tokenize_into(phrase, &mut norm, &mut spans, Symbols::Known);
    if norm.is_empty() {
        None
    } else {
        lookup_key(&norm)
    }
}

/// Greedy longest-match scan over tokenized text; calls `found(term,
/// token_index)` for every match.
fn scan(norm: &str, spans: &[(usize, usize)], mut found: impl FnMut(u16, usize)) {
    let n = spans.len();
    let mut i = 0;
    while i < n {
        let mut best: Option<(u16, usize)> = None;
        let mut k = 0;
        while k < MAX_WORDS && i + k < n {
            let key = &norm[spans[i].0..spans[i + k].1];
            let slot = lookup_slot(key);
            let term = match slot {
                Some(s) if s.term != NONE => Some(s.term),
                _ if plural_candidate(key) => lookup_slot(&key[..key.len() - 1])
                    .map(|s| s.term)
                    .filter(|&t| t != NONE),
                _ => None,
            };
            if let Some(t) = term {
                best = Some((t, k + 1));
            }
            if !slot.is_some_and(|s| s.prefix) {
                break;
            }
            k += 1;
        }
        match best {
            Some((t, words)) => {
                found(t, i);
                i += words;
            }
            None => i += 1,
        }
    }
}

/// Canonical tags found in `text` (case-insensitive, whole-word and multi-word
/// matching, e.g. "active directory", "hyper-v", "windows server 2019" ->
/// `windows-server`), most frequent first, deduplicated, at most `max`.
///
/// A mention counts fully for its own tag, half for the broader tag and a
/// quarter for tags further up (`veeam` -> `backup`; `sonicwall` ->
/// `firewall` -> `network`), so broader tags are found without crowding out
/// what the text actually names. Ties go to the tag mentioned first.
pub fn extract_tags(text: &str, max: usize) -> Vec<&'static str> {
    if max == 0 || text.is_empty() {
        return Vec::new();
    }
    let mut norm = String::with_capacity(text.len() + 16);
    let mut spans = Vec::with_capacity(text.len() / 5);
    tokenize_into(text, &mut norm, &mut spans, Symbols::Known);

    // (term, score, first token index), in order of first appearance.
    let mut hits: Vec<(u16, u32, usize)> = Vec::new();
    let mut slot = vec![u32::MAX; VOCABULARY.len()];
    scan(&norm, &spans, |term, pos| {
        let mut t = term;
        let mut weight = 4;
        // Parent chains are short; the bound guards against a cycle.
        for _ in 0..8 {
            let s = &mut slot[usize::from(t)];
            if *s == u32::MAX {
                *s = hits.len() as u32;
                hits.push((t, weight, pos));
            } else {
                hits[*s as usize].1 += weight;
            }
            weight = (weight / 2).max(1);
            match parent_of(t) {
                Some(p) => t = p,
                None => break,
            }
        }
    });
    hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    hits.truncate(max);
    hits.into_iter()
        .map(|(t, _, _)| VOCABULARY[usize::from(t)].tag)
        .collect()
}

/// The canonical tag for a word or phrase, if it is in the vocabulary (via
/// any alias, any case and punctuation: "Azure AD", "hyper v", "M365,").
pub fn canonical(term: &str) -> Option<&'static str> {
    lookup_phrase(term).map(|t| VOCABULARY[usize::from(t)].tag)
}

/// The query expansion of one lower-case query term (a tag or any alias):
/// first its canonical tag, then single-word search terms (ASCII letters and
/// digits only, so safe as full-text search terms) in this order: the tag's
/// own aliases, its narrower tags, its broader tag. Multi-word and
/// hyphenated aliases are left out (find those with [`extract_tags`] on the
/// prompt). Empty when the term is unknown. E.g. `expand("backup")` contains
/// "veeam", "datto", "acronis"; `expand("veeam")` contains "backup".
pub fn expand(term: &str) -> Vec<&'static str> {
    let Some(idx) = lookup_phrase(term) else {
        return Vec::new();
    };
    let own = &VOCABULARY[usize::from(idx)];
    let mut out: Vec<&'static str> = Vec::with_capacity(16 + own.aliases.len());
    out.push(own.tag);
    fn push(w: &'static str, out: &mut Vec<&'static str>) {
        if is_single_word(w) && !out.contains(&w) {
            out.push(w);
        }
    }
    for a in own.aliases {
        push(a, &mut out);
    }
    for &c in children_of(idx) {
        push(VOCABULARY[usize::from(c)].tag, &mut out);
    }
    if let Some(p) = parent_of(idx) {
        push(VOCABULARY[usize::from(p)].tag, &mut out);
    }
    out
}

/// The category of a tag (or of the tag any alias stands for).
pub fn category(tag: &str) -> Option<Category> {
    lookup_phrase(tag).map(|t| VOCABULARY[usize::from(t)].category)
}

/// The broader tag of a tag, e.g. `veeam` -> `backup`.
pub fn parent(tag: &str) -> Option<&'static str> {
    let p = parent_of(lookup_phrase(tag)?)?;
    Some(VOCABULARY[usize::from(p)].tag)
}

/// The narrower tags of a tag, e.g. `backup` -> `veeam`, `datto`, ...
pub fn children(tag: &str) -> Vec<&'static str> {
    lookup_phrase(tag)
        .map(|t| {
            children_of(t)
                .iter()
                .map(|&c| VOCABULARY[usize::from(c)].tag)
                .collect()
        })
        .unwrap_or_default()
}

/// All aliases of a tag as written in the vocabulary (multi-word included).
pub fn aliases(tag: &str) -> &'static [&'static str] {
    lookup_phrase(tag).map_or(&[], |t| VOCABULARY[usize::from(t)].aliases)
}

/// Every canonical tag with its category, in vocabulary order.
pub fn vocabulary() -> impl Iterator<Item = (&'static str, Category)> {
    VOCABULARY.iter().map(|t| (t.tag, t.category))
}

/// English stop words plus conversational filler common in prompts
/// ("please", "can", "you", "help", "me", "what", "how", "did", "we", "the",
/// "last", "time", ...), for query building. Case-insensitive; accepts
/// `don't`, `don’t` and `dont`.
pub fn is_stop_word(word: &str) -> bool {
    if stop_lookup(word) {
        return true;
    }
    if word.bytes().any(|b| b.is_ascii_uppercase()) || word.contains('\u{2019}') {
        let folded: String = word
            .chars()
            .map(|c| {
                if c == '\u{2019}' {
                    '\''
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        return stop_lookup(&folded);
    }
    false
}

/// Every stop word, lower-case.
pub fn stop_words() -> impl Iterator<Item = &'static str> {
    STOPS.iter().copied()
}

/// Lower-case search tokens of `text`: runs of letters and digits, everything
/// else a separator (close to SQLite FTS5's default tokenizer, minus its
/// diacritic folding), so `Hyper-V` gives `hyper`, `v`.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut norm = String::with_capacity(text.len());
    let mut spans = Vec::new();
    tokenize_into(text, &mut norm, &mut spans, Symbols::Drop);
    spans
        .into_iter()
        .map(|(s, e)| norm[s..e].to_string())
        .collect()
}

/// The tokens of a prompt worth searching for: [`tokenize`] minus stop words
/// and single characters, deduplicated, in order of appearance.
pub fn keywords(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tok in tokenize(text) {
        if tok.chars().nth(1).is_none() || is_stop_word(&tok) || out.contains(&tok) {
            continue;
        }
        out.push(tok);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::HashMap;

    /// Longest key in bytes an alias may have.
    const KEY_MAX: usize = 64;

    /// Key form of a phrase, written independently of the const `normalize`
    /// so the two cross-check each other. Returns (key, token count).
    fn normalize_key(phrase: &str) -> (String, usize) {
        let mut key = String::new();
        let mut tokens = 0;
        let mut chars = phrase.chars().peekable();
        while let Some(&c) = chars.peek() {
            if !c.is_ascii_alphanumeric() {
                chars.next();
                continue;
            }
            if tokens > 0 {
                key.push(' ');
            }
            tokens += 1;
            while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric()) {
                key.push(c.to_ascii_lowercase());
                chars.next();
            }
            if let Some(&sym) = chars.peek().filter(|&&c| c == '+' || c == '#') {
                key.push(sym);
                chars.next();
                if sym == '+' && chars.peek() == Some(&'+') {
                    key.push('+');
                    chars.next();
                }
            }
        }
        (key, tokens)
    }

    /// Each input term and the tag `canonical` makes of it.
    #[track_caller]
    fn canonical_is(cases: &[(&str, Option<&str>)]) {
        for &(term, want) in cases {
            assert_eq!(canonical(term), want, "{term:?}");
        }
    }

    fn has(tags: &[&str], want: &[&str]) {
        for w in want {
            assert!(tags.contains(w), "missing {w:?} in {tags:?}");
        }
    }

    fn lacks(tags: &[&str], unwanted: &[&str]) {
        for u in unwanted {
            assert!(!tags.contains(u), "unexpected {u:?} in {tags:?}");
        }
    }

    #[test]
    fn veeam_job_on_synology() {
        let text = "Client: Dataforth. The nightly Veeam backup job to the Synology NAS \
            (DS1821+) failed again with 'Failed to connect to repository: timed out'. \
            The DiskStation was at 98% disk space, so the retention policy was trimmed \
            and old restore points purged. Veeam job succeeded after a retry.";
        let tags = extract_tags(text, 20);
        has(
            &tags,
            &[
                "veeam",
                "backup",
                "synology",
                "nas",
                "failed",
                "timeout",
                "disk-full",
                "retention",
                "cleanup",
                "storage",
            ],
        );
        assert_eq!(tags[..2], ["veeam", "backup"], "{tags:?}");
        assert!(
            tags.iter().position(|t| *t == "synology") < tags.iter().position(|t| *t == "storage")
        );
        lacks(&tags, &["ad", "active-directory"]);
    }

    #[test]
    fn exchange_online_mail_flow_with_dkim() {
        let text = "Exchange Online mail flow issue for contoso.com: outbound messages land in \
            recipients' junk folder. Message trace shows DKIM=fail, SPF pass. DKIM signing \
            was never enabled in the Defender portal; published the two selector CNAMEs at \
            GoDaddy and enabled it with Set-DkimSigningConfig. DMARC p=none for now.";
        let tags = extract_tags(text, 30);
        has(
            &tags,
            &[
                "exchange-online",
                "exchange",
                "email",
                "mail-flow",
                "dkim",
                "spf",
                "dmarc",
                "spam",
                "godaddy",
                "dns",
                "defender",
            ],
        );
        assert_eq!(canonical("Exchange Online"), Some("exchange-online"));
    }

    #[test]
    fn gpo_not_applying_in_active_directory() {
        let text = "GPO for mapped drives not applying on the Sales OU. gpresult /r showed the \
            Group Policy filtered out by security filtering; Authenticated Users lacked Read. \
            Fixed in GPMC on DC01, ran gpupdate /force. Active Directory replication healthy \
            (repadmin /replsummary).";
        let tags = extract_tags(text, 12);
        has(
            &tags,
            &["gpo", "active-directory", "file-share", "domain-controller"],
        );
        assert_eq!(tags[..2], ["gpo", "active-directory"], "{tags:?}");
    }

    #[test]
    fn powershell_on_windows_server_over_winrm() {
        let text = "Wrote a PowerShell script to collect disk usage on Windows Server 2019 \
            hosts over WinRM (Invoke-Command with -ComputerName). Needed Enable-PSRemoting \
            on two servers and a firewall rule for 5985.";
        let tags = extract_tags(text, 20);
        has(
            &tags,
            &[
                "powershell",
                "windows-server",
                "winrm",
                "firewall",
                "scripting",
                "server",
            ],
        );
        lacks(&tags, &["windows"]);
    }

    #[test]
    fn frequency_order_dedup_and_max() {
        let tags = extract_tags("dns dns dns dhcp dhcp vlan", 10);
        // dns: 3 mentions x 4; network: (3 + 2 + 1) x 2 from its children.
        assert_eq!(tags[..3], ["dns", "network", "dhcp"]);
        assert_eq!(
            extract_tags("dns dns dns dhcp dhcp vlan", 2),
            ["dns", "network"]
        );
        assert!(extract_tags("dns", 0).is_empty());
        assert!(extract_tags("", 5).is_empty());
        assert!(extract_tags("nothing of interest here", 5).is_empty());
        // Ties go to the first mention.
        assert_eq!(extract_tags("kerberos ldap", 5), ["kerberos", "ldap"]);
    }

    #[test]
    fn expansion_both_ways() {
        let backup = expand("backup");
        assert_eq!(backup[0], "backup");
        has(
            &backup,
            &[
                "veeam",
                "datto",
                "acronis",
                "backblaze",
                "restic",
                "borg",
                "wasabi",
                "snapshot",
                "backups",
            ],
        );
        // Narrower tags, not their aliases: "backup" does not drag in "siris".
        lacks(&backup, &["siris", "vbr"]);
        let veeam = expand("veeam");
        assert_eq!(veeam[0], "veeam");
        has(&veeam, &["backup", "vbr"]);
        has(
            &expand("m365"),
            &[
                "office365",
                "o365",
                "microsoft365",
                "sharepoint",
                "onedrive",
            ],
        );
        has(&expand("office365"), &["m365", "o365"]);
        has(&expand("ad"), &["active-directory", "gpo", "aduc"]);
        has(&expand("k8s"), &["kubernetes", "kubectl", "containers"]);
        has(&expand("email"), &["exchange", "outlook", "dkim", "smtp"]);
        has(&expand("teams"), &["microsoft-teams", "msteams", "m365"]);
        assert!(expand("network").len() < 60, "{:?}", expand("network"));
        assert!(expand("zzzunknown").is_empty());
        assert!(expand("").is_empty());
        // Only single words after the tag itself.
        for term in [
            "backup",
            "email",
            "active-directory",
            "firewall",
            "windows-server",
        ] {
            for w in &expand(term)[1..] {
                assert!(is_single_word(w), "{term}: {w:?} is not a single word");
            }
        }
    }

    #[test]
    fn multi_word_aliases() {
        canonical_is(&[
            ("active directory", Some("active-directory")),
            ("azure ad", Some("entra-id")),
            ("Azure AD Connect", Some("ad-connect")),
            ("microsoft 365", Some("m365")),
            ("group policy", Some("gpo")),
            // A phrase, not an alias.
            ("windows server 2019", None),
            ("server 2019", Some("windows-server")),
            ("let's encrypt", Some("letsencrypt")),
            ("red hat enterprise linux", Some("rhel")),
        ]);
        let tags = extract_tags(
            "Synced via Azure AD Connect to Entra ID; the Azure AD tenant is fine.",
            10,
        );
        has(&tags, &["ad-connect", "entra-id", "m365"]);
        lacks(&tags, &["active-directory"]);
        // Longest match wins over the shorter alias inside it.
        let tags = extract_tags(
            "Installed the SSL certificate; certificate has expired on the old one",
            10,
        );
        has(&tags, &["certificate", "certificate-expired", "install"]);
        lacks(&tags, &["tls", "expired"]);
        let tags = extract_tags(
            "SonicWall firmware upgrade, then the Exchange hybrid autodiscover DNS record",
            10,
        );
        has(
            &tags,
            &["sonicwall", "firmware", "upgrade", "exchange", "dns"],
        );
        let tags = extract_tags("Windows 11 laptops and a Windows Server 2022 DC", 10);
        has(
            &tags,
            &["windows", "windows-server", "laptop", "domain-controller"],
        );
    }

    #[test]
    fn case_and_punctuation() {
        canonical_is(&[
            ("Hyper-V", Some("hyper-v")),
            ("HYPER V", Some("hyper-v")),
            ("hyperv", Some("hyper-v")),
            ("Office 365", Some("m365")),
            ("M365,", Some("m365")),
            ("  Wi-Fi  ", Some("wifi")),
            ("Node.js", Some("nodejs")),
            ("C#", Some("csharp")),
            ("c++", Some("cpp")),
            ("CI/CD", Some("ci")),
        ]);
        let tags = extract_tags(
            "Migrated VMs from (Hyper-V) to ESXi; users on M365, Office 365 and O365.",
            10,
        );
        has(
            &tags,
            &["hyper-v", "esxi", "virtualization", "m365", "migrate"],
        );
        assert_eq!(extract_tags("M365, m365; O365!", 1), ["m365"]);
        let tags = extract_tags("Wrote it in C# and C++, not C or F.", 10);
        has(&tags, &["csharp", "cpp"]);
        // Unknown symbol suffixes are dropped, not glued on.
        assert_eq!(
            extract_tags("m365+ and veeam#", 5),
            ["m365", "veeam", "backup"]
        );
    }

    #[test]
    fn plurals_fall_back_to_singular() {
        canonical_is(&[
            ("firewalls", Some("firewall")),
            ("Synologys", Some("synology")),
            ("backup jobs", Some("backup")),
            // 3-letter words never lose an s.
            ("ads", None),
            ("class", None),
        ]);
    }

    #[test]
    fn no_substring_false_positives() {
        let tags = extract_tags(
            "Adobe Acrobat updates: Madison's badge reader and the loaded macro",
            20,
        );
        has(&tags, &["adobe", "update", "physical-security"]);
        lacks(&tags, &["active-directory", "macos", "nas"]);
        assert!(extract_tags("adobe", 5) == ["adobe"]);
        assert!(extract_tags("dcim headroom Adsorption bash-like", 5) == ["bash", "scripting"]);
        assert!(
            extract_tags("ransom", 5)
                .iter()
                .all(|t| *t == "ransomware" || *t == "security")
        );
        assert_eq!(canonical("adob"), None);
    }

    #[test]
    fn stop_words() {
        for w in [
            "please", "can", "you", "help", "me", "what", "how", "did", "we", "the", "last",
            "don't", "Don’t", "dont", "THE",
        ] {
            assert!(is_stop_word(w), "{w}");
        }
        // Words that name what a technician works on are searchable.
        for w in [
            "time", "issue", "problem", "week", "month", "year", "day", "new", "source", "access",
            "user",
        ] {
            assert!(!is_stop_word(w), "{w}");
        }
        for w in [
            "veeam",
            "backup",
            "dns",
            "exchange",
            "failed",
            "dataforth",
            "",
        ] {
            assert!(!is_stop_word(w), "{w}");
        }
        assert_eq!(
            keywords(
                "Hey, can you please help me: what did we do last time with the Veeam backup at Dataforth?"
            ),
            ["time", "veeam", "backup", "dataforth"]
        );
    }

    #[test]
    fn tokenize_like_full_text_search() {
        assert_eq!(
            tokenize("Hyper-V, C++ and Node.js on Zürich's NAS"),
            [
                "hyper", "v", "c", "and", "node", "js", "on", "zürich", "s", "nas"
            ]
        );
        assert!(tokenize("  ,.;  ").is_empty());
    }

    #[test]
    fn categories_and_relations() {
        assert_eq!(category("veeam"), Some(Category::Technology));
        assert_eq!(category("firewall"), Some(Category::Infrastructure));
        assert_eq!(category("outage"), Some(Category::Problem));
        assert_eq!(category("migrate"), Some(Category::Action));
        assert_eq!(category("nonsense-tag"), None);
        assert_eq!(parent("veeam"), Some("backup"));
        assert_eq!(parent("backup"), None);
        assert!(children("backup").contains(&"veeam"));
        assert!(aliases("m365").contains(&"office 365"));
        assert_eq!(Category::Problem.as_str(), "problem");
    }

    #[test]
    fn non_ascii_and_odd_input_do_not_panic() {
        let text = "Ärger mit dem DNS-Server — 😀 İstanbul ß 東京 Exchange ñ\u{0}\t\r\n+#++#";
        let tags = extract_tags(text, 10);
        has(&tags, &["dns", "exchange"]);
        let _ = canonical("😀");
        let _ = expand("İ");
        assert_eq!(canonical("+"), None);
    }

    #[test]
    fn vocabulary_is_consistent() {
        assert!(VOCABULARY.len() >= 300, "only {} terms", VOCABULARY.len());
        assert!(VOCABULARY.len() < usize::from(NONE));
        let mut owner: HashMap<String, &str> = HashMap::new();
        let mut problems = Vec::new();
        for term in VOCABULARY {
            let tag = term.tag;
            let kebab = !tag.is_empty()
                && !tag.starts_with('-')
                && !tag.ends_with('-')
                && !tag.contains("--")
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !kebab {
                problems.push(format!("tag {tag:?} is not kebab-case"));
            }
            for phrase in std::iter::once(&term.tag).chain(term.aliases) {
                let (key, words) = normalize_key(phrase);
                if key.is_empty() {
                    problems.push(format!("{tag}: alias {phrase:?} has no words"));
                }
                if words > MAX_WORDS || key.len() > KEY_MAX {
                    problems.push(format!("{tag}: alias {phrase:?} is longer than {MAX_WORDS} words or {KEY_MAX} bytes"));
                }
                if !phrase.is_ascii() {
                    problems.push(format!("{tag}: alias {phrase:?} is not ASCII"));
                }
                if key.bytes().all(|b| b.is_ascii_digit() || b == b' ') {
                    problems.push(format!("{tag}: alias {phrase:?} is only digits"));
                }
                if phrase.to_lowercase() != **phrase {
                    problems.push(format!("{tag}: alias {phrase:?} is not lower-case"));
                }
                if is_single_word(phrase) && is_stop_word(phrase) {
                    problems.push(format!("{tag}: alias {phrase:?} is a stop word"));
                }
                match owner.get(&key) {
                    Some(other) if *other != tag => {
                        problems.push(format!("{phrase:?} ({key:?}) claimed by {other} and {tag}"))
                    }
                    _ => {
                        owner.insert(key, tag);
                    }
                }
            }
            if !term.parent.is_empty() {
                match VOCABULARY.iter().find(|t| t.tag == term.parent) {
                    None => problems.push(format!("{tag}: parent {:?} is not a tag", term.parent)),
                    Some(_) if term.parent == tag => {
                        problems.push(format!("{tag} is its own parent"))
                    }
                    Some(_) => {}
                }
            }
        }
        for (i, term) in VOCABULARY.iter().enumerate() {
            // Every tag and alias resolves back to its own term.
            for phrase in std::iter::once(&term.tag).chain(term.aliases) {
                if canonical(phrase) != Some(term.tag) {
                    problems.push(format!(
                        "canonical({phrase:?}) = {:?}, want {}",
                        canonical(phrase),
                        term.tag
                    ));
                }
            }
            // No cycles: every chain ends within the depth extract_tags walks.
            let mut p = parent_of(i as u16);
            let mut depth = 0;
            while let Some(up) = p {
                depth += 1;
                if depth >= 8 {
                    problems.push(format!("{}: parent chain too deep or cyclic", term.tag));
                    break;
                }
                p = parent_of(up);
            }
            if !term.parent.is_empty()
                && parent_of(i as u16).map(|p| VOCABULARY[usize::from(p)].tag) != Some(term.parent)
            {
                problems.push(format!(
                    "{}: parent {:?} not resolved",
                    term.tag, term.parent
                ));
            }
        }
        assert!(
            problems.is_empty(),
            "{} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }

    #[test]
    fn stop_words_are_lower_case_and_not_vocabulary() {
        for w in STOP_WORDS {
            assert_eq!(w.to_lowercase(), *w);
            assert!(
                lookup_key(w).is_none() || !is_single_word(w),
                "stop word {w:?} is also an alias"
            );
            assert!(is_stop_word(w), "{w:?} missing from the stop table");
        }
    }

    #[test]
    fn table_shape() {
        let terms = KEYS.values().filter(|k| k.term != NONE).count();
        assert!(terms >= 3000, "{terms} keys with a term");
        // The build script and the test's own normaliser agree on every key.
        for term in VOCABULARY {
            for phrase in std::iter::once(&term.tag).chain(term.aliases) {
                let (key, ends) = normalize::normalize(phrase);
                assert_eq!(
                    (key.clone(), ends.len()),
                    normalize_key(phrase),
                    "{phrase:?}"
                );
                if (1..=MAX_WORDS).contains(&ends.len()) {
                    assert!(lookup_slot(&key).is_some(), "{key:?} missing");
                }
            }
        }
        assert_eq!(
            CHILD_LIST.len(),
            VOCABULARY.iter().filter(|t| !t.parent.is_empty()).count()
        );
    }
}
