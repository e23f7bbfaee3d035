//! Signed repository commits.

use crate::cbor::{self, Tape};
use crate::cid::Cid;
use crate::signing::{SignatureError, Signer, Verifier};
use crate::syntax::{Did, Tid};
use crate::value_ref::ValueRef;

use super::RepoError;

/// A repository commit: the signed root of a repository (repo format v3; v2 reads too).
///
/// The accessors are what the spec names. The fields are read-only: [`Commit::unsigned_bytes`]
/// keeps the block as it was read or signed (re-encoding every field but `sig`, so a commit
/// carrying fields this version does not know still verifies), and an edited field would
/// silently disagree with those bytes, the signature and [`Commit::cid`]. To change a commit,
/// sign a new one with [`Commit::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    did: Did,
    version: i64,
    data: Cid,
    rev: Option<Tid>,
    prev: Option<Cid>,
    sig: Vec<u8>,
    /// The DAG-CBOR bytes of the commit without `sig`, as they were signed.
    unsigned: Vec<u8>,
}

/// Largest commit block accepted (a commit is about 200 bytes).
const MAX_COMMIT_LEN: usize = 16 << 10;

impl Commit {
    /// Decodes a commit block strictly.
    pub fn decode(bytes: &[u8]) -> Result<Commit, RepoError> {
        let bad = |why: String| RepoError::Commit(why);
        if bytes.len() > MAX_COMMIT_LEN {
            return Err(bad(format!(
                "commit block of {} bytes is too large",
                bytes.len()
            )));
        }
        let value = cbor::decode_ref(bytes).map_err(|e| bad(e.to_string()))?;
        let ValueRef::Map(entries) = &value else {
            return Err(bad(format!("commit is a {}, not a map", value.kind())));
        };
        let did = match value.get("did") {
            Some(ValueRef::String(s)) => Did::new(s).map_err(|e| bad(e.to_string()))?,
            _ => return Err(bad("missing string \"did\"".into())),
        };
        let version = match value.get("version") {
            Some(ValueRef::Integer(v @ (2 | 3))) => *v,
            Some(ValueRef::Integer(v)) => return Err(bad(format!("unsupported version {v}"))),
            _ => return Err(bad("missing integer \"version\"".into())),
        };
        let data = match value.get("data") {
            Some(ValueRef::Link(c)) => c.to_cid(),
            _ => return Err(bad("missing link \"data\"".into())),
        };
        let rev = match value.get("rev") {
            Some(ValueRef::String(s)) => Some(Tid::new(s).map_err(|e| bad(e.to_string()))?),
            None if version == 2 => None,
            None => return Err(bad("v3 commit without \"rev\"".into())),
            Some(other) => return Err(bad(format!("rev is a {}, not a string", other.kind()))),
        };
        let prev = match value.get("prev") {
            Some(ValueRef::Link(c)) => Some(c.to_cid()),
            Some(ValueRef::Null) => None,
            // The v3 format (and the reference implementations' schema) makes `prev` a
            // required, nullable field: a commit without it was not written by a conforming
            // implementation. v2 commits are read as they come.
            None if version == 2 => None,
            None => return Err(bad("v3 commit without \"prev\" (it may be null)".into())),
            Some(other) => return Err(bad(format!("prev is a {}, not a link", other.kind()))),
        };
        let sig = match value.get("sig") {
            Some(ValueRef::Bytes(b)) => b.to_vec(),
            _ => return Err(bad("missing bytes \"sig\"".into())),
        };
        let unsigned_entries: Vec<(&str, ValueRef<'_>)> = entries
            .iter()
            .filter(|(k, _)| *k != "sig")
            .cloned()
            .collect();
        let unsigned = cbor::encode_ref(&ValueRef::Map(unsigned_entries));
        Ok(Commit {
            did,
            version,
            data,
            rev,
            prev,
            sig,
            unsigned,
        })
    }

    /// Builds and signs a new v3 commit.
    pub fn create(
        did: Did,
        data: Cid,
        rev: Tid,
        prev: Option<Cid>,
        signer: &impl Signer,
    ) -> Result<Commit, SignatureError> {
        let prev_value = match &prev {
            Some(c) => ValueRef::Link(c.as_cid_ref()),
            None => ValueRef::Null,
        };
        let unsigned = cbor::encode_ref(&ValueRef::Map(vec![
            ("did", ValueRef::String(did.as_str())),
            ("rev", ValueRef::String(rev.as_str())),
            ("data", ValueRef::Link(data.as_cid_ref())),
            ("prev", prev_value),
            ("version", ValueRef::Integer(3)),
        ]));
        let sig = signer.sign(&unsigned)?.to_vec();
        Ok(Commit {
            did,
            version: 3,
            data,
            rev: Some(rev),
            prev,
            sig,
            unsigned,
        })
    }

    /// The account.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// Repo format version: 3 today, 2 for older repositories.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The root of the MST of records.
    pub fn data(&self) -> &Cid {
        &self.data
    }

    /// The revision, a TID that grows with every commit (absent in v2).
    pub fn rev(&self) -> Option<&Tid> {
        self.rev.as_ref()
    }

    /// The previous commit (usually null in v3, where the key must be present).
    pub fn prev(&self) -> Option<&Cid> {
        self.prev.as_ref()
    }

    /// The signature over [`Commit::unsigned_bytes`]: compact 64 bytes.
    pub fn sig(&self) -> &[u8] {
        &self.sig
    }

    /// The DAG-CBOR bytes that the signature covers: the commit without `sig`.
    pub fn unsigned_bytes(&self) -> &[u8] {
        &self.unsigned
    }

    /// The commit block: the unsigned fields plus `sig`, canonical DAG-CBOR.
    pub fn encode(&self) -> Vec<u8> {
        let mut tape = Tape::new();
        let mut entries: Vec<(&str, ValueRef<'_>)> = match tape.decode(&self.unsigned) {
            Ok(root) => root
                .map_iter()
                .map(|(k, v)| (k, v.to_value_ref()))
                .collect(),
            // `unsigned` is always our own canonical encoding of a map.
            Err(_) => Vec::new(),
        };
        entries.push(("sig", ValueRef::Bytes(&self.sig)));
        cbor::encode_ref(&ValueRef::Map(entries))
    }

    /// The commit's CID.
    pub fn cid(&self) -> Cid {
        Cid::for_dag_cbor(&self.encode())
    }

    /// Checks the signature with the account's signing key.
    pub fn verify(&self, key: &impl Verifier) -> Result<(), SignatureError> {
        key.verify(&self.unsigned, &self.sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit block with the given fields (and a dummy signature), canonically encoded.
    fn block(version: i64, prev: Option<ValueRef<'_>>) -> Vec<u8> {
        let data = Cid::for_dag_cbor(b"\xa0");
        let mut entries = vec![
            ("did", ValueRef::String("did:plc:abc")),
            ("rev", ValueRef::String("3jzfcijpj2z2a")),
            ("sig", ValueRef::Bytes(&[7; 64])),
            ("data", ValueRef::Link(data.as_cid_ref())),
            ("version", ValueRef::Integer(version)),
        ];
        if let Some(prev) = prev {
            entries.push(("prev", prev));
        }
        cbor::encode_ref(&ValueRef::Map(entries))
    }

    #[test]
    fn accessors_give_the_decoded_fields() {
        let bytes = block(3, Some(ValueRef::Null));
        let commit = Commit::decode(&bytes).expect("commit");
        assert_eq!(commit.did().as_str(), "did:plc:abc");
        assert_eq!(commit.version(), 3);
        assert_eq!(commit.data(), &Cid::for_dag_cbor(b"\xa0"));
        assert_eq!(commit.rev().map(Tid::as_str), Some("3jzfcijpj2z2a"));
        assert_eq!(commit.prev(), None);
        assert_eq!(commit.sig(), &[7; 64]);
        // What the accessors show is what the block holds: nothing can drift from the bytes.
        assert_eq!(commit.encode(), bytes);
        assert_eq!(commit.cid(), Cid::for_dag_cbor(&bytes));
    }

    #[test]
    fn v3_commit_needs_a_prev_key() {
        let commit = Commit::decode(&block(3, Some(ValueRef::Null))).expect("prev: null");
        assert_eq!(commit.prev(), None);
        let link = Cid::for_dag_cbor(b"\xa1");
        let commit =
            Commit::decode(&block(3, Some(ValueRef::Link(link.as_cid_ref())))).expect("prev");
        assert_eq!(commit.prev(), Some(&link));

        let err = Commit::decode(&block(3, None)).expect_err("no prev key");
        assert!(
            matches!(&err, RepoError::Commit(why) if why.contains("\"prev\"")),
            "{err}"
        );
    }
}
