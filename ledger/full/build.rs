//! Compiles the ledger's own source with `serving_full` set: every message runs its own body (the deployed, thin
//! build forwards the rarely used ones here by delegate call; see `FULL` in the source).
fn main() {
    println!("cargo:rustc-cfg=serving_full");
    println!("cargo:rerun-if-changed=build.rs");
}
