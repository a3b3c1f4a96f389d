//! Starting `msp` in the background from a hook or a command: detached (its
//! own process group, no stdin/stdout/stderr; on Windows no console window and
//! out of the caller's job object where the job allows it), never waited for,
//! and at a lower priority than the technician's own work.

use std::process::{Command, Stdio};

/// Nice value of background work: the scheduler gives it about a tenth of a
/// core's time when a foreground process (the next hook) wants the core.
#[cfg(unix)]
const BACKGROUND_NICE: libc::c_int = 10;

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
            BELOW_NORMAL_PRIORITY_CLASS, CREATE_BREAKAWAY_FROM_JOB, CREATE_NEW_PROCESS_GROUP,
            CREATE_NO_WINDOW,
        };
        // Claude Code may run hooks in a job that ends with them; breaking
        // away keeps the sync alive. A job that forbids it refuses the spawn,
        // so try once more inside it.
        let base = CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW | BELOW_NORMAL_PRIORITY_CLASS;
        cmd.creation_flags(base | CREATE_BREAKAWAY_FROM_JOB);
        if let Ok(child) = cmd.spawn() {
            return Ok(child.id());
        }
        cmd.creation_flags(base);
    }
    let child = cmd.spawn()?.id();
    // Its own process group, so the whole group is lowered: every thread it
    // has, and (inherited) every thread it starts. Best effort: at the usual
    // priority it still works.
    #[cfg(unix)]
    // SAFETY: a plain system call on a process group this process created.
    unsafe {
        libc::setpriority(libc::PRIO_PGRP, child as libc::id_t, BACKGROUND_NICE);
    }
    Ok(child)
}
