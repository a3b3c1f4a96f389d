//! A throwaway PostgreSQL cluster for tests and benchmarks: initdb into a
//! temp dir owned by an unprivileged user, a free port on 127.0.0.1, started
//! with pg_ctl, stopped and removed when the guard drops (also when a test
//! fails). One database per test keeps them independent.
//!
//! Fails loudly, never skips: without PostgreSQL the sync tests cannot
//! prove anything (`./test.sh` installs it when it is missing).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Cluster {
    dir: PathBuf,
    pg_ctl: PathBuf,
    bin: PathBuf,
    pub port: u16,
    as_user: Option<String>,
    next_db: AtomicU32,
}

fn find_bin(name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let p = d.join(name);
            if p.is_file() {
                // Debian's /usr/bin wrappers are fine for psql, but initdb and
                // pg_ctl must be the real ones: prefer the versioned dir.
                if name == "psql" {
                    return Some(p);
                }
                let real = p.canonicalize().unwrap_or(p.clone());
                if real
                    .parent()
                    .and_then(|d| d.join("postgres").is_file().then_some(()))
                    .is_some()
                {
                    return Some(real);
                }
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().unwrap().port()
}

fn run(cmd: Command, what: &str) {
    if let Err(why) = try_run(cmd, what) {
        panic!(
            "{why}\nhint: ./test.sh installs PostgreSQL (apt-get install -y postgresql); initdb must run as a non-root user (postgres)"
        );
    }
}

fn try_run(mut cmd: Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("PostgreSQL for the sync tests: cannot run {what}: {e}"));
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "PostgreSQL for the sync tests: {what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

impl Cluster {
    /// Starts a cluster, or panics with what is missing.
    pub fn start() -> Cluster {
        let initdb = find_bin("initdb").expect(
            "PostgreSQL for the sync tests: no initdb in PATH or /usr/lib/postgresql/*/bin\nhint: run ./test.sh (it installs the postgresql package) or apt-get install -y postgresql",
        );
        let bin = initdb.parent().unwrap().to_path_buf();
        let pg_ctl = bin.join("pg_ctl");
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let as_user = is_root.then(|| "postgres".to_string());
        let base =
            std::env::temp_dir().join(format!("msp-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&base).unwrap();
        let dir = base.join("data");
        if let Some(user) = &as_user {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args([user, base.to_str().unwrap()]);
                    c
                },
                "chown of the cluster dir to postgres",
            );
        }
        let mut cluster = Cluster {
            dir: dir.clone(),
            pg_ctl,
            bin,
            port: 0,
            as_user,
            next_db: AtomicU32::new(0),
        };
        let mut init = cluster.cmd(&initdb);
        init.args([
            "-D",
            dir.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "msp",
            "--no-sync",
        ]);
        run(init, "initdb");
        // The free port is free when asked, not when the server binds it:
        // a test running beside may take it first. Another port then.
        let log = base.join("log");
        for attempt in 1..=3 {
            cluster.port = free_port();
            let mut start = cluster.cmd(&cluster.pg_ctl);
            start.args([
                "-D",
                dir.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &format!(
                    "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                    cluster.port,
                    dir.display()
                ),
                "-w",
                "start",
            ]);
            match try_run(start, "pg_ctl start") {
                Ok(()) => return cluster,
                Err(why) => {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    assert!(attempt < 3, "{why}\nserver log:\n{log}");
                    eprintln!("pg: start on port {} failed, again:\n{log}", cluster.port);
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    fn cmd(&self, exe: &Path) -> Command {
        match &self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    pub fn psql_path(&self) -> PathBuf {
        self.bin.join("psql")
    }

    /// Runs SQL in `db` (as the cluster's superuser) and returns stdout.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.psql_path())
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "msp",
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A fresh, empty database; returns its URL.
    pub fn new_db(&self, label: &str) -> (String, String) {
        let n = self.next_db.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{n}_{label}");
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        (name.clone(), self.url(&name))
    }

    /// A login role that must give its password (scram), where every other
    /// role is trusted: a connection without the password is refused. Its
    /// `pg_hba.conf` line goes first, then the configuration is reloaded.
    pub fn password_role(&self, role: &str, password: &str) {
        self.psql(
            "postgres",
            &format!("CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{password}'"),
        );
        let hba = self.dir.join("pg_hba.conf");
        let old = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
        std::fs::write(
            &hba,
            format!(
                "host all {role} 127.0.0.1/32 scram-sha-256\nlocal all {role} scram-sha-256\n{old}"
            ),
        )
        .expect("write pg_hba.conf");
        self.psql("postgres", "SELECT pg_reload_conf()");
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://msp:pw-not-needed@127.0.0.1:{}/{db}", self.port)
    }

    /// For a cluster kept in a `static` (statics are never dropped): a
    /// watchdog process stops it and removes its directory as soon as this
    /// process is gone, however the test binary ends.
    // The watchdog must outlive this process: it is never waited for.
    #[allow(clippy::zombie_processes)]
    pub fn stop_when_process_exits(&self) {
        let base = self.dir.parent().unwrap();
        let stop = match &self.as_user {
            Some(u) => format!("runuser -u {u} -- "),
            None => String::new(),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; {stop}'{pg_ctl}' -D '{dir}' -m immediate -w stop; rm -rf '{base}'",
            pid = std::process::id(),
            pg_ctl = self.pg_ctl.display(),
            dir = self.dir.display(),
            base = base.display()
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        cmd.spawn().expect("start the cluster's watchdog");
    }

    /// Stops the server now (for tests of an unreachable server).
    pub fn stop(&self) {
        let mut stop = self.cmd(&self.pg_ctl);
        stop.args([
            "-D",
            self.dir.to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
        let _ = stop.output();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        if let Some(base) = self.dir.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}
