//! A real `cargo roda dev` process on an ephemeral loopback port.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running dev server; killed when dropped.
pub struct DevServer {
    pub child: Child,
    pub url: String,
    /// The lines it prints on stderr after its address.
    stderr: std::sync::mpsc::Receiver<String>,
}

impl DevServer {
    /// Starts `cargo roda dev --listen 127.0.0.1:0 EXTRA...` (EXTRA may name
    /// another `--listen`) and waits for its address.
    pub fn start(extra: &[&str]) -> DevServer {
        DevServer::try_start(extra, &[]).unwrap_or_else(|stderr| panic!("dev server did not start:\n{stderr}"))
    }

    /// Like `start`, with environment variables; `Err(stderr)` if it exits instead.
    pub fn try_start(extra: &[&str], env: &[(&str, &str)]) -> Result<DevServer, String> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-roda"));
        command.args(["roda", "dev"]);
        if !extra.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command.args(extra);
        for (k, v) in env {
            command.env(k, v);
        }
        DevServer::spawn(command)
    }

    /// Runs `command`, which must start `cargo roda dev`, and waits for the
    /// address it prints; `Err(stderr)` if it exits instead.
    pub fn spawn(mut command: Command) -> Result<DevServer, String> {
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn cargo-roda dev");
        let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
        // What it prints before it listens (a fork's progress) comes first.
        let mut before = String::new();
        let url = loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).expect("read stderr") == 0 {
                let _ = child.wait();
                return Err(before);
            }
            if let Some(url) = line.trim().strip_prefix("cargo roda dev: listening on ") {
                break url.to_owned();
            }
            before.push_str(&line);
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        let (lines, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        Ok(DevServer { child, url, stderr: received })
    }

    /// Blocks until the server prints a line containing `needle` on stderr;
    /// returns it. Panics if the server exits first.
    pub fn wait_for_stderr(&self, needle: &str) -> String {
        loop {
            match self.stderr.recv() {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("the server closed stderr before printing `{needle}`"),
            }
        }
    }

    /// SIGTERM, then wait: the server must stop by itself.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.terminate()
    }

    /// Like `stop`, also returning what it printed on stderr after its address.
    pub fn stop_with_stderr(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let status = self.terminate();
        (status, self.stderr.iter().collect())
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.child.wait().expect("wait for the server")
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `cargo roda ARGS` against `url` from `dir`.
pub fn against(dir: &Path, url: &str, args: &[&str]) -> super::Run {
    super::finish(super::command(dir, args).env("RODA_SERVER", url).output().expect("run cargo-roda"))
}
