//! Money for display (the engine's rules, shared by every front end).

pub use complexitynet_engine::money::usd;
