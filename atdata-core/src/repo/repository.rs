//! The in-memory repository.

use crate::car::{self, CarReader};
use crate::cbor::{self, DecodeError};
use crate::cid::{Cid, CidMap};
use crate::mst::Mst;
use crate::signing::Signer;
use crate::syntax::{Did, Tid};
use crate::value::Value;
use crate::value_ref::ValueRef;

use super::{Commit, RepoError};

/// A repository: its commit, its MST and the blocks of its records.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let car = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"),
/// #     "/../testdata/corpus/repo-stream/car-samples/tiny.car"))?;
/// let repo = atdata_core::repo::Repo::from_car(&car)?;
/// println!("{} at rev {:?}: {} records", repo.did(), repo.commit().rev(), repo.len());
/// for record in repo.records() {
///     let record = record?;
///     println!("{}/{} {}", record.collection(), record.rkey(), record.cid);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Repo {
    commit: Commit,
    commit_cid: Cid,
    mst: Mst,
    /// Record blocks by CID (MST node blocks are not kept: the tree holds their content).
    records: RecordStore,
}

/// One record of a repository, decoded only when asked.
#[derive(Debug, Clone, Copy)]
pub struct Record<'r> {
    /// `collection/rkey`.
    pub path: &'r str,
    /// The record's CID.
    pub cid: Cid,
    /// The record's DAG-CBOR bytes.
    pub bytes: &'r [u8],
}

impl<'r> Record<'r> {
    /// The collection NSID part of the path.
    pub fn collection(&self) -> &'r str {
        self.path.split_once('/').map_or(self.path, |(c, _)| c)
    }

    /// The record key part of the path.
    pub fn rkey(&self) -> &'r str {
        self.path.split_once('/').map_or("", |(_, r)| r)
    }

    /// Decodes the record, borrowing from the repository.
    pub fn decode(&self) -> Result<ValueRef<'r>, DecodeError> {
        cbor::decode_ref(self.bytes)
    }

    /// Decodes the record into an owned [`Value`].
    pub fn value(&self) -> Result<Value, DecodeError> {
        cbor::decode_value(self.bytes)
    }

    /// Decodes the record into your own type.
    pub fn deserialize<T: serde::Deserialize<'r>>(&self) -> Result<T, DecodeError> {
        cbor::from_slice(self.bytes)
    }
}

impl Repo {
    /// Loads a repository export. Every block's hash is checked, the commit decoded, the MST
    /// loaded and checked (order, layers, node CIDs), and every record block must be present.
    /// The signature is not checked here: that needs the account's key (see [`Repo::verify`]).
    pub fn from_car(bytes: &[u8]) -> Result<Repo, RepoError> {
        let reader = CarReader::new(bytes)?;
        let [root] = reader.roots() else {
            return Err(RepoError::Roots(reader.roots().len()));
        };
        let blocks = reader.index()?;
        let commit_bytes = blocks.get(root).ok_or_else(|| RepoError::MissingBlock {
            cid: *root,
            what: "commit".into(),
        })?;
        let commit = Commit::decode(commit_bytes)?;
        let mst = Mst::load(&blocks, commit.data())?;
        let mut records = RecordStore::with_capacity(mst.len(), bytes.len());
        for (path, cid) in mst.iter() {
            // Records are DAG-CBOR; a CID of another codec (a blob's `raw`, say) in the tree
            // is a malformed repository, not a record to hand out as bytes.
            if cid.codec() != crate::cid::DAG_CBOR {
                return Err(RepoError::RecordCodec {
                    path: path.to_owned(),
                    cid: *cid,
                });
            }
            let data = blocks.get(cid).ok_or_else(|| RepoError::MissingBlock {
                cid: *cid,
                what: format!("record {path}"),
            })?;
            records.insert(*cid, data);
        }
        Ok(Repo {
            commit,
            commit_cid: *root,
            mst,
            records,
        })
    }

