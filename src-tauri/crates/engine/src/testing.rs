//! Test support: a loopback HTTP/1.1 file server that can misbehave on purpose (drop the connection midway,
//! answer an error status), standing in for GitHub or a model hub, which tests must not reach.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

#[derive(Debug, Clone, Copy)]
pub enum Behavior {
    /// Serve the body, honouring `Range: bytes=N-` with 206.
    Serve,
    /// Every response announces the full length, sends this many bytes, then closes the connection.
    DropAfter(usize),
    /// The first response drops after this many bytes; later ones serve (and honour Range).
    DropOnceAfter(usize),
    /// Answer this status with a short body.
    Status(u16),
}

pub struct FileServer {
    port: u16,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    pub fn start(body: Vec<u8>, behavior: Behavior) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let body = Arc::new(body);
        let (stop2, served2, requests2) = (stop.clone(), served.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let n = served2.fetch_add(1, Ordering::SeqCst);
                let (body, requests) = (body.clone(), requests2.clone());
                std::thread::spawn(move || {
                    let _ = handle(conn, &body, behavior, n, &requests);
                });
            }
        });
        FileServer { port, stop, served, requests, thread: Some(thread) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{}", self.port, path.trim_start_matches('/'))
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }

    /// The request heads received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wake the accept loop
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn handle(
    mut conn: TcpStream,
    body: &[u8],
    behavior: Behavior,
    n: usize,
    requests: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
    }
    if head.is_empty() {
        return Ok(()); // the wake-up connection from Drop
    }
    requests.lock().unwrap().push(head.clone());
    let range_start = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("range: bytes=").map(str::to_owned))
        .and_then(|r| r.trim().trim_end_matches('-').parse::<usize>().ok())
        .filter(|&s| s < body.len());
    let drop_after = match behavior {
        Behavior::Status(code) => {
            let msg = format!("status {code}\n");
            write!(
                conn,
                "HTTP/1.1 {code} Test\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n{msg}",
                msg.len()
            )?;
            return Ok(());
        }
        Behavior::Serve => None,
        Behavior::DropAfter(k) => Some(k),
        Behavior::DropOnceAfter(k) if n == 0 => Some(k),
        Behavior::DropOnceAfter(_) => None,
    };
    let (status, slice) = match range_start {
        Some(s) if drop_after.is_none() => ("206 Partial Content", &body[s..]),
        _ => ("200 OK", body),
    };
    let mut headers = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\nConnection: close\r\n",
        slice.len()
    );
    if let Some(s) = range_start.filter(|_| drop_after.is_none()) {
        headers.push_str(&format!("Content-Range: bytes {s}-{}/{}\r\n", body.len() - 1, body.len()));
    }
    headers.push_str("\r\n");
    conn.write_all(headers.as_bytes())?;
    match drop_after {
        Some(k) => {
            conn.write_all(&slice[..k.min(slice.len())])?;
            conn.flush()?;
            // Drain nothing, just cut the connection: the client sees a body shorter than Content-Length.
            conn.shutdown(Shutdown::Both)?;
        }
        None => {
            for chunk in slice.chunks(16 * 1024) {
                conn.write_all(chunk)?;
            }
        }
    }
    let _ = reader.read(&mut [0u8; 0]);
    Ok(())
}
