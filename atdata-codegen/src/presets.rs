//! The configuration `atdata-client` is generated with, shared by its regeneration example and
//! its freshness test so the two cannot drift apart.

use atdata_lexicon::Catalog;

use crate::Generator;

/// The official namespaces `atdata-client` holds, with their cargo features.
pub const OFFICIAL: [(&str, &str); 4] = [
    ("com.atproto", "com-atproto"),
    ("app.bsky", "app-bsky"),
    ("chat.bsky", "chat-bsky"),
    ("tools.ozone", "tools-ozone"),
];

/// The generator for `atdata-client/src/api`: the four official namespaces (others, such as
/// `site.standard`, are left out), one feature each, absolute paths from `crate::api`, the
/// support code at `crate::runtime`.
pub fn atdata_client(catalog: &Catalog) -> Generator<'_> {
    Generator::new(catalog)
        .namespaces(OFFICIAL.iter().map(|(prefix, _)| *prefix))
        .runtime_path("crate::runtime")
        .root_path("crate::api")
        .features(true)
        .services(crate::ServicesOptions {
            handle: "crate::client::Handle".into(),
            error: "crate::Error".into(),
            cfg: Some("feature = \"http\"".into()),
            blocking_handle: Some("crate::blocking::Handle".into()),
        })
}

/// Puts `features` (from [`crate::GeneratedTree::features_toml`]) between the
/// `# BEGIN generated features` and `# END generated features` lines of a manifest.
pub fn splice_features(manifest: &str, features: &str) -> Option<String> {
    let begin = manifest.find("# BEGIN generated features")?;
    let begin_end = begin + manifest[begin..].find('\n')? + 1;
    let end = manifest.find("# END generated features")?;
    (end >= begin_end).then(|| format!("{}{features}{}", &manifest[..begin_end], &manifest[end..]))
}
