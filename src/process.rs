//! Starting `msp` in the background from a hook or a command: detached (its
//! own process group, no stdin/stdout/stderr; on Windows no console window and
//! out of the caller's job object where the job allows it), never waited for.

use std::process::{Command, Stdio};

/// Starts the `msp` beside the running binary with `args`; returns its pid.
/// It outlives its parent and is reaped by init.
pub fn spawn_msp(args: &[&str]) -> std::io::Result<u32> {
    let exe =
        std::env::current_exe()?.with_file_name(format!("msp{}", std::env::consts::EXE_SUFFIX));
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
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        use windows_sys::Win32::System::Threading::{
            CREATE_BREAKAWAY_FROM_JOB, CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW,
        };
        // Claude Code may run hooks in a job that ends with them; breaking
        // away keeps the sync alive. A job that forbids it refuses the spawn,
        // so try once more inside it.
        let base = CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW;
        cmd.creation_flags(base | CREATE_BREAKAWAY_FROM_JOB);
        if let Ok(child) = cmd.spawn() {
            return Ok(child.id());
        }
        cmd.creation_flags(base);
    }
    Ok(cmd.spawn()?.id())
}
