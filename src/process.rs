//! Starting `msp` in the background from a hook or a command: detached (its
//! own process group, no stdin/stdout/stderr), never waited for.

use std::process::{Command, Stdio};

/// Starts the `msp` beside the running binary with `args`; returns its pid.
/// It outlives its parent and is reaped by init.
pub fn spawn_msp(args: &[&str]) -> std::io::Result<u32> {
    let exe = std::env::current_exe()?.with_file_name("msp");
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    Ok(cmd.spawn()?.id())
}
