//! did:plc operations: the three kinds, their DAG-CBOR bytes, CIDs, signatures and the DID a
//! genesis operation defines.
//!
//! # Exact bytes
//!
//! A signature covers the DAG-CBOR of the operation as its author wrote it, so parsing JSON into
//! these types and encoding them again must give back exactly those bytes. That holds because:
//!
//! - every field of each kind is required, and `prev` must be present even when null (a regular
//!   genesis operation encodes `prev: null`; it is never omitted);
//! - **unknown fields are rejected**, not preserved: an operation with a field its type does not
//!   define fails to parse. The directory refuses such operations today; a handful accepted by
//!   older servers exist, and since the directory cannot render a document for them either,
//!   refusing them is safer than guessing how their extra values encode;
//! - `prev` must be the canonical CID string (base32 CIDv1), which it is re-encoded as; any
//!   other spelling of a CID is refused;
//! - DAG-CBOR puts map keys in canonical order whatever order the JSON had, and a JSON object
//!   with a repeated key keeps the last value, as JavaScript's `JSON.parse` does.

use std::collections::BTreeMap;

use atdata_core::encoding::base32_lower_encode_into;
use atdata_core::signing::Signer;
use atdata_core::syntax::Did;
use atdata_core::Cid;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::Error as _;
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::error::{PlcError, SignatureProblem};
use super::state::{PlcService, PlcState, ATPROTO_KEY, ATPROTO_PDS, PDS_SERVICE_TYPE};

/// Largest operation the directory accepts, in bytes of signed DAG-CBOR.
pub const MAX_OP_BYTES: usize = 7500;
/// Most rotation keys an operation may list.
pub const MAX_ROTATION_KEYS: usize = 5;
/// Most verification methods an operation may list.
pub const MAX_VERIFICATION_METHODS: usize = 10;

const TYPE_REGULAR: &str = "plc_operation";
const TYPE_TOMBSTONE: &str = "plc_tombstone";
const TYPE_LEGACY_CREATE: &str = "create";

/// The kind of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpKind {
    /// `plc_operation`: a genesis or an update.
    Regular,
    /// `plc_tombstone`: deactivates the DID.
    Tombstone,
    /// `create`: the deprecated genesis format.
    LegacyCreate,
}

impl OpKind {
    /// The `type` field of operations of this kind.
    pub fn type_name(self) -> &'static str {
        match self {
            OpKind::Regular => TYPE_REGULAR,
            OpKind::Tombstone => TYPE_TOMBSTONE,
            OpKind::LegacyCreate => TYPE_LEGACY_CREATE,
        }
    }
}

/// A `plc_operation`: the full new state, and the operation it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegularOp {
    /// Rotation keys, verification methods, `alsoKnownAs` and services.
    pub state: PlcState,
    /// CID of the previous operation, or `None` for a genesis operation.
    pub prev: Option<Cid>,
}

/// A `plc_tombstone`: deactivates the DID for good (unless nullified within the recovery window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TombstoneOp {
    /// CID of the previous operation.
    pub prev: Cid,
}

/// A legacy `create` operation: the deprecated genesis format, still found at the start of old
/// logs. Its `prev` is always null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyCreateOp {
    /// The atproto signing key (`did:key`); also the lower-authority rotation key.
    pub signing_key: String,
    /// The higher-authority rotation key (`did:key`).
    pub recovery_key: String,
    /// The handle, without `at://`.
    pub handle: String,
    /// The PDS URL.
    pub service: String,
}

/// An operation without its signature: what gets signed.
///
/// ```
/// use atdata_crypto::{Curve, Keypair};
/// use atdata_identity::plc::{genesis_did, PlcState, UnsignedOperation};
///
/// let rotation = Keypair::generate(Curve::K256)?;
/// let signing = Keypair::generate(Curve::K256)?;
/// let state = PlcState::atproto(
///     vec![rotation.did_key()],
///     signing.did_key(),
///     &"alice.test".parse()?,
///     "https://pds.example.com".into(),
/// );
/// let genesis = UnsignedOperation::regular(state, None).sign(&rotation)?;
/// let did = genesis_did(&genesis)?;
/// assert!(did.as_str().starts_with("did:plc:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsignedOperation {
    /// `plc_operation`.
    Regular(RegularOp),
    /// `plc_tombstone`.
    Tombstone(TombstoneOp),
    /// `create` (deprecated: never create new ones; supported to read old logs and in tests).
    LegacyCreate(LegacyCreateOp),
}

