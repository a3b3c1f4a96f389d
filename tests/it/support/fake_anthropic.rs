//! A scripted stand-in for the Anthropic Messages API, for end-to-end tests
//! that drive the real Claude Code CLI (pointed here with `ANTHROPIC_BASE_URL`).
//! Standard library only: a `TcpListener` on 127.0.0.1 (free port), one
//! thread per connection, HTTP/1.1 with keep-alive.
//!
//! Every request is logged ([`FakeAnthropic::requests`]) as method, path and
//! JSON body, so a test can assert on exactly what Claude Code sent to the
//! model, e.g. that context injected by a `UserPromptSubmit` or `SessionStart`
//! hook reached it.
//!
//! Main-loop requests (those that carry a non-empty `tools` list) consume the
//! scripted [`Reply`]s in order; when the script runs out, and for side
//! requests without tools, the server answers with the script's default
//! text. `POST /v1/messages` answers as SSE when the body has
//! `"stream": true` and as one JSON message otherwise;
//! `POST /v1/messages/count_tokens` answers `{"input_tokens":100}`; any other
//! path or method gets a 404 error object. The SSE event sequence is
//! `message_start`, `content_block_start`, `content_block_delta`,
//! `content_block_stop`, `message_delta`, `message_stop`.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

/// Largest request body accepted (Claude Code's requests are ~50-200 KB).
const MAX_BODY: usize = 64 << 20;
/// An idle keep-alive connection is dropped after this long.
const IDLE: Duration = Duration::from_secs(60);

/// One scripted answer to a main-loop request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A `tool_use` block: Claude Code runs the tool for real, then asks again
    /// with the `tool_result`.
    ToolUse { name: String, input: Value },
    /// A text block with `stop_reason: end_turn`: the turn ends.
    Text(String),
}

impl Reply {
    /// `Bash` running `command`.
    pub fn bash(command: &str, description: &str) -> Reply {
        Reply::ToolUse {
            name: "Bash".into(),
            input: json!({"command": command, "description": description}),
        }
    }

    pub fn text(text: &str) -> Reply {
        Reply::Text(text.into())
    }
}

/// The responses of one server, in order, and the default text.
#[derive(Debug, Clone)]
pub struct Script {
    pub responses: Vec<Reply>,
    pub default: String,
}

