//! The packed root of a contract's storage, written out so a test can notice when it changes.
//!
//! ink! 5 decodes the contract's packed root struct (every field that is not behind a `Mapping` or `Lazy`, which
//! have storage keys of their own) before every message. A new code version whose packed root differs cannot
//! decode the old storage: every call traps, `set_code` included, and the funds are locked for good. So the packed
//! root must never change after a release (docs/owner-guide.md, "Upgrades"): new state goes into new `Mapping`/`Lazy` fields.
//! Each contract has a unit test that renders its root with [`describe_root`] and compares it with the
//! `storage-root.txt` committed next to its `Cargo.toml`.
use ink::metadata::layout::{Layout, StructLayout};
use ink::scale_info::{MetaType, TypeDef};
use ink::storage::traits::{StorageKey, StorageLayout};
use std::fmt::Write;

/// One line per packed field (`path: type`) and per lazily stored field (`path: own key 0x…`, not descended:
/// what lives under its own key can grow without touching the root; values there carry their own version).
pub fn describe_root(layout: &Layout) -> String {
    let mut out = String::new();
    walk(layout, "", true, &mut out);
    out
}

fn walk(layout: &Layout, path: &str, top: bool, out: &mut String) {
    match layout {
        Layout::Root(root) if top => walk(root.layout(), path, false, out),
        Layout::Root(root) => {
            let _ = writeln!(out, "{path}: own key {:#010x}", root.root_key().key());
        }
        Layout::Leaf(leaf) => {
            let _ = writeln!(out, "{path}: {}", describe(leaf.ty(), 0));
        }
        Layout::Struct(s) => walk_struct(s, path, out),
        Layout::Enum(e) => {
            for (d, variant) in e.variants() {
                walk_struct(variant, &format!("{path}#{}", d.value()), out);
            }
        }
        Layout::Array(a) => walk(a.layout(), &format!("{path}[{}]", a.len()), false, out),
        Layout::Hash(h) => walk(h.layout(), &format!("{path}{{hash}}"), false, out),
    }
}

fn walk_struct(s: &StructLayout, path: &str, out: &mut String) {
    for f in s.fields() {
        let name = f.name();
        let p = if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
        walk(f.layout(), &p, false, out);
    }
}

/// A type in full (path, generic parameters and shape), so a change inside a packed field's type shows too.
fn describe(ty: &MetaType, depth: usize) -> String {
    let info = ty.type_info();
    let name = info.path.segments.join("::");
    if depth > 6 {
        return name;
    }
    let inner = |t: &MetaType| describe(t, depth.saturating_add(1));
    let shape = match &info.type_def {
        TypeDef::Composite(c) => {
            let fields: Vec<String> = c
                .fields
                .iter()
                .map(|f| format!("{}{}", f.name.map(|n| format!("{n}: ")).unwrap_or_default(), inner(&f.ty)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        TypeDef::Variant(v) => {
            let variants: Vec<String> = v
                .variants
                .iter()
                .map(|var| {
                    let fields: Vec<String> = var.fields.iter().map(|f| inner(&f.ty)).collect();
                    format!("{}({})", var.name, fields.join(", "))
                })
                .collect();
            format!("<{}>", variants.join(" | "))
        }
        TypeDef::Sequence(s) => format!("[{}]", inner(&s.type_param)),
        TypeDef::Array(a) => format!("[{}; {}]", inner(&a.type_param), a.len),
        TypeDef::Tuple(t) => format!("({})", t.fields.iter().map(inner).collect::<Vec<_>>().join(", ")),
        TypeDef::Primitive(p) => format!("{p:?}").to_lowercase(),
        TypeDef::Compact(c) => format!("Compact<{}>", inner(&c.type_param)),
        TypeDef::BitSequence(_) => "BitSequence".to_string(),
    };
    format!("{name}{shape}")
}

/// Compares `actual` with the committed file; `SERVING_WRITE_LAYOUT=1` rewrites it (only before a release).
pub fn check_against(file: &std::path::Path, actual: &str) {
    let committed = std::fs::read_to_string(file).unwrap_or_default();
    if committed == actual {
        return;
    }
    if std::env::var("SERVING_WRITE_LAYOUT").is_ok() {
        std::fs::write(file, actual).expect("write the layout file");
        return;
    }
    panic!(
        "the packed storage root changed ({}):\n--- committed\n{committed}--- now\n{actual}\nA deployed contract \
         upgraded to this code would trap on every call. Put new state in a new Mapping/Lazy field instead \
         (docs/owner-guide.md, Upgrades). Before the first release only: SERVING_WRITE_LAYOUT=1 regenerates it.",
        file.display()
    );
}

/// For a second build (the upgrade tests' v2): its root must be the committed one plus fields with their own
/// storage keys only. Panics otherwise.
pub fn check_extends(file: &std::path::Path, actual: &str) {
    let committed = std::fs::read_to_string(file).expect("the committed root of the first version");
    let mut now = actual.lines().peekable();
    for line in committed.lines() {
        loop {
            match now.next() {
                Some(l) if l == line => break,
                Some(l) if l.contains(": own key ") => continue,
                Some(l) => panic!("the second build changes the packed root at `{l}` (expected `{line}`)"),
                None => panic!("the second build lacks `{line}`"),
            }
        }
    }
    for l in now {
        assert!(l.contains(": own key "), "the second build adds a packed field `{l}`");
    }
}

/// The whole check of a contract's storage root `S`, for its unit test: against `storage-root.txt` in
/// `manifest_dir`; for a service's full build (`<contract>/full`), against its contract's (the full build runs on
/// the deployed contract's storage: the very same root); for the upgrade tests' second builds (`<contract>/v2`,
/// `<contract>/full-v2`), that they only add fields with their own keys to the first version's committed root.
pub fn check_root<S: StorageLayout + StorageKey>(manifest_dir: &str, contract: &str) {
    let root = describe_root(&S::layout(&S::KEY));
    let here = std::path::Path::new(manifest_dir);
    let parent = here.join("..").join("storage-root.txt");
    match here.file_name().and_then(|n| n.to_str()) {
        Some("v2" | "full-v2") => check_extends(&parent, &root),
        Some("full") => check_against(&parent, &root),
        _ => {
            assert!(here.ends_with(contract), "{manifest_dir} is not the {contract} contract's folder");
            check_against(&here.join("storage-root.txt"), &root)
        }
    }
}
