//! The UI's TypeScript types for the Tauri commands, generated from the Rust types. Here rather than as a unit
//! test of the app crate: that one test made cargo compile the whole app crate a second time, as its test harness.

#[test]
fn ipc_bindings_match_the_rust_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/ipc/bindings.ts");
    let want = complexitynet_app::commands::bindings::generate();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date with the Rust types: run `UPDATE_BINDINGS=1 cargo test -p complexitynet ipc_bindings` \
         and commit it",
        path.display()
    );
}