impl Script {
    pub fn new(responses: Vec<Reply>) -> Script {
        Script {
            responses,
            default: "OK.".into(),
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path with query, e.g. `/v1/messages?beta=true`.
    pub path: String,
    /// The body parsed as JSON; `Null` for an empty body; `{"unparsed": text}`
    /// for a body that is not JSON.
    pub body: Value,
}

impl Request {
    /// Main-loop request: a messages call that offers tools.
    pub fn is_main_loop(&self) -> bool {
        self.body
            .get("tools")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
    }

    /// The body as JSON text (what went over the wire, modulo formatting).
    pub fn body_text(&self) -> String {
        self.body.to_string()
    }

    /// Every string in the body, concatenated with newlines: searching this
    /// finds text regardless of JSON escaping.
    pub fn all_text(&self) -> String {
        let mut out = String::new();
        collect_strings(&self.body, &mut out);
        out
    }
}

fn collect_strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

struct State {
    responses: Mutex<VecDeque<Reply>>,
    default: String,
    log: Mutex<Vec<Request>>,
    /// Also appended here, one JSON line per request, when set.
    log_file: Option<std::path::PathBuf>,
    tool_ids: AtomicU64,
    stopping: AtomicBool,
}

/// A running fake API; stops when dropped.
pub struct FakeAnthropic {
    addr: SocketAddr,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

impl FakeAnthropic {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start(script: Script) -> FakeAnthropic {
        Self::start_logging(script, None)
    }

    /// Like [`FakeAnthropic::start`], also appending each request to
    /// `log_file` as a JSON line `{"method","path","body"}`.
    pub fn start_logging(script: Script, log_file: Option<std::path::PathBuf>) -> FakeAnthropic {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            responses: Mutex::new(script.responses.into()),
            default: script.default,
            log: Mutex::new(Vec::new()),
            log_file,
            tool_ids: AtomicU64::new(1),
            stopping: AtomicBool::new(false),
        });
        let st = Arc::clone(&state);
        let accept = std::thread::Builder::new()
            .name(format!("fake-anthropic-{}", addr.port()))
            .spawn(move || {
                for conn in listener.incoming() {
                    if st.stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = conn else { continue };
                    let st = Arc::clone(&st);
                    let _ = std::thread::Builder::new()
                        .name("fake-anthropic-conn".into())
                        .spawn(move || serve(stream, &st));
                }
            })
            .expect("spawn accept thread");
        FakeAnthropic {
            addr,
            state,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The value for `ANTHROPIC_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.state.log.lock().unwrap().clone()
    }

    /// Scripted replies not used yet.
    pub fn unused_replies(&self) -> usize {
        self.state.responses.lock().unwrap().len()
    }
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        self.state.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// One parsed HTTP request.
struct Http {
    method: String,
    path: String,
    body: Vec<u8>,
    close: bool,
}

/// Reads one request; `Ok(None)` when the peer closed the connection cleanly.
fn read_request(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Http>> {
    let mut line = String::new();
    // Tolerate stray empty lines between requests.
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or("/").to_string();
    let version = parts.next().unwrap_or("HTTP/1.1").to_string();
    let mut length: usize = 0;
    let mut chunked = false;
    let mut close = version == "HTTP/1.0";
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let Some((name, value)) = l.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => {
                length = value.parse().map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "bad content-length")
                })?
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    close = true;
                } else if v.contains("keep-alive") {
                    close = false;
                }
            }
            _ => {}
        }
    }
    let body = if chunked {
        read_chunked(r)?
    } else {
        if length > MAX_BODY {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "body too large",
            ));
        }
        let mut body = vec![0; length];
        r.read_exact(&mut body)?;
        body
    };
    Ok(Some(Http {
        method,
        path,
        body,
        close,
    }))
}

fn read_chunked(r: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let size_text = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                line.clear();
                if r.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "body too large",
            ));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        line.clear();
        r.read_line(&mut line)?; // CRLF after the chunk
    }
}

fn serve(stream: TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        if state.stopping.load(Ordering::SeqCst) {
            break;
        }
        let req = match read_request(&mut reader) {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => break,
        };
        let (status, content_type, payload) = respond(&req, state);
        let reason = match status {
            200 => "OK",
            404 => "Not Found",
            _ => "Error",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: {}\r\n\r\n",
            payload.len(),
            if req.close { "close" } else { "keep-alive" }
        );
        if out
            .write_all(head.as_bytes())
            .and_then(|_| out.write_all(&payload))
            .and_then(|_| out.flush())
            .is_err()
            || req.close
        {
            break;
        }
    }
    let _ = out.shutdown(Shutdown::Both);
}

fn not_found() -> (u16, &'static str, Vec<u8>) {
    (
        404,
        "application/json",
        json!({"type": "error", "error": {"type": "not_found_error", "message": "not here"}})
            .to_string()
            .into_bytes(),
    )
}

/// Logs the request and builds the answer: (status, content type, body).
fn respond(req: &Http, state: &State) -> (u16, &'static str, Vec<u8>) {
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&req.body).unwrap_or_else(
            |_| json!({"unparsed": String::from_utf8_lossy(&req.body).into_owned()}),
        )
    };
    let logged = Request {
        method: req.method.clone(),
        path: req.path.clone(),
        body,
    };
    if let Some(file) = &state.log_file {
        let line = json!({"method": logged.method, "path": logged.path, "body": logged.body});
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
        {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    }
    state.log.lock().unwrap().push(logged.clone());
    let body = logged.body;

    if req.method != "POST" || !req.path.starts_with("/v1/messages") {
        return not_found();
    }
    if req.path.contains("count_tokens") {
        return (
            200,
            "application/json",
            json!({"input_tokens": 100}).to_string().into_bytes(),
        );
    }
    let main_loop = body
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty());
    let reply = if main_loop {
        state.responses.lock().unwrap().pop_front()
    } else {
        None
    }
    .unwrap_or_else(|| Reply::Text(state.default.clone()));
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude-test");

    let (block, delta, full, stop) = match &reply {
        Reply::ToolUse { name, input } => {
            let id = format!(
                "toolu_{:016x}",
                state.tool_ids.fetch_add(1, Ordering::SeqCst)
            );
            (
                json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                json!({"type": "input_json_delta", "partial_json": input.to_string()}),
                json!({"type": "tool_use", "id": id, "name": name, "input": input}),
                "tool_use",
            )
        }
        Reply::Text(text) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": text}),
            json!({"type": "text", "text": text}),
            "end_turn",
        ),
    };
    let mut message = json!({
        "id": "msg_test", "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 1},
    });
    if body.get("stream").and_then(Value::as_bool) != Some(true) {
        message["content"] = json!([full]);
        message["stop_reason"] = json!(stop);
        return (200, "application/json", message.to_string().into_bytes());
    }
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": message}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": block}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
                   "usage": {"output_tokens": 5}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    let sse: String = events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect();
    (200, "text/event-stream", sse.into_bytes())
}
