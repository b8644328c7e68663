//! Compiles the ledger's own source with `serving_full` and `serving_upgrade_v2` set: the full build of the second
//! version, which the upgrade test moves to in the same `set_code` call as the second thin build. Never deploy it.
fn main() {
    println!("cargo:rustc-cfg=serving_full");
    println!("cargo:rustc-cfg=serving_upgrade_v2");
    println!("cargo:rerun-if-changed=build.rs");
}
