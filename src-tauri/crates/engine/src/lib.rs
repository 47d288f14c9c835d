//! ComplexityNet's store: the data of every pipeline stage and all the SQL — one SQLite file ([`store`]:
//! migrations, WAL, the newer-database refusal), typed [`settings`], [`dataset`]s of tasks, [`local_models`],
//! [`tiers`] and presets, the [`ledger`] of every call (the only writer of `calls`), label [`runs`],
//! [`conversations`] and stored [`classifiers`].
//!
//! It must not depend on HTTP: what talks to the outside world is the providers crate, and what orchestrates the
//! two is the application core. `store.rs` knows nothing of the domain; [`open`] is where a new database gets its
//! default tiers.

pub mod catalog;
pub mod classifiers;
pub mod conversations;
pub mod dataset;
pub mod error;
pub mod ledger;
pub mod local_models;
pub mod money;
pub mod paths;
pub mod runs;
pub mod settings;
pub mod store;
pub mod tiers;

pub use error::{EngineError, ErrorCode};

/// The engine's version, shown by `doctor` and stored with every database the engine writes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Opens (creating and migrating) the database and seeds the default tiers into a new one. Every use of the
/// store goes through here; [`store::Store::open`] alone knows nothing of the domain.
pub fn open(path: &std::path::Path) -> Result<store::Store, store::StoreError> {
    let store = store::Store::open(path)?;
    tiers::seed(&store)?;
    Ok(store)
}