/// A signed operation, as the PLC directory stores and serves it.
///
/// Serde reads and writes the directory's JSON form (`{"type": "plc_operation", …, "sig": …}`).
/// Parsing requires every field of the operation's type (`prev` too, even when null), a
/// canonical CID string as `prev`, and **refuses unknown fields**, so that encoding the parsed
/// operation gives back exactly the bytes its author signed and hashed. (The directory refuses
/// such fields today; the few operations with extra fields that older servers accepted fail to
/// parse here, rather than being re-encoded by guesswork.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    content: UnsignedOperation,
    sig: String,
}

impl UnsignedOperation {
    /// A regular operation setting `state`, following `prev` (`None` for a genesis operation).
    pub fn regular(state: PlcState, prev: Option<Cid>) -> Self {
        UnsignedOperation::Regular(RegularOp { state, prev })
    }

    /// A tombstone following `prev`.
    pub fn tombstone(prev: Cid) -> Self {
        UnsignedOperation::Tombstone(TombstoneOp { prev })
    }

    /// The kind of operation.
    pub fn kind(&self) -> OpKind {
        match self {
            UnsignedOperation::Regular(_) => OpKind::Regular,
            UnsignedOperation::Tombstone(_) => OpKind::Tombstone,
            UnsignedOperation::LegacyCreate(_) => OpKind::LegacyCreate,
        }
    }

    /// The operation this one follows; `None` for a genesis operation.
    pub fn prev(&self) -> Option<&Cid> {
        match self {
            UnsignedOperation::Regular(op) => op.prev.as_ref(),
            UnsignedOperation::Tombstone(op) => Some(&op.prev),
            UnsignedOperation::LegacyCreate(_) => None,
        }
    }

    /// The state the operation sets; `None` for a tombstone.
    ///
    /// A legacy `create` reads as rotation keys `[recoveryKey, signingKey]`, verification
    /// method `atproto: signingKey`, `alsoKnownAs` `["at://<handle>"]` and service
    /// `atproto_pds: {AtprotoPersonalDataServer, service}`.
    pub fn state(&self) -> Option<PlcState> {
        match self {
            UnsignedOperation::Regular(op) => Some(op.state.clone()),
            UnsignedOperation::Tombstone(_) => None,
            UnsignedOperation::LegacyCreate(op) => Some(PlcState {
                rotation_keys: vec![op.recovery_key.clone(), op.signing_key.clone()],
                verification_methods: BTreeMap::from([(
                    ATPROTO_KEY.to_owned(),
                    op.signing_key.clone(),
                )]),
                also_known_as: vec![format!("at://{}", op.handle)],
                services: BTreeMap::from([(
                    ATPROTO_PDS.to_owned(),
                    PlcService {
                        r#type: PDS_SERVICE_TYPE.to_owned(),
                        endpoint: op.service.clone(),
                    },
                )]),
            }),
        }
    }

    /// The bytes a signature covers: the DAG-CBOR of the operation without `sig`.
    pub fn unsigned_bytes(&self) -> Result<Vec<u8>, PlcError> {
        encode(&Wire {
            content: self,
            sig: None,
        })
    }

    /// Signs the operation.
    ///
    /// A regular operation is first checked against the rules the directory enforces: 1 to 5
    /// distinct rotation keys, each a P-256 or secp256k1 `did:key`; at most 10 verification
    /// methods, each a `did:key` (any key type); no `#` in map names. A genesis operation (no
    /// `prev`) must be signed by one of its own rotation keys; for an update, the caller must use
    /// a rotation key of the previous operation (which this cannot check). The signed operation
    /// must fit in [`MAX_OP_BYTES`].
    pub fn sign(self, signer: &impl Signer) -> Result<Operation, PlcError> {
        if let UnsignedOperation::Regular(op) = &self {
            check_state(&op.state)?;
        }
        if self.prev().is_none() {
            let own_keys = self.state().map(|s| s.rotation_keys).unwrap_or_default();
            let key = signer.did_key();
            if !own_keys.contains(&key) {
                return Err(invalid(format!(
                    "a genesis operation must be signed by one of its own rotation keys, not {key}"
                )));
            }
        }
        let sig = signer
            .sign(&self.unsigned_bytes()?)
            .map_err(PlcError::Sign)?;
        let op = Operation {
            content: self,
            sig: URL_SAFE_NO_PAD.encode(sig),
        };
        let len = op.signed_bytes()?.len();
        if len > MAX_OP_BYTES {
            return Err(invalid(format!(
                "the signed operation is {len} bytes of DAG-CBOR, over the {MAX_OP_BYTES}-byte limit"
            )));
        }
        Ok(op)
    }
}

