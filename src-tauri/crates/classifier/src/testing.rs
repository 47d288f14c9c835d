//! Test support: a loopback server speaking OpenAI's files and fine-tuning wire format (multipart upload,
//! jobs that move validating_files → running → succeeded over successive polls, events listed newest first,
//! cancel, error bodies, 429 with Retry-After) and answering chat/completions requests for the models it
//! "trained": a fine-tuned model answers a training prompt with its label (it memorised its file) and any
//! other prompt with its file's most common label, with top logprobs.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use complexitynet_providers::testing::{error_reply, read_request, send_reply, with_header, RecordedRequest, Reply};

pub const TEST_KEY: &str = "sk-test-finetune-0123456789";

#[derive(Default)]
struct State {
    files: HashMap<String, Vec<(String, String)>>,   // id -> (prompt, label)
    jobs: HashMap<String, (Value, Vec<Value>, u32)>, // id -> (job, events newest last, polls)
    models: HashMap<String, Vec<(String, String)>>,
    requests: Vec<RecordedRequest>,
    rate_limit_next_upload: bool,
    fail_jobs: bool,
}

pub struct FineTuneServer {
    port: u16,
    stop: Arc<AtomicBool>,
    state: Arc<Mutex<State>>,
    thread: Option<JoinHandle<()>>,
}

fn ok(body: Value) -> Reply {
    Reply::Json { status: 200, headers: Vec::new(), body: body.to_string() }
}

/// The file part of a multipart body and the boundary's other fields.
fn multipart(head: &str, body: &str) -> Option<(HashMap<String, String>, String)> {
    let ct = head.lines().find(|l| l.to_ascii_lowercase().starts_with("content-type:"))?;
    let boundary = ct.split("boundary=").nth(1)?.trim().trim_matches('"').to_owned();
    let mut fields = HashMap::new();
    let mut file = None;
    for part in body.split(&format!("--{boundary}")) {
        let Some((h, content)) = part.split_once("\r\n\r\n") else { continue };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let name = h.split("name=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("").to_owned();
        if h.contains("filename=") {
            file = Some(content.to_owned());
        } else {
            fields.insert(name, content.to_owned());
        }
    }
    Some((fields, file?))
}

/// Validates a training file as OpenAI does (JSON per line, the format's fields, at least 10 examples).
fn parse_training(file: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in file.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: invalid JSON: {e}", i + 1))?;
        let pair = if let Some(msgs) = v["messages"].as_array() {
            let user = msgs.iter().find(|m| m["role"] == "user").and_then(|m| m["content"].as_str());
            let asst = msgs.iter().find(|m| m["role"] == "assistant").and_then(|m| m["content"].as_str());
            user.zip(asst).map(|(u, a)| (u.to_owned(), a.trim().to_owned()))
        } else {
            let p = v["prompt"].as_str().map(|p| p.trim_end_matches("\n\nLevel:").to_owned());
            p.zip(v["completion"].as_str().map(|c| c.trim().to_owned()))
        };
        out.push(pair.ok_or_else(|| format!("line {}: missing user/assistant messages", i + 1))?);
    }
    if out.len() < 10 {
        return Err(format!("training file has {} example(s), but must have at least 10 examples", out.len()));
    }
    Ok(out)
}

