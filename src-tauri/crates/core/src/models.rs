//! Local GGUF models: register a file (header validated), download a catalog model or a URL (resumable,
//! checked, disk space checked first), list with memory estimates and what is loaded, the runtime's settings,
//! and `doctor`'s line about the local tier.

use std::path::{Path, PathBuf};

use complexitynet_engine::local_models::ModelError;
use complexitynet_engine::paths::DataDir;
use complexitynet_providers::download::{FetchOutcome, FetchRequest};

use crate::doctor::{Check, CheckStatus};
use complexitynet_engine::local_models::{self as models, ModelRow};
use complexitynet_engine::tiers::{self as table, LocalRuntimeSettings};
use complexitynet_providers::download::DownloadProgress;
use serde::Serialize;

use crate::jobs::{throttled, DownloadEvent, JobKind};
use crate::providers::runtime_settings;
use crate::{App, AppError, Result};
use complexitynet_engine::ErrorCode;

/// A registered model as the Models tab and `models list` show it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ModelView {
    #[serde(flatten)]
    pub row: ModelRow,
    pub file_present: bool,
    /// What running it takes with a 4096-token context.
    #[ts(type = "number | null")]
    pub memory_estimate_bytes: Option<u64>,
    pub loaded: bool,
}

/// The small catalog model a fresh install is offered first (about 1 GB, far stronger than the paper's Code Llama
/// 7B at code), then the paper's own.
const SUGGESTED_LOCAL: &[&str] = &["qwen2.5-coder-1.5b-instruct.Q4_K_M", "codellama-7b-instruct.Q4_K_M"];

/// Whether the local tier has its model.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct LocalStatus {
    /// The local tier's model (a registered or catalog name).
    pub model: String,
    pub installed: bool,
    /// The catalog model to download when it is not installed.
    pub suggested: Option<String>,
}

/// A downloadable model.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "CatalogModel")]
pub struct CatalogModelView {
    pub name: String,
    pub title: String,
    /// Bytes: as published, else as pinned by the first complete download, else unknown.
    #[ts(type = "number | null")]
    pub size: Option<u64>,
    pub license: String,
    /// How the download is checked: `published` (size and SHA-256 from the catalog), `pinned` (by the first
    /// complete download here), or `unpinned` (none published: the first complete download pins them).
    pub checksum: String,
    /// The model's published pass@1 figures, each with its source.
    pub scores: Vec<models::PublishedScore>,
}

/// A finished download, registered.
#[derive(Debug, Clone, Serialize)]
pub struct ModelDownloaded {
    pub model: ModelRow,
    pub bytes: u64,
    pub sha256: String,
}

/// The local runtime's settings: as stored, and as they take effect (defaults and the environment applied).
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeSettingsView {
    pub stored: LocalRuntimeSettings,
    pub effective: EffectiveSettings,
}

#[derive(Debug, Clone, Serialize)]
pub struct EffectiveSettings {
    pub threads: i32,
    pub gpu_layers: u32,
    pub n_ctx: u32,
}