    /// Builds and signs a new repository holding `records` (`collection/rkey` → record).
    pub fn create<I, K>(did: Did, signer: &impl Signer, records: I) -> Result<Repo, RepoError>
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        let mut mst = Mst::new();
        let mut blocks = RecordStore::default();
        for (path, value) in records {
            let path = path.into();
            if !crate::mst::is_valid_key(&path) {
                return Err(RepoError::Path(path));
            }
            let bytes = cbor::to_vec(&value)?;
            let cid = Cid::for_dag_cbor(&bytes);
            blocks.insert(cid, &bytes);
            mst.insert(path, cid)?;
        }
        let commit = Commit::create(did, mst.root_cid(), Tid::now(), None, signer)?;
        Ok(Repo {
            commit_cid: commit.cid(),
            commit,
            mst,
            records: blocks,
        })
    }

    /// The account.
    pub fn did(&self) -> &Did {
        self.commit.did()
    }

    /// The signed commit.
    pub fn commit(&self) -> &Commit {
        &self.commit
    }

    /// The commit's CID (the CAR root).
    pub fn commit_cid(&self) -> &Cid {
        &self.commit_cid
    }

    /// The tree of records.
    pub fn mst(&self) -> &Mst {
        &self.mst
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.mst.len()
    }

    /// Whether the repository has no records.
    pub fn is_empty(&self) -> bool {
        self.mst.is_empty()
    }

    fn record_at<'r>(&'r self, path: &'r str, cid: &Cid) -> Result<Record<'r>, RepoError> {
        let bytes = self
            .records
            .get(cid)
            .ok_or_else(|| RepoError::MissingBlock {
                cid: *cid,
                what: format!("record {path}"),
            })?;
        Ok(Record {
            path,
            cid: *cid,
            bytes,
        })
    }

    /// The record at `collection/rkey`, if present.
    pub fn get(&self, collection: &str, rkey: &str) -> Result<Option<Record<'_>>, RepoError> {
        let path = format!("{collection}/{rkey}");
        let Some(cid) = self.mst.get(&path) else {
            return Ok(None);
        };
        let bytes = self
            .records
            .get(&cid)
            .ok_or_else(|| RepoError::MissingBlock {
                cid,
                what: format!("record {path}"),
            })?;
        // Borrow the path from the tree so the record can outlive `path`: the first key of
        // the range starting at `path` is `path` itself.
        let stored = self.mst.range_prefix(&path).next().map_or("", |(k, _)| k);
        Ok(Some(Record {
            path: stored,
            cid,
            bytes,
        }))
    }

    /// Every record in key order (collection, then rkey), decoded only when asked.
    pub fn records(&self) -> impl Iterator<Item = Result<Record<'_>, RepoError>> + '_ {
        self.mst
            .iter()
            .map(move |(path, cid)| self.record_at(path, cid))
    }

    /// The records of one collection, in rkey order.
    pub fn collection<'r>(
        &'r self,
        collection: &str,
    ) -> impl Iterator<Item = Result<Record<'r>, RepoError>> + 'r {
        let prefix = format!("{collection}/");
        let entries: Vec<(&'r str, Cid)> = self
            .mst
            .range_prefix(&prefix)
            .map(|(k, c)| (k, *c))
            .collect();
        entries
            .into_iter()
            .map(move |(path, cid)| self.record_at(path, &cid))
    }

    /// Checks the signature with the account's key (the structure and hashes were checked when
    /// the repository was loaded or built).
    pub fn verify(&self, key: &impl crate::signing::Verifier) -> Result<(), RepoError> {
        self.commit.verify(key).map_err(RepoError::Sign)
    }

    /// Writes the repository as a CAR: the commit, every MST node, every record.
    pub fn to_car(&self) -> Vec<u8> {
        let commit = self.commit.encode();
        let nodes = self.mst.blocks();
        let mut records: Vec<(Cid, &[u8])> = self.records.iter().collect();
        records.sort_by_key(|(cid, _)| *cid);
        let blocks = std::iter::once((self.commit_cid, commit.as_slice()))
            .chain(nodes.iter().map(|(c, b)| (*c, b.as_slice())))
            .chain(records);
        car::write_car(&[self.commit_cid], blocks)
    }
}

/// Record blocks, deduplicated by CID, packed into one buffer: loading a repository makes one
/// growing allocation instead of one per record.
#[derive(Debug, Clone, Default)]
struct RecordStore {
    arena: Vec<u8>,
    spans: CidMap<(usize, usize)>,
}

impl RecordStore {
    fn with_capacity(records: usize, bytes: usize) -> Self {
        let mut spans = CidMap::default();
        spans.reserve(records);
        RecordStore {
            arena: Vec::with_capacity(bytes),
            spans,
        }
    }

    fn insert(&mut self, cid: Cid, bytes: &[u8]) {
        if self.spans.contains_key(&cid) {
            return;
        }
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        self.spans.insert(cid, (start, bytes.len()));
    }

    fn get(&self, cid: &Cid) -> Option<&[u8]> {
        let &(start, len) = self.spans.get(cid)?;
        self.arena.get(start..start + len)
    }

