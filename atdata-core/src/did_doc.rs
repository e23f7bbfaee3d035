//! DID documents, as atproto uses them.
//!
//! Only the parts atproto reads are typed: the DID, `alsoKnownAs` (the handle), the
//! verification methods (the signing key) and the services (the PDS). Everything
//! else in the document is kept in `extra` maps, so a document round-trips through
//! serde without losing fields.

use serde::{Deserialize, Serialize};

use crate::syntax::{Did, Handle};

/// Fragment of the atproto signing key's verification method.
const ATPROTO_KEY_FRAGMENT: &str = "#atproto";
/// Fragment of the PDS service entry.
const PDS_SERVICE_FRAGMENT: &str = "#atproto_pds";
/// Service type of the PDS entry.
const PDS_SERVICE_TYPE: &str = "AtprotoPersonalDataServer";

/// A DID document (W3C DID Core, the subset atproto uses).
///
/// Missing `alsoKnownAs`, `verificationMethod` and `service` arrays read as empty.
/// Unknown fields (including `@context`) are kept in [`DidDocument::extra`].
///
/// ```
/// use atdata_core::did_doc::DidDocument;
///
/// let doc: DidDocument = serde_json::from_str(r##"{
///     "id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
///     "alsoKnownAs": ["at://atproto.com"],
///     "verificationMethod": [{
///         "id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto",
///         "type": "Multikey",
///         "controller": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
///         "publicKeyMultibase": "zQ3shunBKsXixLxKtC5qeSG9E4J5RkGN57im31pcTzbNQnm5w"
///     }],
///     "service": [{
///         "id": "#atproto_pds",
///         "type": "AtprotoPersonalDataServer",
///         "serviceEndpoint": "https://enoki.us-east.host.bsky.network"
///     }]
/// }"##)?;
/// assert_eq!(doc.handle().map(|h| h.to_string()), Some("atproto.com".to_owned()));
/// assert_eq!(doc.pds_endpoint(), Some("https://enoki.us-east.host.bsky.network"));
/// assert_eq!(doc.signing_key(), Some("zQ3shunBKsXixLxKtC5qeSG9E4J5RkGN57im31pcTzbNQnm5w"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DidDocument {
    /// The DID this document describes.
    pub id: Did,
    /// Other identifiers of the subject; atproto puts the handle here as `at://<handle>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_known_as: Vec<String>,
    /// Public keys; atproto's signing key has the id `#atproto`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verification_method: Vec<VerificationMethod>,
    /// Service endpoints; atproto's PDS has the id `#atproto_pds`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<Service>,
    /// Every other field of the document (`@context`, `controller`, …), unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One entry of `verificationMethod`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMethod {
    /// Identifier: a DID URL such as `did:plc:abc#atproto`, or the relative `#atproto`.
    pub id: String,
    /// Key type: `Multikey` today; `EcdsaSecp256k1VerificationKey2019` and
    /// `EcdsaSecp256r1VerificationKey2019` in older documents.
    #[serde(rename = "type")]
    pub r#type: String,
    /// The DID that controls the key.
    pub controller: String,
    /// The public key, multibase-encoded, when the method uses that representation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_multibase: Option<String>,
    /// Every other field (`publicKeyJwk`, …), unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One entry of `service`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// Identifier: a DID URL such as `did:plc:abc#atproto_pds`, or the relative
    /// `#atproto_pds`.
    pub id: String,
    /// Service type, such as `AtprotoPersonalDataServer`.
    #[serde(rename = "type")]
    pub r#type: String,
    /// Where the service is.
    pub service_endpoint: ServiceEndpoint,
    /// Every other field, unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A `serviceEndpoint`: a URI string (the atproto case), or a map or set as W3C DID
/// Core also allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServiceEndpoint {
    /// A URI, such as `https://bsky.social`.
    Uri(String),
    /// Any other JSON value (a map or a set of endpoints).
    Other(serde_json::Value),
}

impl ServiceEndpoint {
    /// The URI, when the endpoint is a string.
    pub fn as_uri(&self) -> Option<&str> {
        match self {
            Self::Uri(uri) => Some(uri),
            Self::Other(_) => None,
        }
    }
}

