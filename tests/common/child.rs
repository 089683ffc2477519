//! A child process whose stdout lines arrive on a channel, killed when
//! dropped. Standalone: include it with `#[path = "common/child.rs"] mod child;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// A running child process.
pub struct Running {
    pub child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    deadline: Duration,
}

impl Running {
    /// Starts `command` with stdout piped (and stdin piped too), each line
    /// waited for at most `deadline`.
    pub fn start(mut command: Command, deadline: Duration) -> Running {
        let mut child =
            command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("the child starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Running { child, stdin, lines, deadline }
    }

    /// The next line that `wanted` accepts (others are skipped).
    pub fn next_line(&self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let line = self.lines.recv_timeout(self.deadline).expect("the child prints in time");
            if wanted(&line) {
                return line;
            }
        }
    }

    /// The next line containing `words`.
    pub fn line_with(&self, words: &str) -> String {
        self.next_line(|line| line.contains(words))
    }

    /// Writes one line to the child's stdin.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("the child reads");
        stdin.flush().expect("flushed");
    }

    /// Kills it with SIGKILL and reaps it.
    pub fn sigkill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
