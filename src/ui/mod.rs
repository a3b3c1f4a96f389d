//! `msp ui`: a local web console over the same library functions as the
//! command line. Server-rendered HTML (maud), a stylesheet and a small
//! script served by msp itself, charts as SVG made here.
//!
//! Access: it listens on 127.0.0.1 only. The URL it prints carries a random
//! per-launch token, exchanged for an HttpOnly, SameSite=Strict cookie;
//! every other request needs that cookie, and a Host header naming this
//! address (so a DNS-rebinding page gets nothing). A change is a POST with
//! the launch's CSRF token in the form, and an Origin (when the browser
//! sends one) of this address; `--read-only` refuses every change. No route
//! returns a vault value.

mod chart;
mod pages;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::config::{Config, Paths};
use crate::error::{Error, Result};

/// The cookie that carries the launch token.
const COOKIE: &str = "msp_ui";

/// How the console runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// 0: any free port.
    pub port: u16,
    pub read_only: bool,
    /// Stops after this long without a request.
    pub idle: Duration,
}

/// What every request shares.
pub(crate) struct Console {
    pub paths: Paths,
    pub config: Config,
    pub read_only: bool,
    token: String,
    pub csrf: String,
    port: u16,
    last_request: Mutex<Instant>,
}

impl Console {
    /// Opens the store for one request.
    pub async fn store(&self) -> Result<crate::store::Store> {
        crate::store::Store::open(&self.paths.db()).await
    }
}

/// A running console: its address, and the URL to open (with the token).
pub struct Running {
    pub addr: SocketAddr,
    pub url: String,
    listener: tokio::net::TcpListener,
    app: Router,
    console: Arc<Console>,
    idle: Duration,
}

fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::Other(format!("no randomness for the console token: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Binds 127.0.0.1 and builds the console; [`Running::serve`] runs it.
pub async fn bind(paths: Paths, config: Config, opts: Options) -> Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
        .await
        .map_err(|e| {
            Error::io(format!("cannot listen on 127.0.0.1:{}", opts.port), e)
                .with_hint("give another --port, or 0 for any free one")
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the console's address", e))?;
    let console = Arc::new(Console {
        paths,
        config,
        read_only: opts.read_only,
        token: random_hex()?,
        csrf: random_hex()?,
        port: addr.port(),
        last_request: Mutex::new(Instant::now()),
    });
    let url = format!("http://127.0.0.1:{}/?token={}", addr.port(), console.token);
    let app = router(Arc::clone(&console));
    Ok(Running {
        addr,
        url,
        listener,
        app,
        console,
        idle: opts.idle,
    })
}

impl Running {
    /// Serves until Ctrl-C or until no request came for the idle time.
    pub async fn serve(self) -> Result<()> {
        let console = Arc::clone(&self.console);
        let idle = self.idle;
        let stop = async move {
            let quiet = async {
                loop {
                    tokio::time::sleep(Duration::from_secs(1).min(idle)).await;
                    let last = *console.last_request.lock().expect("not poisoned");
                    if last.elapsed() >= idle {
                        break;
                    }
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = quiet => {},
            }
        };
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(stop)
            .await
            .map_err(|e| Error::io("serving the console", e))
    }
}

fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/memories", get(pages::memories))
        .route("/memories/{id}", get(pages::memory))
        .route("/memories/{id}/edit", post(pages::edit))
        .route("/memories/{id}/{action}", post(pages::change))
        .route("/claude", get(pages::claude))
        .route("/time", get(pages::time))
        .route("/time.csv", get(pages::time_csv))
        .route("/tasks", get(pages::tasks))
        .route("/tickets", get(pages::tickets))
        .route("/agent", get(pages::agent))
        .route("/vault", get(pages::vault))
        .route("/sync", get(pages::sync))
        .route("/doctor", get(pages::doctor))
        .route("/static/app.css", get(pages::css))
        .route("/static/app.js", get(pages::js))
        .layer(middleware::from_fn_with_state(Arc::clone(&console), guard))
        .with_state(console)
}

/// Compares two secrets in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, pages::plain_page("msp console", why)).into_response()
}

/// Host, token, cookie, CSRF and read-only checks, before any page.
async fn guard(State(c): State<Arc<Console>>, req: Request, next: Next) -> Response {
    *c.last_request.lock().expect("not poisoned") = Instant::now();
    let host_ok = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| {
            h == format!("127.0.0.1:{}", c.port) || h == format!("localhost:{}", c.port)
        });
    if !host_ok {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "This console answers only at the address msp printed.",
        );
    }
    // The printed URL: its token becomes the cookie.
    if req.uri().path() == "/"
        && let Some(given) = req
            .uri()
            .query()
            .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token"))
            .map(|(_, v)| v.into_owned())
    {
        if !same_secret(&given, &c.token) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "This token is not the one msp printed at launch.",
            );
        }
        let mut res = Redirect::to("/memories").into_response();
        let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", c.token);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().insert(header::SET_COOKIE, v);
        }
        return res;
    }
    if !cookie_token(req.headers()).is_some_and(|t| same_secret(t, &c.token)) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "Open the URL that `msp ui` printed (it holds this launch's token).",
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        if c.read_only {
            return refuse(
                StatusCode::FORBIDDEN,
                "This console is read-only (msp ui --read-only).",
            );
        }
        let origin_ok = match req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
        {
            None => true,
            Some(o) => {
                o == format!("http://127.0.0.1:{}", c.port)
                    || o == format!("http://localhost:{}", c.port)
            }
        };
        if !origin_ok {
            return refuse(
                StatusCode::FORBIDDEN,
                "A change must come from this console's own pages.",
            );
        }
        // The CSRF token is checked by each form's handler (it reads the
        // body); see `pages::Form`.
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
        assert!(same_secret("", ""));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; msp_ui=xyz; b=2"),
        );
        assert_eq!(cookie_token(&h), Some("xyz"));
        h.insert(header::COOKIE, HeaderValue::from_static("msp_uix=1"));
        assert_eq!(cookie_token(&h), None);
    }
}
