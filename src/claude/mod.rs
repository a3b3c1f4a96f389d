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

/// A hook event, parsed in one place from `hook_event_name`. The events
/// msp acts on are named; any other (Claude Code adds new ones) is `Other`
/// and is ignored, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    UserPromptSubmit,
    SessionStart,
    Stop,
    PreCompact,
    SessionEnd,
    Other(String),
    /// The input named no event.
    Missing,
}

impl Event {
    pub fn parse(name: Option<&str>) -> Event {
        match name {
            None => Event::Missing,
            Some("UserPromptSubmit") => Event::UserPromptSubmit,
            Some("SessionStart") => Event::SessionStart,
            Some("Stop") => Event::Stop,
            Some("PreCompact") => Event::PreCompact,
            Some("SessionEnd") => Event::SessionEnd,
            Some(other) => Event::Other(other.to_owned()),
        }
    }

    /// The wire name (for the hook's answer and the log line).
    pub fn name(&self) -> &str {
        match self {
            Event::UserPromptSubmit => "UserPromptSubmit",
            Event::SessionStart => "SessionStart",
            Event::Stop => "Stop",
            Event::PreCompact => "PreCompact",
            Event::SessionEnd => "SessionEnd",
            Event::Other(name) => name,
            Event::Missing => "(no event name)",
        }
    }
}

impl HookInput {
    pub fn event(&self) -> Event {
        Event::parse(self.hook_event_name.as_deref())
    }
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
    fn events_are_parsed_once_and_new_ones_are_other() {
        let name = |e: &str| {
            serde_json::from_str::<HookInput>(&format!(r#"{{"hook_event_name":"{e}"}}"#))
                .unwrap()
                .event()
        };
        assert_eq!(name("Stop"), Event::Stop);
        assert_eq!(name("SessionEnd"), Event::SessionEnd);
        assert_eq!(name("Notification"), Event::Other("Notification".into()));
        assert_eq!(name("Notification").name(), "Notification");
        assert_eq!(HookInput::default().event(), Event::Missing);
    }

    #[test]
    fn output_has_the_documented_shape() {
        let v: serde_json::Value =
            serde_json::from_str(&context_output("UserPromptSubmit", "Known: x")).unwrap();
        assert_eq!(v["hookSpecificOutput"]["hookEventName"], "UserPromptSubmit");
        assert_eq!(v["hookSpecificOutput"]["additionalContext"], "Known: x");
    }
}
