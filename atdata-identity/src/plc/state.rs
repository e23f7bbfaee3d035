//! [`PlcState`]: what a regular operation says about a DID, and the DID document it renders to.

use std::collections::BTreeMap;

use atdata_core::did_doc::{DidDocument, Service, ServiceEndpoint, VerificationMethod};
use atdata_core::syntax::{Did, Handle};
use atdata_crypto::{Curve, PublicKey};
use serde::{Deserialize, Serialize};

/// Name of the atproto signing key in `verificationMethods`.
pub const ATPROTO_KEY: &str = "atproto";
/// Name of the PDS entry in `services`.
pub const ATPROTO_PDS: &str = "atproto_pds";
/// Service type of the PDS entry.
pub const PDS_SERVICE_TYPE: &str = "AtprotoPersonalDataServer";

/// The contexts every rendered document starts with.
const BASE_CONTEXTS: [&str; 2] = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
];
const P256_CONTEXT: &str = "https://w3id.org/security/suites/ecdsa-2019/v1";
const K256_CONTEXT: &str = "https://w3id.org/security/suites/secp256k1-2019/v1";

/// The data a did:plc operation sets (the directory's `/{did}/data` view, without `did`).
///
/// Maps are ordered by key; the directory keeps JSON insertion order, which only affects the
/// order of entries in a rendered document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlcState {
    /// `did:key` public keys that may sign the next operation, highest authority first.
    pub rotation_keys: Vec<String>,
    /// Name (`atproto`) → `did:key` of each key the DID document publishes.
    pub verification_methods: BTreeMap<String, String>,
    /// URIs of other names for the DID; atproto puts the handle here as `at://<handle>`.
    pub also_known_as: Vec<String>,
    /// Name (`atproto_pds`) → service.
    pub services: BTreeMap<String, PlcService>,
}

/// One entry of [`PlcState::services`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlcService {
    /// Service type, such as `AtprotoPersonalDataServer`.
    #[serde(rename = "type")]
    pub r#type: String,
    /// The service URL.
    pub endpoint: String,
}

impl PlcState {
    /// The usual atproto state: one signing key (`atproto`), the handle as `at://<handle>`, and
    /// the PDS (`atproto_pds`).
    ///
    /// ```
    /// use atdata_identity::plc::PlcState;
    ///
    /// let state = PlcState::atproto(
    ///     vec!["did:key:zQ3shhCGUqDKjStzuDxPkTxN6ujddP4RkEKJJouJGRRkaLGbg".into()],
    ///     "did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF".into(),
    ///     &"alice.test".parse()?,
    ///     "https://pds.example.com".into(),
    /// );
    /// assert_eq!(state.handle().map(|h| h.to_string()), Some("alice.test".into()));
    /// assert_eq!(state.pds_endpoint(), Some("https://pds.example.com"));
    /// # Ok::<(), atdata_core::syntax::SyntaxError>(())
    /// ```
    pub fn atproto(
        rotation_keys: Vec<String>,
        signing_key: String,
        handle: &Handle,
        pds_endpoint: String,
    ) -> Self {
        PlcState {
            rotation_keys,
            verification_methods: BTreeMap::from([(ATPROTO_KEY.to_owned(), signing_key)]),
            also_known_as: vec![format!("at://{handle}")],
            services: BTreeMap::from([(
                ATPROTO_PDS.to_owned(),
                PlcService {
                    r#type: PDS_SERVICE_TYPE.to_owned(),
                    endpoint: pds_endpoint,
                },
            )]),
        }
    }

    /// The atproto signing key (`verificationMethods.atproto`), as a `did:key`.
    pub fn signing_key(&self) -> Option<&str> {
        self.verification_methods
            .get(ATPROTO_KEY)
            .map(String::as_str)
    }

    /// The first `alsoKnownAs` entry of the form `at://<valid handle>`.
    pub fn handle(&self) -> Option<Handle> {
        self.also_known_as
            .iter()
            .filter_map(|aka| aka.strip_prefix("at://"))
            .find_map(|rest| Handle::new(rest).ok())
    }

    /// The endpoint of the `atproto_pds` service, when its type is `AtprotoPersonalDataServer`.
    pub fn pds_endpoint(&self) -> Option<&str> {
        self.services
            .get(ATPROTO_PDS)
            .filter(|s| s.r#type == PDS_SERVICE_TYPE)
            .map(|s| s.endpoint.as_str())
    }

    /// The DID document the PLC directory serves for `did` in this state.
    ///
    /// Verification methods get the id `<did>#<name>`, type `Multikey`, and the `did:key` minus
    /// its `did:key:` prefix as `publicKeyMultibase`; services get the id `#<name>`. `@context`
    /// lists the DID and Multikey contexts, plus the ECDSA suite of each curve used (a key of
    /// another type adds none).
    pub fn to_document(&self, did: &Did) -> DidDocument {
        let mut contexts: Vec<&str> = BASE_CONTEXTS.to_vec();
        let verification_method = self
            .verification_methods
            .iter()
            .map(|(name, key)| {
                let suite = PublicKey::from_did_key(key).ok().map(|k| match k.curve() {
                    Curve::P256 => P256_CONTEXT,
                    Curve::K256 => K256_CONTEXT,
                });
                if let Some(suite) = suite.filter(|s| !contexts.contains(s)) {
                    contexts.push(suite);
                }
                VerificationMethod {
                    id: format!("{did}#{name}"),
                    r#type: "Multikey".to_owned(),
                    controller: did.to_string(),
                    public_key_multibase: Some(
                        key.strip_prefix("did:key:").unwrap_or(key).to_owned(),
                    ),
                    extra: serde_json::Map::new(),
                }
            })
            .collect();
        let service = self
            .services
            .iter()
            .map(|(name, s)| Service {
                id: format!("#{name}"),
                r#type: s.r#type.clone(),
                service_endpoint: ServiceEndpoint::Uri(s.endpoint.clone()),
                extra: serde_json::Map::new(),
            })
            .collect();
        let mut extra = serde_json::Map::new();
        extra.insert(
            "@context".to_owned(),
            serde_json::Value::Array(
                contexts
                    .into_iter()
                    .map(|c| serde_json::Value::String(c.to_owned()))
                    .collect(),
            ),
        );
        DidDocument {
            id: did.clone(),
            also_known_as: self.also_known_as.clone(),
            verification_method,
            service,
            extra,
        }
    }
}
