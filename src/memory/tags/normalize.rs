//! Key form of a vocabulary phrase, shared by the build script (which builds
//! the tables) and the library (which checks them): tokens of ASCII letters
//! and digits, lower-cased, joined by single spaces, with `+`, `#` or `++`
//! kept right after a token, exactly like the runtime tokenizer.

/// The key and the byte end of each of its tokens.
pub fn normalize(phrase: &str) -> (String, Vec<usize>) {
    let s = phrase.as_bytes();
    let mut key = String::with_capacity(s.len());
    let mut ends = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if !s[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        if !ends.is_empty() {
            key.push(' ');
        }
        while i < s.len() && s[i].is_ascii_alphanumeric() {
            key.push(char::from(s[i].to_ascii_lowercase()));
            i += 1;
        }
        if i < s.len() && (s[i] == b'+' || s[i] == b'#') {
            key.push(char::from(s[i]));
            if s[i] == b'+' && s.get(i + 1) == Some(&b'+') {
                key.push('+');
                i += 1;
            }
            i += 1;
        }
        ends.push(key.len());
    }
    (key, ends)
}