    fn iter(&self) -> impl Iterator<Item = (Cid, &[u8])> + '_ {
        self.spans
            .iter()
            .filter_map(|(cid, &(start, len))| Some((*cid, self.arena.get(start..start + len)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::car::CarReader;

    struct NullSigner;
    impl crate::signing::Signer for NullSigner {
        fn sign(&self, _: &[u8]) -> Result<[u8; 64], crate::signing::SignatureError> {
            Ok([1; 64])
        }
        fn did_key(&self) -> String {
            "did:key:zNull".into()
        }
    }

    /// A repository whose one record, `app.bsky.feed.like/3jzfcijpj2z2a`, is linked by a CID
    /// with the `raw` codec (its bytes are a valid DAG-CBOR map all the same).
    fn repo_with_raw_record() -> (Vec<u8>, Cid) {
        let record: &[u8] = b"\xa1\x61n\x01";
        let cid = Cid::for_raw(record);
        (repo_with_record(record, cid), cid)
    }

    /// A repository whose one record, `app.bsky.feed.like/3jzfcijpj2z2a`, is `record` under
    /// `cid`.
    fn repo_with_record(record: &[u8], cid: Cid) -> Vec<u8> {
        let mut mst = Mst::new();
        mst.insert("app.bsky.feed.like/3jzfcijpj2z2a".to_owned(), cid)
            .expect("key");
        let did = Did::new("did:plc:raw").expect("did");
        let tid = Tid::new("3jzfcijpj2z2a").expect("tid");
        let commit = Commit::create(did, mst.root_cid(), tid, None, &NullSigner).expect("sign");
        let commit_bytes = commit.encode();
        let nodes = mst.blocks();
        let blocks = std::iter::once((commit.cid(), commit_bytes.as_slice()))
            .chain(nodes.iter().map(|(c, b)| (*c, b.as_slice())))
            .chain([(cid, record)]);
        car::write_car(&[commit.cid()], blocks)
    }

    /// verify_car decodes records as strictly as `decode_ref`, and reports the same error.
    #[test]
    fn verify_car_names_records_that_do_not_decode_strictly() {
        let unsorted: &[u8] = b"\xa2\x61b\x01\x61a\x02";
        let float: &[u8] = b"\xa1\x61n\xf9\x3c\x00";
        for record in [unsorted, float] {
            let car = repo_with_record(record, Cid::for_dag_cbor(record));
            let report = super::super::verify_car(&car).expect("readable");
            let expected = crate::cbor::decode_ref(record).expect_err("not strict");
            assert_eq!(
                report.problems,
                [super::super::Problem::BadRecord {
                    path: "app.bsky.feed.like/3jzfcijpj2z2a".to_owned(),
                    error: expected,
                }]
            );
        }
    }

    #[test]
    fn records_must_be_dag_cbor() {
        let (car, cid) = repo_with_raw_record();
        let err = Repo::from_car(&car).expect_err("a raw record");
        assert!(
            matches!(&err, RepoError::RecordCodec { path, cid: c }
                if path == "app.bsky.feed.like/3jzfcijpj2z2a" && *c == cid),
            "{err}"
        );
        assert!(err.to_string().contains("raw (0x55)"), "{err}");

        let report = super::super::verify_car(&car).expect("readable");
        assert_eq!(report.records, 1);
        let [problem] = report.problems.as_slice() else {
            panic!("one problem expected: {:?}", report.problems);
        };
        assert!(
            matches!(problem, super::super::Problem::RecordCodec { path, cid: c }
                if path == "app.bsky.feed.like/3jzfcijpj2z2a" && *c == cid),
            "{problem}"
        );
        assert!(problem.to_string().contains("not dag-cbor"), "{problem}");
    }

    /// A CAR v1 header may list no roots (the reference PDS answers `getBlocks` with such
    /// CARs), so the generic readers accept it; a repository needs its commit as the one root.
    #[test]
    fn a_car_without_roots_is_no_repository() {
        let block = b"\xa1\x61a\x01";
        let cid = Cid::for_dag_cbor(block);
        let car = car::write_car(&[], [(cid, &block[..])]);
        let reader = CarReader::new(&car).expect("a CAR may have no roots");
        assert!(reader.roots().is_empty());
        assert_eq!(reader.blocks().count(), 1);

        let err = Repo::from_car(&car).expect_err("no commit");
        assert!(matches!(err, RepoError::Roots(0)), "{err}");
        assert!(err.to_string().contains("lists no root"), "{err}");
        let report = super::super::verify_car(&car).expect("readable");
        assert_eq!(report.problems, [super::super::Problem::Roots(0)]);
        assert!(!report.is_valid());
        assert!(report.commit.is_none());
        assert!(report.problems[0].to_string().contains("lists no root"));
    }
}
