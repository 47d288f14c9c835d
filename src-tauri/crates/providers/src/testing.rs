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

// ---------------------------------------------------------------------------------------------------------
// A stand-in for paid cloud APIs: it speaks OpenAI Chat Completions and Anthropic Messages on the wire (JSON,
// SSE split across packets, error bodies, 429 with Retry-After, stalls, resets), one scripted reply per request.

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response with a body.
    Json { status: u16, headers: Vec<(String, String)>, body: String },
    /// An SSE stream: `body` written `chunk` bytes at a time (separate TCP writes), optionally stalling forever
    /// after `stall_after` bytes.
    Sse { body: String, chunk: usize, stall_after: Option<usize> },
    /// Read the request, then close the connection without answering.
    Reset,
    /// Answer `inner` after a pause (for concurrency tests).
    Delayed(std::time::Duration, Box<Reply>),
}

#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub head: String,
    pub body: String,
}

impl RecordedRequest {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

pub struct ChatServer {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    max_in_flight: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl ChatServer {
    /// Serves `replies` in order, one per request; after they run out, every request gets a 500.
    pub fn start(replies: Vec<Reply>) -> ChatServer {
        let queue = Mutex::new(std::collections::VecDeque::from(replies));
        ChatServer::answering(move |_| {
            queue
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| error_reply(500, "server_error", "no more scripted replies"))
        })
    }

    /// Answers each request with what `answer` makes of it (by its model, its prompt: a tier that is right on
    /// some tasks and wrong on others, whatever order concurrent requests arrive in).
    pub fn answering(answer: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static) -> ChatServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let queue = Arc::new(answer);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let (stop2, req2, max2) = (stop.clone(), requests.clone(), max_in_flight.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (queue, req, stop, in_flight, max) =
                    (queue.clone(), req2.clone(), stop2.clone(), in_flight.clone(), max2.clone());
                std::thread::spawn(move || {
                    let Some(request) = read_request(&conn) else { return };
                    let reply = queue(&request);
                    req.lock().unwrap().push(request);
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    let _ = send_reply(conn, reply, &stop);
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        ChatServer { port, stop, requests, max_in_flight, thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for ChatServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one HTTP/1.1 request (head and Content-Length body).
pub fn read_request(conn: &TcpStream) -> Option<RecordedRequest> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
    }
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(RecordedRequest { head, body: String::from_utf8_lossy(&body).into_owned() })
}

/// Writes a scripted reply.
pub fn send_reply(mut conn: TcpStream, reply: Reply, stop: &AtomicBool) -> std::io::Result<()> {
    match reply {
        Reply::Delayed(d, inner) => {
            std::thread::sleep(d);
            send_reply(conn, *inner, stop)
        }
        Reply::Reset => conn.shutdown(Shutdown::Both),
        Reply::Json { status, headers, body } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            conn.write_all(head.as_bytes())?;
            conn.write_all(body.as_bytes())
        }
        Reply::Sse { body, chunk, stall_after } => {
            conn.set_nodelay(true)?;
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n")?;
            let bytes = body.as_bytes();
            let limit = stall_after.unwrap_or(bytes.len()).min(bytes.len());
            for piece in bytes[..limit].chunks(chunk.max(1)) {
                conn.write_all(piece)?;
                conn.flush()?;
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            if stall_after.is_some() {
                // Hold the connection open and silent until the client gives up (or the server stops).
                for _ in 0..3000 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    if conn.peek(&mut [0u8; 1]).is_ok_and(|n| n == 0) {
                        break; // the client closed its side
                    }
                }
            }
            Ok(())
        }
    }
}

/// An OpenAI-style error body with that status.
pub fn error_reply(status: u16, code: &str, message: &str) -> Reply {
    let body =
        serde_json::json!({"error": {"message": message, "type": code, "param": null, "code": code}}).to_string();
    Reply::Json { status, headers: Vec::new(), body }
}

pub fn with_header(reply: Reply, k: &str, v: &str) -> Reply {
    match reply {
        Reply::Json { status, mut headers, body } => {
            headers.push((k.to_owned(), v.to_owned()));
            Reply::Json { status, headers, body }
        }
        other => other,
    }
}

pub fn openai_json(text: &str, prompt_tokens: u32, completion_tokens: u32) -> Reply {
    let body = serde_json::json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
    });
    Reply::Json { status: 200, headers: Vec::new(), body: body.to_string() }
}

/// An OpenAI chat.completion.chunk stream: a role chunk, one chunk per piece, a finish chunk, the usage chunk
/// (when `usage` is given) and `[DONE]` (when `done`).
pub fn openai_sse(pieces: &[&str], usage: Option<(u32, u32)>, done: bool) -> String {
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        format!(
            "data: {}\n\n",
            serde_json::json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "test-model",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    let mut s = chunk(serde_json::json!({"role": "assistant", "content": ""}), serde_json::Value::Null);
    for p in pieces {
        s.push_str(&chunk(serde_json::json!({"content": p}), serde_json::Value::Null));
    }
    s.push_str(&chunk(serde_json::json!({}), serde_json::json!("stop")));
    if let Some((p, c)) = usage {
        s.push_str(&format!(
            "data: {}\n\n",
            serde_json::json!({"id": "c", "object": "chat.completion.chunk", "model": "test-model", "choices": [],
                "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}})
        ));
    }
    if done {
        s.push_str("data: [DONE]\n\n");
    }
    s
}

pub fn anthropic_json(text: &str, input_tokens: u32, output_tokens: u32) -> Reply {
    let body = serde_json::json!({
        "id": "msg_test", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}
    });
    Reply::Json { status: 200, headers: Vec::new(), body: body.to_string() }
}

/// An Anthropic Messages stream with named events, a ping, and usage in message_start / message_delta.
pub fn anthropic_sse(pieces: &[&str], input_tokens: u32, output_tokens: u32) -> String {
    let ev = |name: &str, data: serde_json::Value| format!("event: {name}\ndata: {data}\n\n");
    let mut s = ev(
        "message_start",
        serde_json::json!({"type": "message_start", "message": {"id": "msg_test", "type": "message",
        "role": "assistant", "model": "claude-test", "content": [], "stop_reason": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}),
    );
    s.push_str(&ev(
        "content_block_start",
        serde_json::json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ));
    s.push_str(&ev("ping", serde_json::json!({"type": "ping"})));
    for p in pieces {
        s.push_str(&ev(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}),
        ));
    }
    s.push_str(&ev("content_block_stop", serde_json::json!({"type": "content_block_stop", "index": 0})));
    s.push_str(&ev(
        "message_delta",
        serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
        "usage": {"output_tokens": output_tokens}}),
    ));
    s.push_str(&ev("message_stop", serde_json::json!({"type": "message_stop"})));
    s
}
