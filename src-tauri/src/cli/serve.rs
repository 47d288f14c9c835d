//! `complexitynet serve`: the local OpenAI-compatible server on 127.0.0.1 until Ctrl-C.

use complexitynet_core::routing::RouteOverrides;
use complexitynet_core::AppError;

use super::Ctx;
use crate::server::ServerConfig;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 8731)]
    pub port: u16,
    /// Require `Authorization: Bearer KEY` (also $COMPLEXITYNET_SERVE_KEY)
    #[arg(long, env = "COMPLEXITYNET_SERVE_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    #[command(flatten)]
    pub policy: super::route::PolicyFlags,
}

pub fn run(args: ServeArgs, ctx: &Ctx) -> Result<(), AppError> {
    let route = RouteOverrides::from(&args.policy);
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
        crate::server::run(ctx.app.clone(), ServerConfig { api_key: args.api_key, route }, listener, shutdown).await
    })
}
