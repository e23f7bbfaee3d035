//! Regenerates the checked-in generated code:
//!
//! - `atdata-client/src/api` and the feature block of `atdata-client/Cargo.toml`, from
//!   `atdata-lexicon/lexicons`;
//! - `atdata-codegen/tests/edge`, from the edge-case lexicons in `atdata-codegen/tests/lexicons`.
//!
//! ```sh
//! cargo run -p atdata-codegen --example regen
//! ```

use std::path::Path;
use std::process::ExitCode;

use atdata_codegen::presets;
use atdata_lexicon::Catalog;

#[path = "../tests/support/edge_config.rs"]
mod edge_config;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("regen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let catalog = Catalog::load_dir(workspace.join("atdata-lexicon/lexicons"))?;
    let tree = presets::atdata_client(&catalog).generate()?;
    let client = workspace.join("atdata-client");
    tree.write_to(client.join("src/api"))?;

    let manifest_path = client.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)?;
    let spliced = presets::splice_features(&manifest, &tree.features_toml())
        .ok_or("atdata-client/Cargo.toml lacks the generated-features markers")?;
    if spliced != manifest {
        std::fs::write(&manifest_path, spliced)?;
    }
    for warning in &tree.warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "regen: {} files from {} lexicons into atdata-client/src/api",
        tree.files.len(),
        catalog.len()
    );

    let edge_catalog = edge_config::catalog();
    let edge = edge_config::generate(&edge_catalog);
    edge.write_to(edge_config::tests_dir().join("edge"))?;
    println!(
        "regen: {} files into atdata-codegen/tests/edge ({} warnings, as intended)",
        edge.files.len(),
        edge.warnings.len()
    );
    Ok(())
}
