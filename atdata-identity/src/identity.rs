//! [`Identity`]: a DID with its document, its checked handle, PDS and keys.

use std::fmt;

use atdata_core::did_doc::{DidDocument, Service};
use atdata_core::syntax::{Did, Handle};
use atdata_crypto::PublicKey;

use crate::Error;

/// Fragment of the repository signing key's verification method.
pub const SIGNING_KEY_FRAGMENT: &str = "#atproto";
/// Fragment of a labeler's label-signing key.
pub const LABELER_KEY_FRAGMENT: &str = "#atproto_label";

/// A resolved identity: the DID, its document (typed and verbatim), the handle when it was
/// checked both ways, and the parts atproto reads from the document.
///
/// Made by [`Resolver::lookup`](crate::Resolver::lookup); cached and shared as
/// `Arc<Identity>`.
///
/// ```
/// use atdata_identity::Identity;
///
/// let json = r##"{"id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
///   "alsoKnownAs": ["at://atproto.com"],
///   "verificationMethod": [{"id": "did:plc:ewvi7nxzyoun6zhxrhs64oiz#atproto", "type": "Multikey",
///     "controller": "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
///     "publicKeyMultibase": "zQ3shunBKsXixLxKtC5qeSG9E4J5RkGN57im31pcTzbNQnm5w"}],
///   "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
///     "serviceEndpoint": "https://enoki.us-east.host.bsky.network"}]}"##;
/// // A handle not (yet) checked against DNS or HTTPS is not taken as the identity's handle.
/// let identity = Identity::from_json(json, false)?;
/// assert!(identity.handle().is_invalid_marker());
/// assert_eq!(identity.claimed_handle().map(|h| h.as_str()), Some("atproto.com"));
/// assert_eq!(identity.pds(), Some("https://enoki.us-east.host.bsky.network"));
/// assert!(identity.signing_key()?.to_did_key().starts_with("did:key:zQ3sh"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Identity {
    did: Did,
    handle: Handle,
    claimed_handle: Option<Handle>,
    signing_key: Result<PublicKey, Option<String>>,
    labeler_key: Result<PublicKey, Option<String>>,
    document: DidDocument,
    json: String,
}

impl Identity {
    /// Builds an identity from a DID document and whether its claimed handle was checked to
    /// resolve back to its DID (the resolver does that check; pass `false` when unsure).
    pub fn new(document: DidDocument, json: String, handle_verified: bool) -> Identity {
        let claimed_handle = document.handle().map(|h| h.normalize());
        let handle = match &claimed_handle {
            Some(h) if handle_verified => h.clone(),
            _ => Handle::invalid(),
        };
        let signing_key = read_key(&document, SIGNING_KEY_FRAGMENT);
        let labeler_key = read_key(&document, LABELER_KEY_FRAGMENT);
        Identity {
            did: document.id.clone(),
            handle,
            claimed_handle,
            signing_key,
            labeler_key,
            document,
            json,
        }
    }

    /// Parses a DID document's JSON; see [`Identity::new`].
    pub fn from_json(json: &str, handle_verified: bool) -> Result<Identity, serde_json::Error> {
        let document: DidDocument = serde_json::from_str(json)?;
        Ok(Identity::new(document, json.to_owned(), handle_verified))
    }

    /// The DID.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The handle, when it was checked both ways (the document claims it and it resolves to
    /// this DID); otherwise the `handle.invalid` marker.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Whether [`handle`](Identity::handle) is a checked handle rather than the marker.
    pub fn handle_verified(&self) -> bool {
        !self.handle.is_invalid_marker()
    }

    /// The handle the document claims: the first valid `at://` entry of `alsoKnownAs`
    /// (lowercased), checked or not.
    pub fn claimed_handle(&self) -> Option<&Handle> {
        self.claimed_handle.as_ref()
    }

    /// The PDS URL: the `#atproto_pds` service's endpoint.
    pub fn pds(&self) -> Option<&str> {
        self.document.pds_endpoint()
    }

    /// The repository signing key (`#atproto`), read from a `Multikey` or a legacy
    /// `EcdsaSecp256k1VerificationKey2019` / `EcdsaSecp256r1VerificationKey2019` method.
    pub fn signing_key(&self) -> Result<PublicKey, Error> {
        self.key(&self.signing_key, SIGNING_KEY_FRAGMENT)
    }

    /// The label-signing key of a labeler (`#atproto_label`).
    pub fn labeler_key(&self) -> Result<PublicKey, Error> {
        self.key(&self.labeler_key, LABELER_KEY_FRAGMENT)
    }

    fn key(
        &self,
        key: &Result<PublicKey, Option<String>>,
        fragment: &'static str,
    ) -> Result<PublicKey, Error> {
        key.clone().map_err(|reason| Error::KeyNotDeclared {
            did: self.did.clone(),
            fragment,
            reason,
        })
    }

    /// The document's services.
    pub fn services(&self) -> &[Service] {
        &self.document.service
    }

    /// The endpoint of the service with this fragment id and type, such as
    /// `("#atproto_labeler", "AtprotoLabeler")`.
    pub fn service_endpoint(&self, fragment: &str, service_type: &str) -> Option<&str> {
        self.document
            .service_by_fragment(fragment, service_type)?
            .service_endpoint
            .as_uri()
    }

    /// `alsoKnownAs`, as the document lists it.
    pub fn also_known_as(&self) -> &[String] {
        &self.document.also_known_as
    }

    /// The DID document.
    pub fn document(&self) -> &DidDocument {
        &self.document
    }

    /// The DID document exactly as it was served.
    pub fn document_json(&self) -> &str {
        &self.json
    }
}

/// The key of the verification method `fragment`, or why there is none (`None`: not
/// declared).
fn read_key(document: &DidDocument, fragment: &str) -> Result<PublicKey, Option<String>> {
    let method = document
        .verification_method_by_fragment(fragment)
        .ok_or(None)?;
    if method.controller != document.id.as_str() {
        return Err(Some(format!(
            "its controller is {:?}, not the DID",
            method.controller
        )));
    }
    let multibase = method
        .public_key_multibase
        .as_deref()
        .ok_or_else(|| Some("it has no publicKeyMultibase".to_owned()))?;
    PublicKey::from_verification_method(&method.r#type, multibase).map_err(|e| Some(e.to_string()))
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("pds", &self.pds())
            .field(
                "signing_key",
                &self.signing_key.as_ref().ok().map(PublicKey::to_did_key),
            )
            .finish_non_exhaustive()
    }
}