/// Whether `id` is `fragment` (relative, e.g. `#atproto`) or `did` followed by it.
fn id_matches(id: &str, did: &Did, fragment: &str) -> bool {
    id == fragment
        || id
            .strip_prefix(did.as_str())
            .is_some_and(|rest| rest == fragment)
}

impl DidDocument {
    /// The verification method with the given fragment id (`#atproto`), matched either
    /// relative or as `<did>#…`.
    pub fn verification_method_by_fragment(&self, fragment: &str) -> Option<&VerificationMethod> {
        self.verification_method
            .iter()
            .find(|vm| id_matches(&vm.id, &self.id, fragment))
    }

    /// The service with the given fragment id (`#atproto_pds`) and type, matched either
    /// relative or as `<did>#…`.
    pub fn service_by_fragment(&self, fragment: &str, service_type: &str) -> Option<&Service> {
        self.service
            .iter()
            .find(|s| s.r#type == service_type && id_matches(&s.id, &self.id, fragment))
    }

    /// The account's PDS URL: the endpoint of the `#atproto_pds` service of type
    /// `AtprotoPersonalDataServer`.
    ///
    /// Only an `https://` URL (or `http://`, which development PDSes on localhost use) with a
    /// host and no whitespace is returned; anything else is treated as absent.
    pub fn pds_endpoint(&self) -> Option<&str> {
        let url = self
            .service_by_fragment(PDS_SERVICE_FRAGMENT, PDS_SERVICE_TYPE)?
            .service_endpoint
            .as_uri()?;
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))?;
        let host_ok = !rest.is_empty() && !rest.starts_with('/');
        let clean = !url
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control());
        (host_ok && clean).then_some(url)
    }

    /// The handle the document claims: the first `alsoKnownAs` entry of the form
    /// `at://<handle>` whose rest is a valid handle. The claim still has to be verified
    /// against the handle's DNS or HTTPS record.
    pub fn handle(&self) -> Option<Handle> {
        self.also_known_as
            .iter()
            .filter_map(|aka| aka.strip_prefix("at://"))
            .find_map(|rest| Handle::new(rest).ok())
    }

    /// The atproto signing key: `publicKeyMultibase` of the `#atproto` verification
    /// method.
    ///
    /// As the DID spec for atproto requires, the method must be controlled by this DID and be
    /// of a key type atproto uses (`Multikey`, or the legacy
    /// `EcdsaSecp256k1VerificationKey2019` / `EcdsaSecp256r1VerificationKey2019`); other
    /// `#atproto` entries are skipped.
    pub fn signing_key(&self) -> Option<&str> {
        const KEY_TYPES: [&str; 3] = [
            "Multikey",
            "EcdsaSecp256k1VerificationKey2019",
            "EcdsaSecp256r1VerificationKey2019",
        ];
        self.verification_method
            .iter()
            .filter(|vm| id_matches(&vm.id, &self.id, ATPROTO_KEY_FRAGMENT))
            .filter(|vm| vm.controller == self.id.as_str())
            .filter(|vm| KEY_TYPES.contains(&vm.r#type.as_str()))
            .find_map(|vm| vm.public_key_multibase.as_deref())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/../testdata/corpus/indigo/testing/testdata/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn indigo_fixtures() {
        for (file, did, handle, pds, key_prefix) in [
            (
                "did_plc_z5vnbioquyhivxirw3bbljmu.didDoc.json",
                "did:plc:z5vnbioquyhivxirw3bbljmu",
                "koch5149-c5.test",
                "http://localhost:2583",
                "zPgFC4hK",
            ),
            (
                "fakermaker.didDoc.json",
                "did:plc:dpg45vsnuir2vqqqadsn6afg",
                "ebert9014-89.test",
                "http://localhost:2583",
                "zNMqQUvf",
            ),
            (
                "greenground.didDoc.json",
                "did:plc:wqgdnqlv2mwiio6pfchwtrff",
                "greenground.bsky.social",
                "https://bsky.social",
                "zQYEBzXe",
            ),
            (
                "paul_staging.didDoc.json",
                "did:plc:cmpvykrzb2l22kj4ojlv3ox4",
                "paul.staging.bsky.dev",
                "https://pds.staging.bsky.dev",
                "zRUTFuPm",
            ),
        ] {
            let text = fixture(file);
            let doc: DidDocument = serde_json::from_str(&text).unwrap();
            assert_eq!(doc.id, did, "{file}");
            assert_eq!(doc.handle().unwrap(), handle, "{file}");
            assert_eq!(doc.pds_endpoint(), Some(pds), "{file}");
            assert!(doc.signing_key().unwrap().starts_with(key_prefix), "{file}");
            assert!(doc.extra.contains_key("@context"), "{file}");
            // Round trip: nothing lost.
            let original: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_value(&doc).unwrap(), original, "{file}");
        }
    }

    #[test]
    fn current_multikey_document() {
        let json = r##"{
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/secp256k1-2019/v1"
            ],
            "id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
            "alsoKnownAs": ["https://example.com/me", "at://not a handle", "at://atproto.com", "at://second.example"],
            "verificationMethod": [
                {
                    "id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz#other",
                    "type": "Multikey",
                    "controller": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                    "publicKeyMultibase": "zWrong"
                },
                {
                    "id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto",
                    "type": "Multikey",
                    "controller": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                    "publicKeyMultibase": "zQ3shunBKsXixLxKtC5qeSG9E4J5RkGN57im31pcTzbNQnm5w"
                }
            ],
            "service": [
                {
                    "id": "#atproto_labeler",
                    "type": "AtprotoLabeler",
                    "serviceEndpoint": "https://mod.example.com"
                },
                {
                    "id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto_pds",
                    "type": "SomethingElse",
                    "serviceEndpoint": "https://wrong.example.com"
                },
                {
                    "id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": "https://enoki.us-east.host.bsky.network"
                },
                {
                    "id": "#hub",
                    "type": "Hub",
                    "serviceEndpoint": {"origins": ["https://a.example", "https://b.example"]}
                }
            ]
        }"##;
        let doc: DidDocument = serde_json::from_str(json).unwrap();
        assert_eq!(doc.handle().unwrap(), "atproto.com");
        assert_eq!(
            doc.signing_key(),
            Some("zQ3shunBKsXixLxKtC5qeSG9E4J5RkGN57im31pcTzbNQnm5w")
        );
        assert_eq!(
            doc.pds_endpoint(),
            Some("https://enoki.us-east.host.bsky.network")
        );
        let labeler = doc
            .service_by_fragment("#atproto_labeler", "AtprotoLabeler")
            .unwrap();
        assert_eq!(
            labeler.service_endpoint.as_uri(),
            Some("https://mod.example.com")
        );
        let hub = doc.service_by_fragment("#hub", "Hub").unwrap();
        assert_eq!(hub.service_endpoint.as_uri(), None);
        assert!(matches!(hub.service_endpoint, ServiceEndpoint::Other(_)));
        let original: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_value(&doc).unwrap(), original);
    }

    #[test]
    fn minimal_and_missing_parts() {
        let doc: DidDocument = serde_json::from_str(r#"{"id":"did:web:example.com"}"#).unwrap();
        assert!(doc.also_known_as.is_empty());
        assert!(doc.verification_method.is_empty() && doc.service.is_empty());
        assert_eq!(doc.handle(), None);
        assert_eq!(doc.pds_endpoint(), None);
        assert_eq!(doc.signing_key(), None);
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"id":"did:web:example.com"}"#
        );

        // A key from another DID does not count, nor does a suffix match.
        let doc: DidDocument = serde_json::from_str(
            r##"{"id":"did:web:example.com",
                "verificationMethod":[
                    {"id":"did:web:other.com#atproto","type":"Multikey","controller":"did:web:other.com","publicKeyMultibase":"zA"},
                    {"id":"did:web:example.com#atproto2","type":"Multikey","controller":"did:web:example.com","publicKeyMultibase":"zB"}
                ],
                "service":[{"id":"#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":{"uri":"x"}}]}"##,
        )
        .unwrap();
        assert_eq!(doc.signing_key(), None);
        assert_eq!(doc.pds_endpoint(), None);
    }

    #[test]
    fn rejects_bad_documents() {
        assert!(serde_json::from_str::<DidDocument>(r#"{"id":"not-a-did"}"#).is_err());
        assert!(serde_json::from_str::<DidDocument>(r#"{"alsoKnownAs":[]}"#).is_err());
        let e = serde_json::from_str::<DidDocument>(r#"{"id":"did:plc:"}"#).unwrap_err();
        assert!(e.to_string().contains("invalid DID"), "{e}");
    }
}
