//! Hidden prompts on the terminal.
//!
//! `rpassword` prints the prompt before it turns echo off, so an answer
//! typed ahead (or pasted the instant the prompt shows) is echoed in clear.
//! Echo goes off here first, then the prompt is shown.

/// Shows `label` and reads one line without echo.
pub fn prompt_hidden(label: &str) -> std::io::Result<String> {
    let _quiet = EchoOff::on_tty();
    rpassword::prompt_password(label)
}

/// Turns echo off on the controlling terminal until dropped.
struct EchoOff {
    #[cfg(unix)]
    saved: Option<(std::fs::File, rustix::termios::Termios)>,
}

impl EchoOff {
    #[cfg(unix)]
    fn on_tty() -> Self {
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let saved = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()
            .and_then(|tty| {
                let saved = tcgetattr(&tty).ok()?;
                let mut quiet = saved.clone();
                quiet.local_modes -= LocalModes::ECHO | LocalModes::ECHONL;
                tcsetattr(&tty, OptionalActions::Now, &quiet).ok()?;
                Some((tty, saved))
            });
        EchoOff { saved }
    }

    #[cfg(not(unix))]
    fn on_tty() -> Self {
        // The Windows console echoes at read time, in the mode rpassword
        // sets, so typed-ahead input is not shown.
        EchoOff {}
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some((tty, saved)) = &self.saved {
            let _ = rustix::termios::tcsetattr(tty, rustix::termios::OptionalActions::Now, saved);
        }
    }
}
