//! `generate_crate` gives a crate that builds as written (what `atdata lexicon gen --crate
//! NAME --path-deps DIR` writes): the test runs `cargo build` on one outside the workspace.

#[path = "support/edge_config.rs"]
#[allow(dead_code)]
mod edge_config;

use std::path::Path;
use std::process::Command;

use atdata_codegen::{CrateOptions, Dependency, Generator};

#[test]
fn manifest_lists_features_and_dependencies() {
    let catalog = edge_config::catalog();
    let options = CrateOptions {
        name: "edge-lexicons".into(),
        atdata: Dependency::Version("0.1".into()),
    };
    let tree = Generator::new(&catalog)
        .namespaces(["com.example"])
        .official_externals()
        .rustfmt(false)
        .generate_crate(&options)
        .expect("generate");
    let manifest = &tree.files[Path::new("Cargo.toml")];
    assert!(manifest.contains("name = \"edge-lexicons\""), "{manifest}");
    assert!(
        manifest.contains("default = [\"com-example\"]"),
        "{manifest}"
    );
    assert!(manifest.contains("com-example = []"), "{manifest}");
    // The runtime is core's; strongRef comes from atdata-api, so its feature is turned on.
    // Never the HTTP client.
    assert!(
        manifest.contains("atdata-core = { version = \"0.1\" }"),
        "{manifest}"
    );
    assert!(
        manifest.contains(
            "atdata-api = { version = \"0.1\", default-features = false, features = [\"com-atproto\"] }"
        ),
        "{manifest}"
    );
    assert!(!manifest.contains("atdata-client"), "{manifest}");
    assert!(tree.files.contains_key(Path::new("src/lib.rs")));
    assert!(tree
        .files
        .contains_key(Path::new("src/com/example/edge/post.rs")));
}

#[test]
fn generated_crate_builds() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = workspace.canonicalize().expect("workspace");
    let out = std::env::temp_dir().join(format!("atdata-generated-crate-{}", std::process::id()));
    let catalog = edge_config::catalog();
    let options = CrateOptions {
        name: "edge-lexicons".into(),
        atdata: Dependency::Checkout(workspace.clone()),
    };
    let tree = Generator::new(&catalog)
        .namespaces(["com.example"])
        .official_externals()
        .generate_crate(&options)
        .expect("generate");
    tree.write_to(&out).expect("write");
    // A crate of its own, even though it sits in the temp folder.
    let manifest = out.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(&manifest, format!("{text}\n[workspace]\n")).expect("manifest");
    // The workspace's lock file pins the same dependency versions, so the build reuses what the
    // workspace compiled and needs no registry.
    std::fs::copy(workspace.join("Cargo.lock"), out.join("Cargo.lock")).expect("lock file");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--offline", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", workspace.join("target"))
        .status()
        .expect("run cargo");
    let _ = std::fs::remove_dir_all(&out);
    assert!(status.success(), "the generated crate builds");
}

/// A module tree mounted in a binary that uses one type: no warnings (a binary's unused `pub`
/// items are dead code, and generated trees are mostly unused by any one program).
#[test]
fn module_tree_in_a_binary_builds_without_warnings() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = workspace.canonicalize().expect("workspace");
    let out = std::env::temp_dir().join(format!("atdata-generated-bin-{}", std::process::id()));
    let catalog = edge_config::catalog();
    let tree = Generator::new(&catalog)
        .namespaces(["com.example"])
        .official_externals()
        .generate()
        .expect("generate");
    tree.write_to(out.join("src/lexicons")).expect("write");
    let core = workspace.join("atdata-core").display().to_string();
    let api = workspace.join("atdata-api").display().to_string();
    std::fs::write(
        out.join("Cargo.toml"),
        format!(
            "[package]\nname = \"edge-bin\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\natdata-core = {{ path = {core:?} }}\n\
             atdata-api = {{ path = {api:?}, default-features = false, features = [\"com-atproto\"] }}\n\n[workspace]\n"
        ),
    )
    .expect("manifest");
    // `deny(warnings)` in the binary itself: the dependencies keep their own flags (and their
    // build from the workspace's target folder).
    std::fs::write(
        out.join("src/main.rs"),
        "#![deny(warnings)]\nmod lexicons;\nfn main() {\n    println!(\"{}\", lexicons::com::example::edge::post::NSID);\n}\n",
    )
    .expect("main.rs");
    std::fs::copy(workspace.join("Cargo.lock"), out.join("Cargo.lock")).expect("lock file");
    let output = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--offline", "--manifest-path"])
        .arg(out.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", workspace.join("target"))
        .output()
        .expect("run cargo");
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        output.status.success(),
        "the binary builds without warnings: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn generate_dir_writes_modules_or_a_crate() {
    let dir = std::env::temp_dir().join(format!("atdata-generate-dir-{}", std::process::id()));
    let lexicons = dir.join("lexicons");
    // The edge-case lexicons plus one official lexicon they reference.
    copy_dir(&edge_config::tests_dir().join("lexicons"), &lexicons);
    let strong_ref = edge_config::tests_dir()
        .join("../../atdata-lexicon/lexicons/com/atproto/repo/strongRef.json");
    std::fs::create_dir_all(lexicons.join("com/atproto/repo")).expect("mkdir");
    std::fs::copy(strong_ref, lexicons.join("com/atproto/repo/strongRef.json")).expect("copy");

    let modules = dir.join("modules");
    let summary = atdata_codegen::generate_dir(&lexicons, &modules, None).expect("modules");
    assert_eq!(summary.documents, 14);
    assert!(modules.join("mod.rs").exists());
    assert!(modules.join("com/example/edge/post.rs").exists());
    // The official lexicon is atdata-api's, not generated again.
    assert!(!modules.join("com/atproto").exists());
    let post = std::fs::read_to_string(modules.join("com/example/edge/post.rs")).expect("post");
    assert!(post.contains("::atdata_api::com::atproto::repo::strong_ref::Main"));
    // The unresolved reference, and the six self-referencing arrays generated as structs.
    assert_eq!(summary.warnings.len(), 7, "{:?}", summary.warnings);

    let krate = dir.join("crate");
    let summary =
        atdata_codegen::generate_dir(&lexicons, &krate, Some(&CrateOptions::new("my-lexicons")))
            .expect("crate");
    assert!(krate.join("Cargo.toml").exists());
    assert!(krate.join("src/lib.rs").exists());
    assert_eq!(summary.files, 19);
    let _ = std::fs::remove_dir_all(&dir);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
}
