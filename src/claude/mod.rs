//! Claude Code integration: the hook wire format, the two hook programs, and
//! installing them into `settings.json`.

pub mod hooks;
pub mod settings;

use serde::Deserialize;

pub use hooks::{recall_main, save_main};

/// One hook event as Claude Code sends it on stdin. Every field is optional
/// and unknown fields are ignored: new fields and events appear often.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct HookInput {
    pub session_id: Option<String>,
    pub transcript_path: Option<String>,
    pub cwd: Option<String>,
    pub hook_event_name: Option<String>,
    pub prompt: Option<String>,
    pub source: Option<String>,
    pub last_assistant_message: Option<String>,
    pub reason: Option<String>,
    pub trigger: Option<String>,
}

/// The JSON a hook prints to add context to the conversation. A bare
/// top-level `additionalContext` is ignored by Claude Code.
pub fn context_output(event: &str, text: &str) -> String {
    serde_json::json!({
        "hookSpecificOutput": {"hookEventName": event, "additionalContext": text}
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_missing_fields_are_fine() {
        let i: HookInput = serde_json::from_str(
            r#"{"hook_event_name":"Stop","brand_new":{"x":1},"stop_hook_active":false}"#,
        )
        .unwrap();
        assert_eq!(i.hook_event_name.as_deref(), Some("Stop"));
        assert!(i.transcript_path.is_none());
    }

    #[test]
    fn output_has_the_documented_shape() {
        let v: serde_json::Value =
            serde_json::from_str(&context_output("UserPromptSubmit", "Known: x")).unwrap();
        assert_eq!(v["hookSpecificOutput"]["hookEventName"], "UserPromptSubmit");
        assert_eq!(v["hookSpecificOutput"]["additionalContext"], "Known: x");
    }
}