fn invalid(reason: String) -> PlcError {
    PlcError::InvalidOperation { reason }
}

/// The directory's rules for a regular operation's state.
fn check_state(state: &PlcState) -> Result<(), PlcError> {
    let keys = &state.rotation_keys;
    if keys.is_empty() || keys.len() > MAX_ROTATION_KEYS {
        return Err(invalid(format!(
            "{} rotation keys (1 to {MAX_ROTATION_KEYS} allowed)",
            keys.len()
        )));
    }
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            return Err(invalid(format!("rotation key {key} is listed twice")));
        }
        atdata_crypto::PublicKey::from_did_key(key)
            .map_err(|e| invalid(format!("rotation key {key:?}: {e}")))?;
    }
    if state.verification_methods.len() > MAX_VERIFICATION_METHODS {
        return Err(invalid(format!(
            "{} verification methods (at most {MAX_VERIFICATION_METHODS} allowed)",
            state.verification_methods.len()
        )));
    }
    for (name, key) in &state.verification_methods {
        let multibase = key.strip_prefix("did:key:z").unwrap_or("");
        if multibase.is_empty() || atdata_core::encoding::base58_decode(multibase).is_none() {
            return Err(invalid(format!(
                "verification method {name:?} is not a did:key (did:key:z + base58btc): {key:?}"
            )));
        }
    }
    let names = state
        .verification_methods
        .keys()
        .chain(state.services.keys());
    for name in names {
        if name.is_empty() || name.starts_with('#') {
            return Err(invalid(format!(
                "map name {name:?} must be non-empty and not start with '#'"
            )));
        }
    }
    Ok(())
}

impl Operation {
    /// An operation from its content and an already encoded `sig` (base64url), for operations
    /// signed elsewhere. Nothing is checked until it is verified.
    pub fn from_parts(content: UnsignedOperation, sig: String) -> Self {
        Operation { content, sig }
    }

    /// The content and the `sig` string.
    pub fn into_parts(self) -> (UnsignedOperation, String) {
        (self.content, self.sig)
    }

    /// What was signed.
    pub fn content(&self) -> &UnsignedOperation {
        &self.content
    }

    /// The kind of operation.
    pub fn kind(&self) -> OpKind {
        self.content.kind()
    }

    /// The operation this one follows; `None` for a genesis operation.
    pub fn prev(&self) -> Option<&Cid> {
        self.content.prev()
    }

    /// The state the operation sets; `None` for a tombstone. See [`UnsignedOperation::state`].
    pub fn state(&self) -> Option<PlcState> {
        self.content.state()
    }

    /// The `sig` field as written (base64url).
    pub fn sig(&self) -> &str {
        &self.sig
    }

    /// The signature bytes: `sig` decoded strictly (unpadded base64url, zero trailing bits, 64
    /// bytes).
    pub fn signature(&self) -> Result<[u8; 64], SignatureProblem> {
        let bytes = URL_SAFE_NO_PAD
            .decode(&self.sig)
            .map_err(|_| SignatureProblem::Encoding)?;
        bytes.try_into().map_err(|_| SignatureProblem::Encoding)
    }

    /// The bytes the signature covers: the DAG-CBOR of the operation without `sig`.
    pub fn unsigned_bytes(&self) -> Result<Vec<u8>, PlcError> {
        self.content.unsigned_bytes()
    }

