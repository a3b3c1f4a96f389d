//! Claude Code `Stop` / `PreCompact` / `SessionEnd` hook: saves memories.
fn main() {
    msp::claude::save_main()
}
