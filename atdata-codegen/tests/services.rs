//! The namespaced methods file: one struct per namespace, a method per query and procedure,
//! gated by the namespace features.

use atdata_codegen::{Generator, ServicesOptions, OFFICIAL_NAMESPACES};
use atdata_lexicon::Catalog;

const LEXICONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../atdata-lexicon/lexicons");

#[test]
fn services_cover_every_method_of_the_official_tree() {
    let catalog = Catalog::load_dir(LEXICONS).expect("official lexicons");
    let tree = Generator::new(&catalog)
        .namespaces(OFFICIAL_NAMESPACES.iter().map(|(prefix, _)| *prefix))
        .root_path("crate::api")
        .features(true)
        .services(ServicesOptions {
            handle: "crate::Handle".into(),
            error: "crate::Error".into(),
            cfg: Some("feature = \"http\"".into()),
            blocking_handle: Some("crate::BlockingHandle".into()),
        })
        .generate()
        .expect("generate");
    let services = tree
        .files
        .iter()
        .find(|(path, _)| path.ends_with("services.rs"))
        .map(|(_, text)| text.as_str())
        .expect("services.rs");
    assert!(services.contains("pub struct ComAtprotoRepoService"));
    assert!(services.contains("pub async fn create_record("));
    assert!(
        services.contains("request: &crate::api::com::atproto::repo::create_record::CreateRecord")
    );
    assert!(services.contains("#[cfg(feature = \"app-bsky\")]"));
    let methods = services.matches("pub async fn ").count();
    let expected = catalog
        .docs()
        .filter(|d| {
            OFFICIAL_NAMESPACES
                .iter()
                .any(|(p, _)| d.id.as_str().starts_with(&format!("{p}.")))
        })
        .filter(|d| {
            matches!(
                d.main(),
                Some(atdata_lexicon::schema::UserType::Query(_))
                    | Some(atdata_lexicon::schema::UserType::Procedure(_))
            )
        })
        .count();
    assert_eq!(methods, expected, "one method per query and procedure");

    // The blocking tree: the same methods, synchronous, over the blocking handle.
    assert!(services.contains("pub mod blocking;"));
    let blocking = tree
        .files
        .iter()
        .find(|(path, _)| path.ends_with("services/blocking.rs"))
        .map(|(_, text)| text.as_str())
        .expect("services/blocking.rs");
    assert!(blocking.contains("type Handle = crate::BlockingHandle;"));
    assert!(blocking.contains("pub struct ComAtprotoRepoService"));
    assert!(!blocking.contains("async fn"));
    assert!(!blocking.contains(".await"));
    assert_eq!(blocking.matches("    pub fn ").count(), methods);
    // Left to the calling crate: compiled eagerly they cost 25 s of release build.
    assert_eq!(blocking.matches("#[inline]\n    pub fn ").count(), methods);
    println!("services: {methods} methods, async and blocking");

    // The same methods alone, for a client crate over types that live in another crate.
    let only = Generator::new(&catalog)
        .namespaces(OFFICIAL_NAMESPACES.iter().map(|(prefix, _)| *prefix))
        .root_path("::atdata_api")
        .features(true)
        .services(ServicesOptions {
            handle: "crate::Handle".into(),
            error: "crate::Error".into(),
            cfg: None,
            blocking_handle: None,
        })
        .rustfmt(false)
        .generate_services()
        .expect("services only");
    let names: Vec<_> = only.files.keys().map(|p| p.display().to_string()).collect();
    assert_eq!(names, ["services.rs"]);
    assert!(only
        .files
        .values()
        .any(|t| t.contains("::atdata_api::com::atproto::repo::")));
}