impl App {
    pub fn models(&self) -> Result<Vec<ModelView>> {
        let loaded = self.loaded_models();
        let rows = self.with_store(|s| Ok(models::list(s)?))?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let path = Path::new(&row.path);
                ModelView {
                    file_present: path.is_file(),
                    memory_estimate_bytes: models::gguf::read(path).ok().map(|i| i.memory_estimate(4096)),
                    loaded: loaded.contains(&row.name),
                    row,
                }
            })
            .collect())
    }

    pub fn model_catalog(&self) -> Result<Vec<CatalogModelView>> {
        models::catalog()
            .into_iter()
            .map(|(name, m)| {
                let pin = self.with_store(|s| Ok(models::pin(s, &name)?))?;
                let checksum = match (&m.sha256, &pin) {
                    (Some(_), _) => "published",
                    (None, Some(_)) => "pinned",
                    (None, None) => "unpinned",
                };
                Ok(CatalogModelView {
                    size: m.size.or(pin.map(|p| p.size)),
                    title: m.title,
                    license: m.license,
                    checksum: checksum.into(),
                    scores: m.scores,
                    name,
                })
            })
            .collect()
    }

    /// Registers a GGUF file where it is (its header is validated).
    pub fn add_model(&self, path: &Path, name: Option<&str>) -> Result<ModelRow> {
        let name = name.filter(|n| !n.trim().is_empty());
        self.with_store(|s| Ok(models::add(s, path, name, "file")?))
    }

    /// Forgets a registered model (the file stays); true when it was registered.
    pub fn remove_model(&self, name: &str) -> Result<bool> {
        self.unload_model(name);
        self.with_store(|s| Ok(models::remove(s, name)?))
    }

    /// Downloads a catalog model or a URL into the data dir (resuming a partial file), checks it, registers it.
    pub async fn download_model(
        &self,
        spec: &str,
        sha256: Option<&str>,
        mirror: Option<&str>,
        progress: &(dyn Fn(DownloadProgress) + Send + Sync),
    ) -> Result<ModelDownloaded> {
        let (name, mut req) = resolve_download(spec, sha256, mirror)?;
        // A catalog model whose figures are not published is checked against what its first complete download
        // measured (trust on first use, as SSH does with host keys), and pins them when there is none yet.
        let unpublished = models::catalog().get(spec).is_some_and(|m| m.sha256.is_none());
        let pinned = if unpublished { self.with_store(|s| Ok(models::pin(s, &name)?))? } else { None };
        if let Some(p) = &pinned {
            req.expected_size = Some(p.size);
            req.expected_sha256 = Some(p.sha256.clone());
        }
        let out = download(self.data_dir(), &name, req, progress).await?;
        if unpublished && pinned.is_none() {
            let pin = models::Pin { size: out.bytes, sha256: out.sha256.clone() };
            self.with_store(|s| Ok(models::set_pin(s, &name, &pin)?))?;
            tracing::info!(model = %name, sha256 = %out.sha256, "pinned on its first complete download");
        }
        let model = self.with_store(|s| Ok(models::add(s, &out.path, Some(&name), spec)?))?;
        Ok(ModelDownloaded { model, bytes: out.bytes, sha256: out.sha256 })
    }

    /// [`App::download_model`] as a job of the window: `job` names it, and cancelling it pauses the download
    /// (the partial file is kept and the next start resumes it).
    pub async fn download_model_job(
        &self,
        spec: &str,
        job: &str,
        on_event: &(dyn Fn(DownloadEvent) + Send + Sync),
    ) -> Result<ModelRow> {
        let guard = self.jobs().start(JobKind::ModelDownload, job)?;
        let progress = throttled(1 << 20, on_event);
        tokio::select! {
            r = self.download_model(spec, None, None, &progress) => Ok(r?.model),
            _ = guard.token().cancelled() => Err(AppError::new(
                ErrorCode::Cancelled,
                format!("paused: the partial download of {spec} is kept and resumes when you start it again"),
            )),
        }
    }

    /// Changes the given runtime settings (the others keep their values); they apply to models loaded next.
    pub fn set_runtime_settings(&self, s: LocalRuntimeSettings) -> Result<RuntimeSettingsView> {
        let stored = self.with_store(|st| Ok(table::set_local_settings(st, s)?))?;
        let e = runtime_settings(stored);
        Ok(RuntimeSettingsView {
            stored,
            effective: EffectiveSettings { threads: e.threads, gpu_layers: e.gpu_layers, n_ctx: e.n_ctx },
        })
    }

    /// `doctor`'s line about the local tier: the runtime built in, and whether the local tier's model is installed.
    /// Whether the local tier can answer: its model and whether the file is here, and, when it is not, the
    /// catalog model to suggest (weights are never bundled: a fresh install downloads one in Models & Keys).
    pub fn local_status(&self) -> Result<LocalStatus> {
        self.with_store(|s| {
            let tier = table::tiers(s)?.into_iter().find(|t| t.name == "local");
            let model = tier.map(|t| t.model).unwrap_or_default();
            let installed = !model.is_empty() && models::get(s, &model).is_ok_and(|m| Path::new(&m.path).is_file());
            let suggested = (!installed)
                .then(|| SUGGESTED_LOCAL.iter().find(|n| models::catalog().contains_key(**n)))
                .flatten()
                .map(|n| n.to_string());
            Ok(LocalStatus { model, installed, suggested })
        })
    }

    pub fn local_runtime_check(&self) -> Check {
        let backend = if cfg!(feature = "cuda") {
            "CUDA"
        } else if cfg!(feature = "metal") {
            "Metal"
        } else {
            "CPU"
        };
        let runtime = format!("llama.cpp through llama-cpp-2 0.1.160 ({backend} build)");
        let local = self
            .with_store(|s| {
                let Some(tier) = table::tiers(s)?.into_iter().find(|t| t.name == "local") else { return Ok(None) };
                let installed = models::get(s, &tier.model).is_ok_and(|m| Path::new(&m.path).is_file());
                Ok(Some((tier.model, installed)))
            })
            .ok()
            .flatten();
        match local {
            Some((model, true)) => Check {
                name: "local tier",
                status: CheckStatus::Ok,
                detail: format!("{runtime}; model {model} installed"),
            },
            Some((model, false)) => Check {
                name: "local tier",
                status: CheckStatus::Missing,
                detail: match SUGGESTED_LOCAL.first().filter(|s| **s != model) {
                    Some(small) => format!(
                        "{runtime}; model {model} not installed: complexitynet models download {model}, or the \
                         smaller {small} (about 1 GB) and tiers set local --model {small}; or Models & Keys"
                    ),
                    None => format!("{runtime}; model {model} not installed (complexitynet models download {model})"),
                },
            },
            None => Check {
                name: "local tier",
                status: CheckStatus::Missing,
                detail: format!("{runtime}; no local tier configured"),
            },
        }
    }
}