    /// The DAG-CBOR of the signed operation, the bytes its CID (and a genesis operation's DID)
    /// hashes.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, PlcError> {
        encode(&Wire {
            content: &self.content,
            sig: Some(&self.sig),
        })
    }

    /// The operation's CID (CIDv1, dag-cbor, sha-256 of [`Operation::signed_bytes`]): what the
    /// next operation's `prev` names.
    pub fn cid(&self) -> Result<Cid, PlcError> {
        Ok(Cid::for_dag_cbor(&self.signed_bytes()?))
    }

    /// Index of the first of `rotation_keys` that verifies the signature over `unsigned` (the
    /// operation's [`Operation::unsigned_bytes`]), and whether it did so only as a high-S P-256
    /// signature (accepted when `allow_high_s_p256`). Keys that do not parse as P-256 or
    /// secp256k1 `did:key`s are `None` and skipped: they cannot have signed.
    ///
    /// `authority` names whose keys these are, for the error.
    pub(crate) fn find_signer(
        &self,
        unsigned: &[u8],
        rotation_keys: &[Option<atdata_crypto::PublicKey>],
        allow_high_s_p256: bool,
        authority: impl FnOnce() -> String,
    ) -> Result<(usize, bool), SignatureProblem> {
        use atdata_core::signing::SignatureError;
        let sig = self.signature()?;
        let mut high_s = false;
        for (i, key) in rotation_keys.iter().enumerate() {
            let Some(key) = key else { continue };
            match key.verify(unsigned, &sig) {
                Ok(()) => return Ok((i, false)),
                Err(SignatureError::HighS) => {
                    high_s = true;
                    if allow_high_s_p256
                        && key.curve() == atdata_crypto::Curve::P256
                        && key.verify_allow_high_s(unsigned, &sig).is_ok()
                    {
                        return Ok((i, true));
                    }
                }
                Err(_) => {}
            }
        }
        if high_s {
            return Err(SignatureProblem::HighS);
        }
        Err(SignatureProblem::NoMatchingKey {
            keys: rotation_keys.len(),
            authority: authority(),
        })
    }
}

/// The DID a genesis operation defines: `did:plc:` + the first 24 characters of the base32
/// (lower case) SHA-256 of its signed DAG-CBOR.
///
/// Fails with [`PlcError::InvalidOperation`] when the operation has a `prev` (it is not a genesis
/// operation). The signature is not checked here; [`AuditLog::verify`](super::AuditLog::verify)
/// does that.
pub fn genesis_did(op: &Operation) -> Result<Did, PlcError> {
    if op.prev().is_some() {
        return Err(invalid(
            "only a genesis operation (prev null) defines a DID".to_owned(),
        ));
    }
    did_for_bytes(&op.signed_bytes()?)
}

/// `did:plc:` + base32(sha256(bytes))[..24].
pub(crate) fn did_for_bytes(signed: &[u8]) -> Result<Did, PlcError> {
    let digest = Sha256::digest(signed);
    let mut text = String::from("did:plc:");
    // 15 bytes are exactly 24 base32 characters.
    base32_lower_encode_into(&digest[..15], &mut text);
    Did::try_from(text).map_err(|e| invalid(format!("derived DID is not valid: {e}")))
}

fn encode(wire: &Wire<'_>) -> Result<Vec<u8>, PlcError> {
    atdata_core::cbor::to_vec(wire).map_err(|source| PlcError::Encode {
        index: None,
        source,
    })
}

/// An operation as its fields are written, with or without `sig`: the one serializer behind the
/// JSON form, the unsigned bytes and the signed bytes.
struct Wire<'a> {
    content: &'a UnsignedOperation,
    sig: Option<&'a str>,
}

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let with_sig = usize::from(self.sig.is_some());
        let mut st = match self.content {
            UnsignedOperation::Regular(op) => {
                let mut st = s.serialize_struct("Operation", 6 + with_sig)?;
                st.serialize_field("type", TYPE_REGULAR)?;
                st.serialize_field("rotationKeys", &op.state.rotation_keys)?;
                st.serialize_field("verificationMethods", &op.state.verification_methods)?;
                st.serialize_field("alsoKnownAs", &op.state.also_known_as)?;
                st.serialize_field("services", &op.state.services)?;
                st.serialize_field("prev", &op.prev.as_ref().map(Cid::to_string))?;
                st
            }
            UnsignedOperation::Tombstone(op) => {
                let mut st = s.serialize_struct("Operation", 2 + with_sig)?;
                st.serialize_field("type", TYPE_TOMBSTONE)?;
                st.serialize_field("prev", &op.prev.to_string())?;
                st
            }
            UnsignedOperation::LegacyCreate(op) => {
                let mut st = s.serialize_struct("Operation", 6 + with_sig)?;
                st.serialize_field("type", TYPE_LEGACY_CREATE)?;
                st.serialize_field("signingKey", &op.signing_key)?;
                st.serialize_field("recoveryKey", &op.recovery_key)?;
                st.serialize_field("handle", &op.handle)?;
                st.serialize_field("service", &op.service)?;
                st.serialize_field("prev", &None::<&str>)?;
                st
            }
        };
        if let Some(sig) = self.sig {
            st.serialize_field("sig", sig)?;
        }
        st.end()
    }
}

