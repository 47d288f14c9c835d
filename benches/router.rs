//! What routing costs in the server, in one run: the same tier called through `complexitynet serve` as model
//! `auto` (classify + route, every prompt sent to that tier by the map) and by its name (no classifier), over
//! loopback against a fast OpenAI-wire tier; then requests per second with 16 concurrent clients.
//! Goal: the router adds ≤ 3 ms at p50 (the shipped per-tier pass classifier needs no encoder).
//!
//! Run: `cargo bench --bench router` (MBPP prompts from ../shared/data).

use std::sync::Arc;
use std::time::Instant;

use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::App;
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::tiers::{self as table, ProviderKind, TierUpdate};
use complexitynet_providers::keys::MemoryStore;
use complexitynet_providers::testing::{openai_json, ChatServer};
use complexitynet_verify::testing::shared_data;

const N: usize = 300;

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let prompts: Vec<String> = std::fs::read_to_string(shared_data().join("mbpp.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_owned())
        .collect();
    let upstream =
        ChatServer::start((0..(2 * N + 2 * 400 + 50)).map(|_| openai_json("def f(): pass", 20, 5)).collect());
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::at(dir.path());
    {
        let store = complexitynet_engine::open(&data.database()).unwrap();
        let base = format!("{}/v1", upstream.url());
        table::set_provider(&store, "fast", Some(ProviderKind::Openai), Some(&base), Some(64), None).unwrap();
        table::set_tier(
            &store,
            "mid",
            TierUpdate { provider: Some("fast"), model: Some("fast-model"), ..Default::default() },
        )
        .unwrap();
    }
    // Every level to L2 (the fast tier): `auto` and `mid` reach the same upstream; the difference is the router.
    let route = RouteOverrides { map: Some("0-2:2".into()), ..Default::default() };
    let app = Arc::new(App::open(data, Arc::new(MemoryStore::default())));
    app.routing(&route).unwrap();
    let config = complexitynet_app::server::ServerConfig { api_key: None, route, settings: Default::default() };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}/v1/chat/completions");
    rt.spawn(async move { axum::serve(listener, complexitynet_app::server::router(app, config, addr.port())).await });
    let client = reqwest::Client::new();
    let call = move |model: &'static str, prompt: String| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let body = serde_json::json!({"model": model, "messages": [{"role": "user", "content": prompt}]});
            let t = Instant::now();
            let r = client.post(&url).json(&body).send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            let v: serde_json::Value = r.json().await.unwrap();
            assert_eq!(v["complexitynet"]["tier"], "mid");
            t.elapsed().as_secs_f64() * 1000.0
        }
    };
    for p in prompts.iter().take(20) {
        rt.block_on(call("auto", p.clone()));
        rt.block_on(call("mid", p.clone()));
    }
    let (mut auto, mut direct) = (Vec::new(), Vec::new());
    for p in prompts.iter().skip(20).take(N) {
        auto.push(rt.block_on(call("auto", p.clone())));
        direct.push(rt.block_on(call("mid", p.clone())));
    }
    let (a50, a99, d50, d99) =
        (pct(&mut auto, 0.5), pct(&mut auto, 0.99), pct(&mut direct, 0.5), pct(&mut direct, 0.99));
    println!("latency per request over loopback, {N} MBPP prompts each, alternating:");
    println!("  model auto (classify + route) p50 {a50:>7.2} ms  p99 {a99:>7.2} ms");
    println!("  model mid  (tier by name)     p50 {d50:>7.2} ms  p99 {d99:>7.2} ms");
    println!("  router adds at p50: {:.2} ms ({:.2}× the 3 ms goal)", a50 - d50, (a50 - d50) / 3.0);
    for model in ["mid", "auto"] {
        let t = Instant::now();
        let n = 400;
        let prompts = Arc::new(prompts.clone());
        rt.block_on(async {
            let mut tasks = Vec::new();
            for c in 0..16 {
                let prompts = prompts.clone();
                let call = call.clone();
                tasks.push(tokio::spawn(async move {
                    for i in (c..n).step_by(16) {
                        call(model, prompts[i].clone()).await;
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        println!("  16 concurrent clients, model {model:<4}: {:>7.1} requests/s", n as f64 / t.elapsed().as_secs_f64());
    }
}
