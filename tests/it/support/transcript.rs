//! A Claude Code transcript under construction, line by line as Claude Code
//! 2.x writes it: every line has a fresh uuid, its parent's uuid, a
//! timestamp, the session and the cwd. One builder for the unit tests of the
//! transcript reader and the compressor (src/memory/transcript/mod.rs
//! includes this file) and for the integration tests.

#![allow(dead_code)]

use serde_json::{Value, json};

pub struct Lines {
    /// The transcript so far, one JSON line per record.
    pub text: String,
    pub session: String,
    pub cwd: String,
    /// What every uuid of this transcript starts with (24 characters), so
    /// two transcripts never share one.
    prefix: String,
    /// The hour of the first line's timestamp (2026-03-01).
    hour: u32,
    /// Lines so far.
    pub n: u32,
    /// Assistant messages so far.
    pub msg: u32,
}

impl Lines {
    pub fn new(session: &str, cwd: &str, prefix: &str, hour: u32) -> Lines {
        assert_eq!(prefix.len(), 24, "uuid prefixes are 24 characters");
        Lines {
            text: String::new(),
            session: session.to_string(),
            cwd: cwd.to_string(),
            prefix: prefix.to_string(),
            hour,
            n: 0,
            msg: 0,
        }
    }

    pub fn uuid(&self, n: u32) -> String {
        format!("{}{n:012}", self.prefix)
    }

    /// The fields every line has, for the next line of type `kind`.
    pub fn next(&mut self, kind: &str) -> Value {
        self.n += 1;
        let n = self.n;
        json!({
            "parentUuid": if n > 1 { Value::String(self.uuid(n - 1)) } else { Value::Null },
            "isSidechain": false, "userType": "external", "cwd": self.cwd,
            "sessionId": self.session, "version": "2.1.12", "gitBranch": "main",
            "type": kind, "uuid": self.uuid(n),
            "timestamp": format!("2026-03-01T{:02}:{:02}:{:02}.000Z", self.hour + n / 3600, (n / 60) % 60, n % 60),
        })
    }

    pub fn push(&mut self, v: Value) -> &mut Self {
        self.text.push_str(&v.to_string());
        self.text.push('\n');
        self
    }

    pub fn raw(&mut self, line: &str) -> &mut Self {
        self.text.push_str(line);
        self.text.push('\n');
        self
    }

    /// A user line: a typed prompt (a string) or tool results (an array).
    pub fn user(&mut self, content: Value) -> Value {
        let mut v = self.next("user");
        v["message"] = json!({"role": "user", "content": content});
        v
    }

    pub fn prompt(&mut self, text: &str) -> &mut Self {
        let v = self.user(json!(text));
        self.push(v)
    }

    /// Text Claude Code itself adds as the user (caveats, command output).
    pub fn meta(&mut self, text: &str) -> &mut Self {
        let mut v = self.user(json!([{"type": "text", "text": text}]));
        v["isMeta"] = json!(true);
        self.push(v)
    }

    /// An assistant line holding one content block.
    pub fn assistant(&mut self, block: Value) -> Value {
        self.msg += 1;
        let mut v = self.next("assistant");
        v["message"] = json!({
            "model": "claude-opus-4-6", "id": format!("msg_{:06}", self.msg), "type": "message",
            "role": "assistant", "content": [block], "stop_reason": null,
            "usage": {"input_tokens": 4, "output_tokens": 120},
        });
        v["requestId"] = json!(format!("req_{:06}", self.msg));
        v
    }

    pub fn say(&mut self, text: &str) -> &mut Self {
        let v = self.assistant(json!({"type": "text", "text": text}));
        self.push(v)
    }

    pub fn think(&mut self, text: &str) -> &mut Self {
        let v = self.assistant(
            json!({"type": "thinking", "thinking": text, "signature": "EqQBCkYIBhgCKkA"}),
        );
        self.push(v)
    }

    pub fn tool(&mut self, id: &str, name: &str, input: Value) -> &mut Self {
        let v = self.assistant(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
        self.push(v)
    }

    /// The user line that answers tool call `id`, with Claude Code's
    /// structured `toolUseResult` beside it.
    pub fn tool_result(
        &mut self,
        id: &str,
        content: Value,
        is_error: bool,
        structured: Value,
    ) -> Value {
        let mut v = self.user(json!([
            {"tool_use_id": id, "type": "tool_result", "content": content, "is_error": is_error}
        ]));
        v["toolUseResult"] = structured;
        v
    }

    pub fn result(
        &mut self,
        id: &str,
        content: Value,
        is_error: bool,
        structured: Value,
    ) -> &mut Self {
        let v = self.tool_result(id, content, is_error, structured);
        self.push(v)
    }

    /// A Bash call and its result; a non-zero `exit` is reported as Claude
    /// Code reports a failed command.
    pub fn bash(&mut self, id: &str, command: &str, output: &str, exit: i32) -> &mut Self {
        let input = json!({"command": command, "description": "Run command"});
        self.tool(id, "Bash", input);
        if exit == 0 {
            let structured =
                json!({"stdout": output, "stderr": "", "interrupted": false, "isImage": false});
            self.result(id, json!(output), false, structured)
        } else {
            let text = format!("Exit code {exit}\n{output}");
            let structured = json!(format!("Error: {text}"));
            self.result(id, json!(text), true, structured)
        }
    }

    pub fn write(&mut self, id: &str, path: &str, content: &str) -> &mut Self {
        self.tool(id, "Write", json!({"file_path": path, "content": content}));
        self.result(
            id,
            json!(format!("File created successfully at: {path}")),
            false,
            json!({"type": "create", "filePath": path, "content": content, "structuredPatch": []}),
        )
    }

    pub fn edit(&mut self, id: &str, path: &str, old: &str, new: &str) -> &mut Self {
        self.tool(
            id,
            "Edit",
            json!({"file_path": path, "old_string": old, "new_string": new, "replace_all": false}),
        );
        let snippet: String = new
            .lines()
            .enumerate()
            .map(|(i, l)| format!("{:>6}\t{l}\n", i + 40))
            .collect();
        self.result(
            id,
            json!(format!("The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n{snippet}")),
            false,
            json!({"filePath": path, "oldString": old, "newString": new, "originalFile": old,
                   "structuredPatch": [], "userModified": false, "replaceAll": false}),
        )
    }

    pub fn read(&mut self, id: &str, path: &str, content: &str) -> &mut Self {
        self.tool(id, "Read", json!({"file_path": path}));
        let numbered: String = content
            .lines()
            .enumerate()
            .map(|(i, l)| format!("{:>6}→{l}\n", i + 1))
            .collect();
        let lines = content.lines().count();
        self.result(
            id,
            json!(numbered),
            false,
            json!({"type": "text", "file": {"filePath": path, "content": content,
                   "numLines": lines, "startLine": 1, "totalLines": lines}}),
        )
    }

    /// A message typed while the agent worked.
    pub fn queued(&mut self, text: &str, mode: &str, origin: &str) -> &mut Self {
        let mut v = self.next("attachment");
        v["attachment"] = json!({"type": "queued_command", "prompt": text,
            "commandMode": mode, "origin": {"kind": origin}});
        self.push(v)
    }

    /// Context a UserPromptSubmit hook added (how msp's recall hook lands).
    pub fn hook_context(&mut self, content: &str) -> &mut Self {
        let mut v = self.next("attachment");
        v["attachment"] = json!({"type": "hook_additional_context", "content": [content],
            "hookName": "UserPromptSubmit", "toolUseID": "hook-1", "hookEvent": "UserPromptSubmit"});
        self.push(v)
    }
}