/// What `models download` fetches: a catalog name (from `mirror` when given: the same file name under that base
/// URL, checked the same way), or a URL with an optional expected checksum.
fn resolve_download(
    spec: &str,
    sha256: Option<&str>,
    mirror: Option<&str>,
) -> Result<(String, FetchRequest), ModelError> {
    let (name, url, size, sha) = match models::catalog().remove(spec) {
        Some(m) => {
            let url = match mirror {
                Some(base) => {
                    let file = m.url.rsplit('/').next().unwrap_or_default();
                    format!("{}/{file}", base.trim_end_matches('/'))
                }
                None => m.url,
            };
            (spec.to_owned(), url, m.size, sha256.map(str::to_owned).or(m.sha256))
        }
        None if mirror.is_some() => {
            return Err(ModelError::Invalid(format!("--mirror serves catalog models; {spec:?} is not one")))
        }
        None if spec.starts_with("http://") || spec.starts_with("https://") => {
            let file = spec.rsplit('/').next().unwrap_or("model.gguf").split('?').next().unwrap_or("model.gguf");
            (file.trim_end_matches(".gguf").to_owned(), spec.to_owned(), None, sha256.map(str::to_owned))
        }
        None => {
            let known: Vec<String> = models::catalog().into_keys().collect();
            return Err(ModelError::Invalid(format!(
                "{spec:?} is neither a catalog model ({}) nor a URL",
                known.join(", ")
            )));
        }
    };
    let mut req = FetchRequest::new(url, PathBuf::new());
    req.expected_size = size;
    req.expected_sha256 = sha;
    req.resume = true;
    Ok((name, req))
}

/// Downloads a model into `DATA_DIR/models/` (resuming a partial file from an earlier run), checks it, and
/// registers it. Refuses to start when the disk cannot hold it.
async fn download(
    data_dir: &DataDir,
    name: &str,
    mut req: FetchRequest,
    progress: &(dyn Fn(DownloadProgress) + Send + Sync),
) -> Result<FetchOutcome> {
    let dir = data_dir.root.join("models");
    std::fs::create_dir_all(&dir).map_err(|e| ModelError::Invalid(format!("cannot create {}: {e}", dir.display())))?;
    req.dest = dir.join(format!("{name}.gguf"));
    if let Some(size) = req.expected_size {
        let have =
            std::fs::metadata(complexitynet_providers::download::partial_path(&req.dest)).map(|m| m.len()).unwrap_or(0);
        let available = fs4::available_space(&dir).unwrap_or(u64::MAX);
        let needed = size.saturating_sub(have);
        if needed > available {
            return Err(ModelError::Disk { dir: dir.display().to_string(), needed, available }.into());
        }
    }
    Ok(complexitynet_providers::download::fetch(&req, progress).await?)
}
