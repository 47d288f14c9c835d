//! `complexitynet serve`: the local OpenAI-compatible server on 127.0.0.1 until Ctrl-C.

use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::AppError;

use super::Ctx;
use crate::server::ServerConfig;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 8731)]
    pub port: u16,
    /// Require `Authorization: Bearer KEY` (also $COMPLEXITYNET_SERVE_KEY); without it any program on this
    /// computer can use your tiers through the server (web pages cannot: see --allow-origin)
    #[arg(long, env = "COMPLEXITYNET_SERVE_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Let pages from this web origin call the server, with CORS (e.g. https://app.example; repeatable; added to
    /// the origins saved in Settings)
    #[arg(long, value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// Also answer requests addressed to this host name (besides 127.0.0.1, localhost and [::1]; repeatable)
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// The most requests through the server may spend per day (UTC), in the cost mode in use; over it, paid tiers
    /// answer 429 and the local tier still answers [default: the cap saved in Settings, else none]
    #[arg(long, value_name = "AMOUNT")]
    pub daily_cap: Option<f64>,
    /// Send a model name no tier serves (a client's own, e.g. claude-sonnet-4-5) straight to the top tier's
    /// provider under that name, instead of routing it [default: the setting saved in Settings]
    #[arg(long)]
    pub pass_through_models: bool,
    #[command(flatten)]
    pub policy: super::route::PolicyFlags,
}

pub fn run(args: ServeArgs, ctx: &Ctx) -> Result<(), AppError> {
    let route = RouteOverrides::from(&args.policy);
    let mut settings = ctx.app.server_settings()?;
    settings.allowed_origins.extend(args.allow_origin);
    settings.allowed_hosts.extend(args.allow_host);
    settings.daily_cap = args.daily_cap.or(settings.daily_cap);
    settings.pass_through |= args.pass_through_models;
    settings.validate().map_err(AppError::invalid)?;
    if args.api_key.is_none() {
        eprintln!(
            "warning: no --api-key: any program on this computer can use your tiers (and spend on your keys) \
             through this server; web pages and other hosts are refused"
        );
    }
    // The classifier loads now: a missing encoder fails before the first request, not on it.
    let (classifier, _) = ctx.app.routing(&route)?;
    let rt = complexitynet_core::runtime()?;
    rt.block_on(async {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| AppError::internal(format!("cannot listen on {addr}: {e}")))?;
        let bound = listener.local_addr().map_err(|e| AppError::internal(e.to_string()))?;
        // The first line on stdout says where it listens (port 0 picks a free one); tests and scripts read it.
        super::out(&format!("listening on http://{bound}/v1 (classifier {}, model auto routes)\n", classifier.meta.id));
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        crate::server::run(ctx.app.clone(), ServerConfig { api_key: args.api_key, route, settings }, listener, shutdown)
            .await
    })
}
