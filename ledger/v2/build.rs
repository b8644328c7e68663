//! Compiles the contract's own source with `serving_upgrade_v2` set: a second version that adds state in a new
//! `Lazy` field (and two messages for it), for the e2e upgrade tests. Never deploy it.
fn main() {
    println!("cargo:rustc-cfg=serving_upgrade_v2");
    println!("cargo:rerun-if-changed=build.rs");
}
