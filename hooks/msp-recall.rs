//! Claude Code `UserPromptSubmit` / `SessionStart` hook: recalls memories.
fn main() {
    msp::claude::recall_main()
}