fn answer(trained: &[(String, String)], prompt: &str) -> String {
    if let Some((_, l)) = trained.iter().find(|(p, _)| p.trim() == prompt.trim()) {
        return l.clone();
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (_, l) in trained {
        *counts.entry(l).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(l, c)| (*c, std::cmp::Reverse(*l))).map(|(l, _)| l.to_owned()).unwrap_or_default()
}

fn route(state: &Mutex<State>, req: &RecordedRequest) -> Reply {
    let first = req.head.lines().next().unwrap_or("");
    let mut parts = first.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    if req.header("authorization").as_deref() != Some(&format!("Bearer {TEST_KEY}")) {
        return error_reply(401, "invalid_api_key", "Incorrect API key provided.");
    }
    let mut s = state.lock().unwrap();
    let segs: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    match (method, segs.as_slice()) {
        ("POST", ["files"]) => {
            if std::mem::take(&mut s.rate_limit_next_upload) {
                return with_header(error_reply(429, "rate_limit_exceeded", "Rate limit reached"), "retry-after", "0");
            }
            let Some((fields, file)) = multipart(&req.head, &req.body) else {
                return error_reply(400, "invalid_request_error", "expected a multipart upload with a file");
            };
            if fields.get("purpose").map(String::as_str) != Some("fine-tune") {
                return error_reply(400, "invalid_request_error", "purpose must be fine-tune");
            }
            match parse_training(&file) {
                Err(m) => error_reply(400, "invalid_file_format", &m),
                Ok(rows) => {
                    let id = format!("file-{}", s.files.len() + 1);
                    s.files.insert(id.clone(), rows);
                    ok(json!({"object": "file", "id": id, "purpose": "fine-tune", "bytes": file.len(),
                        "created_at": 1_764_000_000, "filename": "train.jsonl", "status": "processed"}))
                }
            }
        }
        ("POST", ["fine_tuning", "jobs"]) => {
            let body = req.json();
            let file = body["training_file"].as_str().unwrap_or("");
            if !s.files.contains_key(file) {
                return error_reply(400, "invalid_request_error", &format!("invalid training_file: {file}"));
            }
            let Some(model) = body["model"].as_str() else {
                return error_reply(400, "invalid_request_error", "model is required");
            };
            let id = format!("ftjob-{}", s.jobs.len() + 1);
            let job = json!({"object": "fine_tuning.job", "id": id, "model": model, "status": "validating_files",
                "fine_tuned_model": null, "training_file": file, "suffix": body["suffix"], "error": null,
                "created_at": 1_764_000_000, "trained_tokens": null, "seed": body["seed"]});
            let ev = json!({"object": "fine_tuning.job.event", "id": format!("{id}-ev1"), "created_at": 1_764_000_000,
                "level": "info", "message": "Validating training file", "type": "message"});
            s.jobs.insert(id, (job.clone(), vec![ev], 0));
            ok(job)
        }
        ("GET", ["fine_tuning", "jobs", id]) => {
            let fail = s.fail_jobs;
            let files = s.files.clone();
            let Some((job, events, polls)) = s.jobs.get_mut(*id) else {
                return error_reply(404, "not_found", "No such job");
            };
            *polls += 1;
            // The first poll sees the job as created; each later one moves it a step on.
            let status = if *polls == 1 { String::new() } else { job["status"].as_str().unwrap_or("").to_owned() };
            let mut event = |msg: String| {
                let n = events.len() + 1;
                events.push(json!({"object": "fine_tuning.job.event", "id": format!("{id}-ev{n}"),
                    "created_at": 1_764_000_000 + n, "level": "info", "message": msg, "type": "message"}));
            };
            match status.as_str() {
                "validating_files" => {
                    job["status"] = "running".into();
                    event("Fine-tuning job started".into());
                }
                "running" if fail => {
                    job["status"] = "failed".into();
                    job["error"] = json!({"code": "invalid_training_file", "message": "Training file has too few examples per class", "param": null});
                    event("Job failed".into());
                }
                "running" => {
                    let model = format!(
                        "ft:{}:personal:{}:{}",
                        job["model"].as_str().unwrap_or(""),
                        job["suffix"].as_str().unwrap_or(""),
                        id
                    );
                    job["status"] = "succeeded".into();
                    job["fine_tuned_model"] = model.clone().into();
                    job["trained_tokens"] = 12_345.into();
                    event("Step 10/10: training loss=0.12".into());
                    event(format!("New fine-tuned model created: {model}"));
                    let rows = files.get(job["training_file"].as_str().unwrap_or("")).cloned().unwrap_or_default();
                    return {
                        let reply = ok(job.clone());
                        s.models.insert(model, rows);
                        reply
                    };
                }
                _ => {}
            }
            ok(job.clone())
        }
        ("GET", ["fine_tuning", "jobs", id, "events"]) => match s.jobs.get(*id) {
            None => error_reply(404, "not_found", "No such job"),
            Some((_, events, _)) => {
                let data: Vec<Value> = events.iter().rev().cloned().collect();
                ok(json!({"object": "list", "data": data, "has_more": false}))
            }
        },
        ("POST", ["fine_tuning", "jobs", id, "cancel"]) => match s.jobs.get_mut(*id) {
            None => error_reply(404, "not_found", "No such job"),
            Some((job, _, _)) => {
                if !matches!(job["status"].as_str(), Some("succeeded" | "failed")) {
                    job["status"] = "cancelled".into();
                }
                ok(job.clone())
            }
        },
        ("POST", ["chat", "completions"]) | ("POST", ["completions"]) => {
            let body = req.json();
            let model = body["model"].as_str().unwrap_or("");
            let Some(trained) = s.models.get(model) else {
                return error_reply(404, "model_not_found", &format!("The model `{model}` does not exist"));
            };
            let chat = segs == ["chat", "completions"];
            let prompt = if chat {
                body["messages"]
                    .as_array()
                    .and_then(|m| m.iter().find(|m| m["role"] == "user"))
                    .and_then(|m| m["content"].as_str())
                    .unwrap_or("")
                    .to_owned()
            } else {
                body["prompt"].as_str().unwrap_or("").trim_end_matches("\n\nLevel:").to_owned()
            };
            let label = answer(trained, &prompt);
            let others: Vec<String> =
                ["0", "1", "2", "3", "4", "5"].iter().filter(|l| **l != label).map(|l| l.to_string()).collect();
            if chat {
                let mut top = vec![json!({"token": label, "logprob": -0.05})];
                top.extend(
                    others.iter().take(4).enumerate().map(|(i, l)| json!({"token": l, "logprob": -3.0 - i as f64})),
                );
                ok(json!({"id": "chatcmpl-ft", "object": "chat.completion", "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": label},
                        "logprobs": {"content": [{"token": label, "logprob": -0.05, "top_logprobs": top}]},
                        "finish_reason": "length"}],
                    "usage": {"prompt_tokens": 40, "completion_tokens": 1, "total_tokens": 41}}))
            } else {
                let mut top = serde_json::Map::new();
                top.insert(format!(" {label}"), json!(-0.05));
                for (i, l) in others.iter().take(4).enumerate() {
                    top.insert(format!(" {l}"), json!(-3.0 - i as f64));
                }
                ok(json!({"id": "cmpl-ft", "object": "text_completion", "model": model,
                    "choices": [{"index": 0, "text": format!(" {label}"), "finish_reason": "length",
                        "logprobs": {"tokens": [format!(" {label}")], "token_logprobs": [-0.05], "top_logprobs": [top]}}],
                    "usage": {"prompt_tokens": 40, "completion_tokens": 1, "total_tokens": 41}}))
            }
        }
        _ => error_reply(404, "not_found", &format!("no route {method} {path}")),
    }
}

impl FineTuneServer {
    pub fn start() -> FineTuneServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(Mutex::new(State::default()));
        let (stop2, state2) = (stop.clone(), state.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (state, stop) = (state2.clone(), stop2.clone());
                std::thread::spawn(move || {
                    let Some(request) = read_request(&conn) else { return };
                    let reply = route(&state, &request);
                    state.lock().unwrap().requests.push(request);
                    let _ = send_reply(conn, reply, &stop);
                });
            }
        });
        FineTuneServer { port, stop, state, thread: Some(thread) }
    }

    /// The API base URL (…/v1).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The next upload gets a 429 with `Retry-After: 0`.
    pub fn rate_limit_next_upload(&self) {
        self.state.lock().unwrap().rate_limit_next_upload = true;
    }

    /// Running jobs fail instead of succeeding.
    pub fn fail_jobs(&self) {
        self.state.lock().unwrap().fail_jobs = true;
    }

    pub fn job_status(&self, id: &str) -> Option<String> {
        self.state.lock().unwrap().jobs.get(id).and_then(|(j, _, _)| j["status"].as_str().map(str::to_owned))
    }
}

impl Drop for FineTuneServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
