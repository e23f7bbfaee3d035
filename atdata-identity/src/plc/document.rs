//! Comparing a served DID document with the state an audit log verified.

use std::collections::BTreeMap;
use std::fmt;

use atdata_core::did_doc::DidDocument;
use atdata_core::syntax::Did;
use atdata_crypto::PublicKey;

use super::state::PlcState;

/// Why a served DID document does not match the verified state: every difference found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the DID document does not match the audit log: {}", list(.differences))]
#[non_exhaustive]
pub struct DocumentMismatch {
    /// The differences, in the order: id, deactivation, `alsoKnownAs`, verification methods,
    /// services.
    pub differences: Vec<Difference>,
}

fn list(differences: &[Difference]) -> String {
    differences
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One difference between a served DID document and the verified state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// The document is about another DID.
    Id {
        /// The DID verified.
        expected: Did,
        /// The document's `id`.
        found: Did,
    },
    /// The log ends in a tombstone, yet a document was served.
    Deactivated,
    /// `alsoKnownAs` differs (order matters: the first handle is the one atproto uses).
    AlsoKnownAs {
        /// From the log.
        expected: Vec<String>,
        /// From the document.
        found: Vec<String>,
    },
    /// A verification method is missing, extra, repeated or has another key.
    VerificationMethod {
        /// Its name (`atproto`), or the whole id when it is not a fragment of the DID.
        name: String,
        /// The `did:key` the log sets, if any.
        expected: Option<String>,
        /// The keys the document has under that name, as `did:key`s where they parse (else
        /// `did:key:` + `publicKeyMultibase` as written).
        found: Vec<String>,
    },
    /// A service is missing, extra, repeated or has another type or endpoint.
    Service {
        /// Its name (`atproto_pds`), or the whole id when it is not a fragment of the DID.
        name: String,
        /// The `(type, endpoint)` the log sets, if any.
        expected: Option<(String, String)>,
        /// The `(type, endpoint)`s the document has under that name (a non-string endpoint is
        /// shown as JSON).
        found: Vec<(String, String)>,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Id { expected, found } => {
                write!(f, "id is {found}, expected {expected}")
            }
            Difference::Deactivated => f.write_str("the DID is deactivated (tombstoned)"),
            Difference::AlsoKnownAs { expected, found } => {
                write!(f, "alsoKnownAs is {found:?}, expected {expected:?}")
            }
            Difference::VerificationMethod {
                name,
                expected,
                found,
            } => write!(
                f,
                "verification method {name:?} is {found:?}, expected {}",
                expected.as_deref().unwrap_or("none")
            ),
            Difference::Service {
                name,
                expected,
                found,
            } => {
                write!(f, "service {name:?} is {found:?}, expected ")?;
                match expected {
                    Some((t, e)) => write!(f, "({t}, {e})"),
                    None => f.write_str("none"),
                }
            }
        }
    }
}

/// The name of `id` within `did`: `atproto` for `#atproto` or `<did>#atproto`; other ids are
/// kept whole (they can never match a name from the log).
fn name_of<'a>(id: &'a str, did: &Did) -> &'a str {
    id.strip_prefix(did.as_str())
        .unwrap_or(id)
        .strip_prefix('#')
        .unwrap_or(id)
}

/// Pairs expected and found values by name, recording every name where they differ.
fn diff_maps<T: Clone + PartialEq>(
    expected: BTreeMap<&str, T>,
    found: BTreeMap<&str, Vec<T>>,
    mut record: impl FnMut(String, Option<T>, Vec<T>),
) {
    let mut names: Vec<&str> = expected.keys().chain(found.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let want = expected.get(name).cloned();
        let got = found.get(name).cloned().unwrap_or_default();
        let same = match &want {
            Some(w) => got.len() == 1 && got.first() == Some(w),
            None => got.is_empty(),
        };
        if !same {
            record(name.to_owned(), want, got);
        }
    }
}

pub(crate) fn compare(
    did: &Did,
    state: Option<&PlcState>,
    doc: &DidDocument,
) -> Result<(), DocumentMismatch> {
    let mut differences = Vec::new();
    if doc.id != *did {
        differences.push(Difference::Id {
            expected: did.clone(),
            found: doc.id.clone(),
        });
    }
    let empty = PlcState::default();
    let state = match state {
        Some(state) => state,
        None => {
            differences.push(Difference::Deactivated);
            &empty
        }
    };
    if doc.also_known_as != state.also_known_as {
        differences.push(Difference::AlsoKnownAs {
            expected: state.also_known_as.clone(),
            found: doc.also_known_as.clone(),
        });
    }

    let expected_keys: BTreeMap<&str, String> = state
        .verification_methods
        .iter()
        .map(|(name, key)| (name.as_str(), normalize_did_key(key)))
        .collect();
    let mut found_keys: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for vm in &doc.verification_method {
        let multibase = vm.public_key_multibase.as_deref().unwrap_or("");
        let key = PublicKey::from_verification_method(&vm.r#type, multibase)
            .map(|k| k.to_did_key())
            .unwrap_or_else(|_| format!("did:key:{multibase}"));
        found_keys
            .entry(name_of(&vm.id, did))
            .or_default()
            .push(key);
    }
    diff_maps(expected_keys, found_keys, |name, expected, found| {
        differences.push(Difference::VerificationMethod {
            name,
            expected,
            found,
        })
    });

    let expected_services: BTreeMap<&str, (String, String)> = state
        .services
        .iter()
        .map(|(name, s)| (name.as_str(), (s.r#type.clone(), s.endpoint.clone())))
        .collect();
    let mut found_services: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for s in &doc.service {
        let endpoint = match s.service_endpoint.as_uri() {
            Some(uri) => uri.to_owned(),
            None => serde_json::to_string(&s.service_endpoint).unwrap_or_default(),
        };
        found_services
            .entry(name_of(&s.id, did))
            .or_default()
            .push((s.r#type.clone(), endpoint));
    }
    diff_maps(
        expected_services,
        found_services,
        |name, expected, found| {
            differences.push(Difference::Service {
                name,
                expected,
                found,
            })
        },
    );

    if differences.is_empty() {
        Ok(())
    } else {
        Err(DocumentMismatch { differences })
    }
}

/// A P-256 or secp256k1 `did:key` in its canonical spelling; anything else as written.
fn normalize_did_key(key: &str) -> String {
    PublicKey::from_did_key(key)
        .map(|k| k.to_did_key())
        .unwrap_or_else(|_| key.to_owned())
}