impl Serialize for UnsignedOperation {
    /// The operation's fields without `sig`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            content: self,
            sig: None,
        }
        .serialize(s)
    }
}

impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            content: &self.content,
            sig: Some(&self.sig),
        }
        .serialize(s)
    }
}

/// The three JSON shapes, told apart by `type`; each refuses unknown fields.
#[derive(Deserialize)]
#[serde(tag = "type")]
enum WireOp {
    #[serde(rename = "plc_operation")]
    Regular(WireRegular),
    #[serde(rename = "plc_tombstone")]
    Tombstone(WireTombstone),
    #[serde(rename = "create")]
    LegacyCreate(WireLegacyCreate),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WireRegular {
    rotation_keys: Vec<String>,
    verification_methods: BTreeMap<String, String>,
    also_known_as: Vec<String>,
    services: BTreeMap<String, PlcService>,
    // `deserialize_with` also makes the field required: it must be present, even when null.
    #[serde(deserialize_with = "nullable_cid")]
    prev: Option<Cid>,
    sig: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTombstone {
    #[serde(deserialize_with = "cid_string")]
    prev: Cid,
    sig: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WireLegacyCreate {
    signing_key: String,
    recovery_key: String,
    handle: String,
    service: String,
    #[serde(deserialize_with = "null_only")]
    #[allow(dead_code)]
    prev: (),
    sig: String,
}

/// A CID string in its canonical form (the only form that re-encodes to the signed bytes).
fn parse_canonical_cid<E: serde::de::Error>(s: &str) -> Result<Cid, E> {
    let cid = Cid::parse_str(s).map_err(|e| E::custom(format!("prev {s:?}: {e}")))?;
    if cid.to_string() != s {
        return Err(E::custom(format!(
            "prev {s:?} is not in canonical form (base32 CIDv1: {cid})"
        )));
    }
    Ok(cid)
}

fn nullable_cid<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cid>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse_canonical_cid(&s))
        .transpose()
}

fn cid_string<'de, D: Deserializer<'de>>(d: D) -> Result<Cid, D::Error> {
    parse_canonical_cid(&String::deserialize(d)?)
}

fn null_only<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    match Option::<serde::de::IgnoredAny>::deserialize(d)? {
        None => Ok(()),
        Some(_) => Err(D::Error::custom(
            "prev of a legacy create operation must be null",
        )),
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match WireOp::deserialize(d)? {
            WireOp::Regular(w) => Operation {
                content: UnsignedOperation::Regular(RegularOp {
                    state: PlcState {
                        rotation_keys: w.rotation_keys,
                        verification_methods: w.verification_methods,
                        also_known_as: w.also_known_as,
                        services: w.services,
                    },
                    prev: w.prev,
                }),
                sig: w.sig,
            },
            WireOp::Tombstone(w) => Operation {
                content: UnsignedOperation::Tombstone(TombstoneOp { prev: w.prev }),
                sig: w.sig,
            },
            WireOp::LegacyCreate(w) => Operation {
                content: UnsignedOperation::LegacyCreate(LegacyCreateOp {
                    signing_key: w.signing_key,
                    recovery_key: w.recovery_key,
                    handle: w.handle,
                    service: w.service,
                }),
                sig: w.sig,
            },
        })
    }
}

/// Just the `type` of an operation, to tell an unsupported type from a malformed operation.
#[derive(Deserialize)]
pub(crate) struct TypeOnly {
    #[serde(rename = "type")]
    pub(crate) op_type: Option<serde_json::Value>,
}

impl TypeOnly {
    /// The `type` when it is a string that is not one of the three known types.
    pub(crate) fn unsupported(json: &str) -> Option<String> {
        let t: TypeOnly = serde_json::from_str(json).ok()?;
        match t.op_type {
            Some(serde_json::Value::String(s))
                if ![TYPE_REGULAR, TYPE_TOMBSTONE, TYPE_LEGACY_CREATE].contains(&s.as_str()) =>
            {
                Some(s)
            }
            None | Some(serde_json::Value::Null) => Some(String::new()),
            _ => None,
        }
    }
}
