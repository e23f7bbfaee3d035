//! How the workspace's checked-in generated code is made: the one place that knows the
//! configuration, shared by `cargo run -p xtask -- regen` and the freshness test, so the two
//! cannot drift apart. Not part of any published crate's API.
//!
//! - `atdata-api/src/generated` and the feature block of `atdata-api/Cargo.toml`: the types of
//!   the four official namespaces, one feature each.
//! - `atdata-client/src/services.rs` and `services/blocking.rs`, and the client's feature block:
//!   the namespaced methods over those types; each client feature turns on the api's.
//! - `atdata-codegen/tests/edge`: the edge-case lexicons the codegen tests compile.

use std::path::{Path, PathBuf};

use atdata_codegen::{GeneratedTree, Generator, ServicesOptions, OFFICIAL_NAMESPACES};
use atdata_lexicon::Catalog;

#[path = "../../atdata-codegen/tests/support/edge_config.rs"]
mod edge_config;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The official lexicons the API is generated from.
pub fn official_catalog(workspace: &Path) -> Result<Catalog, atdata_lexicon::CatalogError> {
    Catalog::load_dir(workspace.join("atdata-lexicon/lexicons"))
}

/// The generator for `atdata-api/src/generated`: the official namespaces, one feature each,
/// absolute paths from the crate root, the runtime in `atdata-core`.
pub fn api(catalog: &Catalog) -> Generator<'_> {
    Generator::new(catalog)
        .namespaces(OFFICIAL_NAMESPACES.iter().map(|(prefix, _)| *prefix))
        .root_path("crate")
        .features(true)
}

/// The generator for the client's namespaced methods over `atdata-api`'s request types.
pub fn client_services(catalog: &Catalog) -> Generator<'_> {
    Generator::new(catalog)
        .namespaces(OFFICIAL_NAMESPACES.iter().map(|(prefix, _)| *prefix))
        .root_path("::atdata_api")
        .features(true)
        .services(ServicesOptions {
            handle: "crate::client::Handle".into(),
            error: "crate::Error".into(),
            cfg: None,
            blocking_handle: Some("crate::blocking::Handle".into()),
        })
}

/// The client's feature block: the api's features, each passing itself on to `atdata-api`.
pub fn client_features_toml(api: &GeneratedTree) -> String {
    let mut out = String::new();
    for (feature, deps) in &api.features {
        let mut all: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
        all.push(format!("\"atdata-api/{feature}\""));
        out.push_str(&format!("{feature} = [{}]\n", all.join(", ")));
    }
    out
}

/// Puts `features` between the `# BEGIN generated features` and `# END generated features`
/// lines of a manifest.
pub fn splice_features(manifest: &str, features: &str) -> Option<String> {
    let begin = manifest.find("# BEGIN generated features")?;
    let begin_end = begin + manifest[begin..].find('\n')? + 1;
    let end = manifest.find("# END generated features")?;
    (end >= begin_end).then(|| format!("{}{features}{}", &manifest[..begin_end], &manifest[end..]))
}

/// Everything generated, by where it goes.
pub struct Outputs {
    /// `atdata-api/src/generated`.
    pub api: GeneratedTree,
    /// `atdata-client/src` (services files only).
    pub services: GeneratedTree,
    /// `atdata-codegen/tests/edge`.
    pub edge: GeneratedTree,
}

/// Generates everything.
pub fn generate(workspace: &Path) -> Result<Outputs, Box<dyn std::error::Error>> {
    let catalog = official_catalog(workspace)?;
    let edge_catalog = edge_config::catalog();
    Ok(Outputs {
        api: api(&catalog).generate()?,
        services: client_services(&catalog).generate_services()?,
        edge: edge_config::generate(&edge_catalog),
    })
}

/// A manifest with a generated feature block: where it is, its text, the text it should have.
struct Manifest {
    path: PathBuf,
    text: String,
    expected: String,
}

/// The manifests and their expected text.
fn manifests(
    workspace: &Path,
    outputs: &Outputs,
) -> Result<Vec<Manifest>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for (krate, block) in [
        ("atdata-api", outputs.api.features_toml()),
        ("atdata-client", client_features_toml(&outputs.api)),
    ] {
        let path = workspace.join(krate).join("Cargo.toml");
        let text = std::fs::read_to_string(&path)?;
        let expected = splice_features(&text, &block)
            .ok_or_else(|| format!("{krate}/Cargo.toml lacks the generated-features markers"))?;
        out.push(Manifest {
            path,
            text,
            expected,
        });
    }
    Ok(out)
}

/// Writes every output and manifest block; returns how many files were generated.
pub fn regen(workspace: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    let outputs = generate(workspace)?;
    outputs
        .api
        .write_to(workspace.join("atdata-api/src/generated"))?;
    outputs
        .services
        .write_to(workspace.join("atdata-client/src"))?;
    outputs
        .edge
        .write_to(workspace.join("atdata-codegen/tests/edge"))?;
    for m in manifests(workspace, &outputs)? {
        if m.text != m.expected {
            std::fs::write(&m.path, m.expected)?;
        }
    }
    Ok(outputs.api.files.len() + outputs.services.files.len() + outputs.edge.files.len())
}

/// What differs between the checked-in files and a fresh generation (empty when fresh).
pub fn stale(workspace: &Path) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let outputs = generate(workspace)?;
    let mut out = Vec::new();
    let api_dir = workspace.join("atdata-api/src/generated");
    out.extend(
        outputs
            .api
            .diff(&api_dir)?
            .into_iter()
            .map(|p| api_dir.join(p)),
    );
    // The hand-written files of the client carry no generator marker, so `diff` (which also
    // reports stale generated files) sees only the services files there.
    let client_src = workspace.join("atdata-client/src");
    out.extend(
        outputs
            .services
            .diff(&client_src)?
            .into_iter()
            .map(|p| client_src.join(p)),
    );
    let edge_dir = workspace.join("atdata-codegen/tests/edge");
    out.extend(
        outputs
            .edge
            .diff(&edge_dir)?
            .into_iter()
            .map(|p| edge_dir.join(p)),
    );
    for m in manifests(workspace, &outputs)? {
        if m.text != m.expected {
            out.push(m.path);
        }
    }
    Ok(out)
}
