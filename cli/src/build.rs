//! `serving build`: the release `.contract` bundles (Wasm + metadata) built with `contract-build`, the library
//! inside cargo-contract that ink_e2e already compiles, so the demo and the benchmark need no cargo-contract binary.
use contract_build::{
    BuildArtifacts, BuildMode, ExecuteArgs, Features, ImageVariant, ManifestPath, Network, OutputType, Target,
    UnstableFlags, Verbosity, DEFAULT_MAX_MEMORY_PAGES,
};
use serde_json::{json, Value};

/// The bundles `serving build` knows (by name: `target/ink/<name>/<name>.contract`): the three contracts and the
/// services' full builds (the code their rarely used messages run in, uploaded and reached by delegate call).
pub const CONTRACTS: [&str; 6] =
    ["ledger", "inference", "fine_tuning", "ledger_full", "inference_full", "fine_tuning_full"];

/// The crate folder of a bundle.
fn folder(name: &str) -> String {
    match name.strip_suffix("_full") {
        Some(service) => format!("{service}/full"),
        None => name.to_string(),
    }
}

/// Builds the release bundles of `contracts` (crate folders under the workspace root `root`); returns
/// `[{contract, wasm, bytes}]`. The same settings as `cargo contract build --release`.
pub fn build(root: &std::path::Path, contracts: &[String]) -> Result<Value, String> {
    // contract-build runs cargo in a temporary copy of the contract, outside this repository, where
    // rust-toolchain.toml does not apply: pin its toolchain explicitly (as `cargo contract` gets it from rustup).
    if std::env::var_os("RUSTUP_TOOLCHAIN").is_none() {
        let file = root.join("rust-toolchain.toml");
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let channel = text
            .lines()
            .find_map(|l| {
                l.trim().strip_prefix("channel").map(|v| v.trim_start_matches([' ', '=']).trim().trim_matches('"'))
            })
            .ok_or(format!("{}: no channel", file.display()))?;
        std::env::set_var("RUSTUP_TOOLCHAIN", channel);
    }
    // contract-build copies the contract into a temporary workspace (under TMPDIR). Put it inside target/ so
    // cargo finds this repository's .cargo/config.toml there, whose [patch] replaces rlibc's byte-at-a-time
    // memcpy with ours (mem/); a temporary directory elsewhere would build with the slow one.
    let tmp = root.join("target").join("contract-build-tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::env::set_var("TMPDIR", &tmp);
    let mut out = Vec::new();
    for c in contracts {
        if !CONTRACTS.contains(&c.as_str()) {
            return Err(format!("unknown contract `{c}` (one of {})", CONTRACTS.join(", ")));
        }
        let manifest = ManifestPath::new(root.join(folder(c)).join("Cargo.toml")).map_err(|e| e.to_string())?;
        share_build_dirs(&manifest)?;
        let args = ExecuteArgs {
            manifest_path: manifest,
            verbosity: Verbosity::Quiet,
            build_mode: BuildMode::Release,
            features: Features::default(),
            network: Network::Online,
            build_artifact: BuildArtifacts::All,
            unstable_flags: UnstableFlags::default(),
            optimization_passes: None,
            keep_debug_symbols: false,
            extra_lints: false,
            output_type: OutputType::HumanReadable,
            skip_wasm_validation: false,
            target: Target::Wasm,
            max_memory_pages: DEFAULT_MAX_MEMORY_PAGES,
            image: ImageVariant::Default,
        };
        let result = contract_build::execute(args).map_err(|e| format!("building {c}: {e:#}"))?;
        let wasm = result.dest_wasm.ok_or(format!("building {c}: no Wasm produced"))?;
        let bytes = std::fs::metadata(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?.len();
        out.push(json!({ "contract": c, "wasm": wasm.display().to_string(), "bytes": bytes }));
    }
    Ok(Value::Array(out))
}

/// contract-build gives every contract its own cargo target directory (`<target>/ink/<contract>`), so the
/// dependencies the three contracts have in common (core and alloc built from source, ink!, SCALE codec, our
/// shared crates, and the same again for the host build that writes the metadata) were compiled three times on a
/// cold build. The two folders cargo writes its work into are made links to one shared folder
/// (`<target>/ink/.shared`): cargo then finds what an earlier contract compiled (fingerprints include features
/// and flags, so nothing is reused wrongly), and each contract's `.contract`, `.wasm` and `.json` stay where they
/// were. A folder left by an older, unshared build is removed once (it is only cargo's cache). Builds into the
/// shared folder must run one after another, as they do here and in ink_e2e (one at a time under a lock): the
/// metadata generator each contract's build compiles and runs has one name there.
fn share_build_dirs(manifest: &ManifestPath) -> Result<(), String> {
    let meta = contract_build::CrateMetadata::collect(manifest, Target::Wasm).map_err(|e| format!("{e:#}"))?;
    let own = meta.target_directory;
    let shared = own.parent().ok_or(format!("{}: no parent", own.display()))?.join(".shared");
    std::fs::create_dir_all(&own).map_err(|e| format!("{}: {e}", own.display()))?;
    for sub in ["wasm32-unknown-unknown", "release"] {
        let target = shared.join(sub);
        std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        let link = own.join(sub);
        match std::fs::read_link(&link) {
            Ok(to) if to == target => continue,
            Ok(_) => std::fs::remove_file(&link).map_err(|e| format!("{}: {e}", link.display()))?,
            Err(_) if link.exists() => {
                std::fs::remove_dir_all(&link).map_err(|e| format!("{}: {e}", link.display()))?
            }
            Err(_) => {}
        }
        std::os::unix::fs::symlink(&target, &link).map_err(|e| format!("{}: {e}", link.display()))?;
    }
    Ok(())
}
