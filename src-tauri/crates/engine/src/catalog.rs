//! The catalog of downloadable datasets, bundled from `resources/datasets.json` so the URL, size and checksum
//! live in one reviewed file rather than in code.

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::dataset::Format;

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogDataset {
    pub title: String,
    pub url: String,
    pub format: Format,
    pub size: u64,
    pub sha256: String,
    pub license: String,
}

const DATASETS_JSON: &str = include_str!("../../../../resources/datasets.json");

/// Every dataset the downloader knows, by name.
pub fn datasets() -> BTreeMap<String, CatalogDataset> {
    let raw: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(DATASETS_JSON).expect("resources/datasets.json is valid JSON (checked by a unit test)");
    raw.into_iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| {
            let entry: CatalogDataset = serde_json::from_value(v)
                .unwrap_or_else(|e| panic!("resources/datasets.json entry {k:?} is malformed: {e}"));
            (k, entry)
        })
        .collect()
}

pub fn dataset(name: &str) -> Option<CatalogDataset> {
    datasets().remove(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalog_parses_and_pins_mbpp() {
        let mbpp = dataset("mbpp").expect("mbpp is in the catalog");
        assert_eq!(mbpp.size, 563_537);
        assert_eq!(mbpp.sha256.len(), 64);
        assert!(mbpp.url.ends_with("mbpp/mbpp.jsonl"));
        assert_eq!(mbpp.format, Format::Mbpp);
    }
}
