fn main() {
    // Capabilities live under src-tauri/ (the crate root is the repository root, fixed by the product layout).
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    tauri_build::try_build(tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/*.json"))
        .expect("tauri-build failed");
}
