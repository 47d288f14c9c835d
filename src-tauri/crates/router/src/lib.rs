//! Routing and the budget, pure: which tier answers a prompt, given what is known of the prompt and of each
//! tier's model, within the share of always-top's cost the user chose.
//!
//! - [`policy`]: the policies (the hull mix, the learned cost dial, the paper's map, the threshold), the dial's λ
//!   calibration, the saved settings' type, the fall-through and the decision in plain words;
//! - [`budget`]: the hull of the fixed tiers (the one hull function and its inverse), the mix a budget buys and
//!   the controller on realized spend;
//! - [`known`]: what decides a model's ability (own outcomes, calibration, published figure) and when two model
//!   names are the same model;
//! - [`trust`]: what a pass on a prompt's checks is worth, by how many checks and how strong the tier is — where
//!   the verified cascade starts and which pass ends it;
//! - [`label`]: the paper's rules from pass counts to complexity levels, the classes the classifier learns and
//!   the paper's map routes.
//!
//! It must not depend on SQL or IO: the store reads and writes the settings and the ledger, the application core
//! gathers availability (the keychain, the local model files), and this crate only decides.

pub mod agent;
pub mod budget;
pub mod known;
pub mod label;
pub mod policy;
pub mod trust;

pub use budget::*;
pub use policy::*;
