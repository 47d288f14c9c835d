//! `complexitynet models …`: local GGUF models for the local tier.

use clap::Subcommand;
use complexitynet_core::types::LocalRuntimeSettings;
use complexitynet_core::AppError;
use serde_json::json;

use super::Ctx;

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Register a local GGUF file (its header is validated; the file stays where it is)
    Add {
        path: std::path::PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
    /// Registered local models with their architecture, size, quantisation and memory estimate
    List,
    /// Download a catalog model (see `models catalog`) or a URL; resumes an interrupted download
    Download {
        /// A catalog name or an https URL
        spec: String,
        /// Expected SHA-256 (catalog models have theirs, or pin it on their first download)
        #[arg(long)]
        sha256: Option<String>,
        /// Fetch a catalog model from this base URL instead of its hub (a local mirror): the same file name,
        /// checked against the same size and SHA-256
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
    },
    /// The downloadable models
    Catalog,
    /// Forget a registered model (the file is not deleted)
    Remove { name: String },
    /// Show or change the local runtime's settings (COMPLEXITYNET_LOCAL_THREADS overrides the threads)
    Settings {
        #[arg(long)]
        threads: Option<u32>,
        /// Layers offloaded to the GPU (Metal/CUDA builds)
        #[arg(long)]
        gpu_layers: Option<u32>,
        /// Context size in tokens
        #[arg(long)]
        ctx: Option<u32>,
    },
}

pub fn run(cmd: ModelsCommand, ctx: &Ctx) -> Result<(), AppError> {
    let app = &ctx.app;
    match cmd {
        ModelsCommand::Add { path, name } => {
            let row = app.add_model(&path, name.as_deref())?;
            ctx.emit(&row, || {
                format!(
                    "Added {} ({}, {:.0}M parameters, {}, {} MiB)\n",
                    row.name,
                    row.architecture,
                    row.parameters as f64 / 1e6,
                    row.quantization,
                    row.bytes >> 20
                )
            });
        }
        ModelsCommand::List => {
            let rows = app.models()?;
            // The JSON shape of `models list`: each model with its estimate and whether its file is there.
            let doc: Vec<serde_json::Value> = rows
                .iter()
                .map(|m| {
                    json!({"model": m.row, "memory_estimate_bytes": m.memory_estimate_bytes,
                           "file_present": m.file_present})
                })
                .collect();
            ctx.emit(&doc, || {
                let mut s = String::new();
                for m in &rows {
                    let r = &m.row;
                    let mem = m
                        .memory_estimate_bytes
                        .map(|b| format!("~{} MiB to run", b >> 20))
                        .unwrap_or_else(|| "file missing".into());
                    s.push_str(&format!(
                        "{:<36} {:<8} {:>6.0}M {:<8} ctx {:<6} {}\n",
                        r.name,
                        r.architecture,
                        r.parameters as f64 / 1e6,
                        r.quantization,
                        r.context_length.unwrap_or(0),
                        mem
                    ));
                }
                if rows.is_empty() {
                    s.push_str(
                        "No local models. `complexitynet models download codellama-7b-instruct.Q4_K_M` or `models add \
                         FILE.gguf`.\n",
                    );
                }
                s
            });
        }
        ModelsCommand::Catalog => {
            let c = app.model_catalog()?;
            ctx.emit(&c, || {
                c.iter()
                    .map(|m| {
                        let size = m.size.map(|s| format!("{:>6} MiB", s >> 20)).unwrap_or_else(|| "     ? MiB".into());
                        let scores: Vec<String> =
                            m.scores.iter().map(|s| format!("{} {:.1}%", s.benchmark, 100.0 * s.pass_at_1)).collect();
                        let check = match m.checksum.as_str() {
                            "published" => "size + SHA-256 published",
                            "pinned" => "SHA-256 pinned by its first download",
                            _ => "no SHA-256 published: pinned on the first complete download",
                        };
                        let sources: Vec<&str> = m.scores.iter().map(|s| s.source.as_str()).collect();
                        let mut sources = sources;
                        sources.dedup();
                        format!(
                            "{:<38} {size}  {}\n    {} · {} · {check}{}\n",
                            m.name,
                            m.title,
                            m.license,
                            if scores.is_empty() { "no published scores".into() } else { scores.join(", ") },
                            if sources.is_empty() {
                                String::new()
                            } else {
                                format!("\n    source: {}", sources.join("; "))
                            }
                        )
                    })
                    .collect()
            });
        }
        ModelsCommand::Settings { threads, gpu_layers, ctx: n_ctx } => {
            let v = app.set_runtime_settings(LocalRuntimeSettings { threads, gpu_layers, n_ctx })?;
            ctx.emit(&v, || {
                format!(
                    "threads {}, GPU layers {}, context {} tokens\n",
                    v.effective.threads, v.effective.gpu_layers, v.effective.n_ctx
                )
            });
        }
        ModelsCommand::Remove { name } => {
            let removed = app.remove_model(&name)?;
            ctx.emit(&json!({"removed": removed, "name": name}), || {
                format!("{}\n", if removed { "Removed" } else { "No such model" })
            });
        }
        ModelsCommand::Download { spec, sha256, mirror } => {
            let bar = super::bar("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}", None);
            bar.set_message(format!("downloading {spec}"));
            let progress = super::download_progress(&bar);
            let out = complexitynet_core::runtime()?.block_on(app.download_model(
                &spec,
                sha256.as_deref(),
                mirror.as_deref(),
                &progress,
            ));
            bar.finish_and_clear();
            let out = out?;
            ctx.emit(&out, || {
                format!("Downloaded and verified {} ({} MiB, sha256 {})\n", out.model.name, out.bytes >> 20, out.sha256)
            });
        }
    }
    Ok(())
}
