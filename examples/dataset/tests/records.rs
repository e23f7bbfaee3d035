//! The dataset records built with the generated types: they round-trip through DAG-CBOR and
//! JSON with the same CID, validate against the lexicons (with the official ones they refer
//! to), invalid data fails with an error naming its path, and data from newer writers (unknown
//! fields, unknown union members) survives a round trip.

use std::fmt::Debug;

use atdata_core::runtime::{Deserialize, Serialize};
use atdata_core::{cbor, Cid, Datetime, Did, Language, Tid, Uri, Value};
use atdata_example_dataset::{
    blob_shard, defs, ids, lens, record, sample_schema, strong_ref, Dataset, Lens, SampleSchema,
    StrongRef,
};
use atdata_lexicon::validate::{Problem, Target, Unit};
use atdata_lexicon::Catalog;

// ---------------------------------------------------------------------------------------------
// Fixtures: one value of each shape the lexicons allow, built with the generated constructors
// and setters.

fn created() -> Datetime {
    "2024-05-01T12:00:00.000Z".parse().expect("datetime")
}

fn publisher() -> Did {
    "did:web:datasets.example.com".parse().expect("did")
}

fn rkey(n: u64) -> Tid {
    // Fixed keys, so CIDs and URIs are the same on every run.
    Tid::from_parts(1_714_564_800_000_000 + n, 0).expect("tid")
}

fn sample_schema() -> SampleSchema {
    let document = Value::from_json_str(
        r#"{
            "title": "image-caption pair",
            "type": "object",
            "properties": {
                "image": {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/jpeg"},
                "caption": {"type": "string", "maxLength": 2000},
                "width": {"type": "integer", "minimum": 1}
            },
            "required": ["image", "caption"]
        }"#,
    )
    .expect("JSON schema document");
    SampleSchema::new(
        "image-caption-pair",
        "1.0.0",
        sample_schema::JsonSchema::new(document),
        created(),
    )
    .description("One image and one English caption.")
}

/// A second schema, for lenses to point at: text only.
fn text_schema() -> SampleSchema {
    let document = Value::from_json_str(
        r#"{"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}"#,
    )
    .expect("JSON schema document");
    SampleSchema::new(
        "text",
        "1.0.0",
        sample_schema::JsonSchema::new(document),
        created(),
    )
}

fn schema_ref() -> StrongRef {
    strong_ref(publisher(), rkey(1), &sample_schema()).expect("strong ref")
}

fn text_schema_ref() -> StrongRef {
    strong_ref(publisher(), rkey(2), &text_schema()).expect("strong ref")
}

fn blob_dataset() -> Dataset {
    let shards = vec![
        blob_shard(b"first shard", "application/vnd.apache.parquet").sample_count(600),
        // A shard as the PDS's uploadBlob answer gives it, without a checksum.
        defs::BlobShard::new(atdata_core::Blob::new(
            Cid::for_raw(b"second shard"),
            "application/vnd.apache.parquet",
            12,
        ))
        .sample_count(400),
    ];
    Dataset::new(
        "Captions (small)",
        schema_ref(),
        defs::BlobStorage::new(shards),
        created(),
    )
    .version("2024-05")
    .description("Images with one caption each.")
    .format(defs::FORMAT_PARQUET)
    .license("CC-BY-4.0")
    .sample_count(1000)
    .size_bytes(23)
    .tags(vec!["images".to_owned(), "captions".to_owned()])
    .langs(vec![
        "en".parse::<Language>().expect("lang"),
        "de".parse::<Language>().expect("lang"),
    ])
    .homepage(
        "https://datasets.example.com/captions"
            .parse::<Uri>()
            .expect("uri"),
    )
    .citation("Example Datasets (2024). Captions.")
}

fn url_dataset() -> Dataset {
    let urls: Vec<Uri> = [
        "https://mirror-a.example.com/captions.tar",
        "https://mirror-b.example.org/captions.tar",
    ]
    .iter()
    .map(|u| u.parse().expect("uri"))
    .collect();
    let digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let storage = defs::UrlStorage::new(urls).mirrors(true).checksums(vec![
        defs::Checksum::new("sha256", digest),
        defs::Checksum::new("sha256", digest),
    ]);
    Dataset::new("Captions (large)", schema_ref(), storage, created())
        .format(defs::FORMAT_WEBDATASET)
        .supersedes(strong_ref(publisher(), rkey(3), &blob_dataset()).expect("strong ref"))
}

fn mapping_lens() -> Lens {
    let mapping = lens::FieldMapping::new(vec![
        lens::FieldRule::new("caption", "text"),
        lens::FieldRule::new("width", "meta.width").cast("string"),
    ]);
    Lens::new(
        "caption-pair to text",
        schema_ref(),
        text_schema_ref(),
        mapping,
        created(),
    )
    .description("Keeps the caption, drops the image.")
    .invertible(false)
}

fn code_lens() -> Lens {
    let code = lens::Code::new(
        "python",
        lens::InlineCode::new("def to_text(sample):\n    return {\"text\": sample[\"caption\"]}\n"),
    )
    .entrypoint("to_text");
    Lens::new(
        "caption-pair to text (code)",
        schema_ref(),
        text_schema_ref(),
        code,
        created(),
    )
}

/// The catalog to validate against: the example lexicons, plus each official lexicon they
/// refer to (`com.atproto.repo.strongRef`), taken from the compiled-in official tree.
fn catalog() -> Catalog {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons");
    let mut catalog = Catalog::load_dir(dir).expect("example lexicons load");
    loop {
        let missing: Vec<String> = catalog
            .unresolved_refs()
            .into_iter()
            .map(|r| r.target.split('#').next().unwrap_or_default().to_owned())
            .filter(|nsid| !nsid.is_empty())
            .collect();
        if missing.is_empty() {
            break;
        }
        for nsid in missing {
            if catalog.doc(&nsid).is_none() {
                let doc = atdata_lexicon::official::catalog()
                    .doc(&nsid)
                    .unwrap_or_else(|| {
                        panic!("{nsid} is neither an example nor an official lexicon")
                    });
                catalog.add(doc.clone()).expect("add official lexicon");
            }
        }
    }
    catalog
}

// ---------------------------------------------------------------------------------------------
// (b) Round trips.

/// Encodes `value` as DAG-CBOR and as JSON, decodes both back and checks that nothing changed;
/// returns the value as a data-model [`Value`].
fn round_trip<T>(value: &T) -> Value
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + Debug,
{
    let bytes = cbor::to_vec(value).expect("encode DAG-CBOR");
    let cid = cbor::cid_for(value).expect("cid");
    assert_eq!(cid, Cid::for_dag_cbor(&bytes));

    let from_cbor: T = cbor::from_slice(&bytes).expect("decode DAG-CBOR");
    assert_eq!(&from_cbor, value);
    assert_eq!(cbor::to_vec(&from_cbor).expect("re-encode"), bytes);

    let json = serde_json::to_string(value).expect("encode JSON");
    let from_json: T = serde_json::from_str(&json).expect("decode JSON");
    assert_eq!(&from_json, value);
    assert_eq!(cbor::cid_for(&from_json).expect("cid"), cid);

    // The JSON is atproto JSON: read as an untyped value, it has the same CID.
    let untyped = Value::from_json_str(&json).expect("data-model JSON");
    assert_eq!(cbor::cid_for(&untyped).expect("cid"), cid);
    let value = atdata_core::to_value(value).expect("to Value");
    assert_eq!(untyped, value);
    value
}

#[test]
fn sample_schema_round_trips() {
    let schema = sample_schema();
    let value = round_trip(&schema);
    assert_eq!(
        value.type_name(),
        Some(ids::AC_FOUNDATION_DATASET_SAMPLE_SCHEMA)
    );
    let inner = value.get("schema").expect("schema");
    assert_eq!(
        inner.type_name(),
        Some("ac.foundation.dataset.sampleSchema#jsonSchema")
    );
    assert_eq!(
        inner
            .get("document")
            .and_then(|d| d.get("type"))
            .and_then(Value::as_str),
        Some("object")
    );
    round_trip(&text_schema());
}

#[test]
fn blob_dataset_round_trips() {
    let dataset = blob_dataset();
    let value = round_trip(&dataset);
    assert_eq!(value.type_name(), Some(ids::AC_FOUNDATION_DATASET_RECORD));
    let storage = value.get("storage").expect("storage");
    assert_eq!(
        storage.type_name(),
        Some("ac.foundation.dataset.defs#blobStorage")
    );
    // Shards are plain objects (not union members): no `$type`. Blobs have the current form.
    let shard = &storage
        .get("shards")
        .and_then(Value::as_array)
        .expect("shards")[0];
    assert_eq!(shard.type_name(), None);
    let blob = shard.get("blob").expect("blob");
    assert_eq!(blob.type_name(), Some("blob"));
    assert_eq!(
        blob.get("ref").and_then(Value::as_link),
        Some(&Cid::for_raw(b"first shard"))
    );
    // The checksum blob_shard computes is the digest inside the blob's CID.
    let digest = shard
        .get("checksum")
        .and_then(|c| c.get("digest"))
        .and_then(Value::as_str)
        .expect("digest");
    assert_eq!(
        digest,
        atdata_core::encoding::hex_encode(Cid::for_raw(b"first shard").digest())
    );

    let json = serde_json::to_value(&dataset).expect("JSON");
    assert_eq!(json["storage"]["shards"][0]["blob"]["$type"], "blob");
    assert_eq!(
        json["storage"]["shards"][0]["blob"]["ref"]["$link"],
        Cid::for_raw(b"first shard").to_string()
    );
    assert_eq!(json["schema"]["uri"], schema_ref().uri.to_string());
}

#[test]
fn url_dataset_round_trips() {
    let value = round_trip(&url_dataset());
    let storage = value.get("storage").expect("storage");
    assert_eq!(
        storage.type_name(),
        Some("ac.foundation.dataset.defs#urlStorage")
    );
    assert_eq!(storage.get("mirrors").and_then(Value::as_bool), Some(true));
    assert_eq!(
        storage
            .get("urls")
            .and_then(Value::as_array)
            .map(<[Value]>::len),
        Some(2)
    );
}

#[test]
fn lenses_round_trip() {
    let value = round_trip(&mapping_lens());
    assert_eq!(value.type_name(), Some(ids::AC_FOUNDATION_DATASET_LENS));
    assert_eq!(
        value.get("transform").and_then(Value::type_name),
        Some("ac.foundation.dataset.lens#fieldMapping")
    );

    let value = round_trip(&code_lens());
    let source = value
        .get("transform")
        .and_then(|t| t.get("source"))
        .expect("source");
    assert_eq!(
        source.type_name(),
        Some("ac.foundation.dataset.lens#inlineCode")
    );
}

#[test]
fn strong_refs_point_at_the_record() {
    let schema = sample_schema();
    let reference = schema_ref();
    assert_eq!(reference.cid, cbor::cid_for(&schema).expect("cid"));
    assert_eq!(
        reference.uri.collection().map(|c| c.as_str()),
        Some(ids::AC_FOUNDATION_DATASET_SAMPLE_SCHEMA)
    );
    assert_eq!(
        reference.uri.rkey().map(|k| k.as_str().to_owned()),
        Some(rkey(1).as_str().to_owned())
    );
    assert_eq!(
        reference.uri.to_string(),
        format!(
            "at://did:web:datasets.example.com/ac.foundation.dataset.sampleSchema/{}",
            rkey(1).as_str()
        )
    );
}

// ---------------------------------------------------------------------------------------------
// (c) Validation.

#[test]
fn example_lexicons_resolve_and_lint_clean() {
    let catalog = catalog();
    assert!(catalog.unresolved_refs().is_empty());
    assert!(catalog.doc("com.atproto.repo.strongRef").is_some());
    let ours: Vec<String> = atdata_lexicon::lint::lint(&catalog)
        .into_iter()
        .filter(|l| l.id.starts_with("ac.foundation.dataset."))
        .map(|l| l.to_string())
        .collect();
    assert!(ours.is_empty(), "{ours:#?}");
}

#[test]
fn every_example_record_validates() {
    let catalog = catalog();
    let records = [
        (
            ids::AC_FOUNDATION_DATASET_SAMPLE_SCHEMA,
            round_trip(&sample_schema()),
        ),
        (
            ids::AC_FOUNDATION_DATASET_SAMPLE_SCHEMA,
            round_trip(&text_schema()),
        ),
        (
            ids::AC_FOUNDATION_DATASET_RECORD,
            round_trip(&blob_dataset()),
        ),
        (
            ids::AC_FOUNDATION_DATASET_RECORD,
            round_trip(&url_dataset()),
        ),
        (ids::AC_FOUNDATION_DATASET_LENS, round_trip(&mapping_lens())),
        (ids::AC_FOUNDATION_DATASET_LENS, round_trip(&code_lens())),
    ];
    for (nsid, value) in &records {
        if let Err(errors) = catalog.validate_all(Target::Record(nsid), value) {
            panic!("{nsid} {value}: {errors:?}");
        }
    }
    // A record validated as another collection fails on its `$type`.
    assert!(catalog
        .validate_record(ids::AC_FOUNDATION_DATASET_LENS, &records[0].1)
        .is_err());
}

#[test]
fn known_values_are_advice() {
    // `format` lists known values, but others are allowed: readers must cope with new ones.
    let mut dataset = blob_dataset();
    dataset.format = Some("zarr".to_owned());
    let value = atdata_core::to_value(&dataset).expect("to Value");
    catalog()
        .validate_record(ids::AC_FOUNDATION_DATASET_RECORD, &value)
        .expect("valid");
}

/// The first validation error of `value` as a record of `nsid`.
fn first_error(nsid: &str, value: &Value) -> atdata_lexicon::validate::ValidationError {
    match catalog().validate_record(nsid, value) {
        Ok(()) => panic!("{value} validates as {nsid}"),
        Err(error) => error,
    }
}

#[test]
fn name_over_256_bytes_is_refused() {
    let mut dataset = blob_dataset();
    dataset.name = "x".repeat(257);
    let value = atdata_core::to_value(&dataset).expect("to Value");
    let error = first_error(ids::AC_FOUNDATION_DATASET_RECORD, &value);
    assert_eq!(error.path, "Record.name");
    assert!(
        matches!(
            error.problem,
            Problem::TooLong {
                unit: Unit::Bytes,
                limit: 256,
                found: 257
            }
        ),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "Record.name: must not be longer than 256 bytes (found 257)"
    );

    // The limit counts UTF-8 bytes, not characters: 129 "é" are 258 bytes.
    dataset.name = "é".repeat(129);
    let value = atdata_core::to_value(&dataset).expect("to Value");
    assert_eq!(
        first_error(ids::AC_FOUNDATION_DATASET_RECORD, &value).path,
        "Record.name"
    );
}

#[test]
fn empty_urls_are_refused() {
    let dataset = Dataset::new(
        "nowhere",
        schema_ref(),
        defs::UrlStorage::new(Vec::<Uri>::new()),
        created(),
    );
    let value = atdata_core::to_value(&dataset).expect("to Value");
    let error = first_error(ids::AC_FOUNDATION_DATASET_RECORD, &value);
    assert_eq!(error.path, "Record.storage.urls");
    assert!(
        matches!(
            error.problem,
            Problem::TooShort {
                limit: 1,
                found: 0,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn blob_shard_limits_are_checked() {
    let mut dataset = blob_dataset();
    if let record::RecordStorage::BlobStorage(storage) = &mut dataset.storage {
        storage.shards[1].blob = atdata_core::Blob::new(
            Cid::for_raw(b"huge"),
            "application/vnd.apache.parquet",
            100_000_001,
        );
        storage.shards[0].checksum = Some(defs::Checksum::new("sha256", "abc"));
    }
    let value = atdata_core::to_value(&dataset).expect("to Value");
    let errors: Vec<String> = catalog()
        .validate_all(Target::Record(ids::AC_FOUNDATION_DATASET_RECORD), &value)
        .expect_err("invalid")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "Record.storage.shards[0].checksum.digest: must not be shorter than 16 bytes (found 3)",
            "Record.storage.shards[1].blob: blob is 100000001 bytes, larger than the maximum 100000000",
        ]
    );
}

/// `value` with the map entry at `path` replaced by `new`.
fn replaced(mut value: Value, path: &[&str], new: Value) -> Value {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut at = &mut value;
    for key in parents {
        at = match at {
            Value::Map(map) => map.get_mut(*key).expect("key present"),
            other => panic!("{other} is not a map"),
        };
    }
    match at {
        Value::Map(map) => {
            map.insert((*last).to_owned(), new);
        }
        other => panic!("{other} is not a map"),
    }
    value
}

#[test]
fn unknown_member_of_closed_union_is_refused() {
    let value = atdata_core::to_value(&code_lens()).expect("to Value");
    let bad = replaced(
        value,
        &["transform", "source", "$type"],
        Value::String("ac.foundation.dataset.lens#gitCode".to_owned()),
    );

    let error = first_error(ids::AC_FOUNDATION_DATASET_LENS, &bad);
    assert_eq!(error.path, "Record.transform.source");
    assert!(
        matches!(error.problem, Problem::NotInUnion { .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "Record.transform.source: $type \"ac.foundation.dataset.lens#gitCode\" is not one of \
         the closed union's #inlineCode, #blobCode"
    );

    // The generated types refuse it too, naming the path, from DAG-CBOR and from JSON.
    let from_cbor = cbor::from_slice::<Lens>(&bad.to_dag_cbor()).expect_err("closed union");
    assert!(
        from_cbor.to_string().contains("transform.source"),
        "{from_cbor}"
    );
    assert!(
        from_cbor
            .to_string()
            .contains("ac.foundation.dataset.lens#gitCode"),
        "{from_cbor}"
    );
    let from_json = serde_json::from_str::<Lens>(&bad.to_string()).expect_err("closed union");
    assert!(
        from_json.to_string().contains("transform.source"),
        "{from_json}"
    );
}

// ---------------------------------------------------------------------------------------------
// (d) Data from newer writers.

#[test]
fn unknown_fields_and_storage_members_survive() {
    let catalog = catalog();
    let base = atdata_core::to_value(&url_dataset()).expect("to Value");

    // A newer writer's dataset: a field this lexicon version lacks, and a storage kind it has
    // never heard of (the `storage` union is open).
    let ipfs = Value::from_json_str(&format!(
        r#"{{"$type": "com.example.dataset.storage#ipfs",
            "roots": [{{"$link": "{}"}}], "gateway": "https://ipfs.example.com"}}"#,
        Cid::for_raw(b"car root")
    ))
    .expect("member");
    let curator = Value::from_json_str(r#"{"name": "Ada", "orcid": "0000-0002-1825-0097"}"#)
        .expect("curator");
    let newer = replaced(base, &["storage"], ipfs.clone());
    let newer = replaced(newer, &["curator"], curator.clone());
    let bytes = newer.to_dag_cbor();

    // An open union accepts members it does not list, and objects accept undeclared keys.
    catalog
        .validate_record(ids::AC_FOUNDATION_DATASET_RECORD, &newer)
        .expect("valid");

    let from_cbor: Dataset = cbor::from_slice(&bytes).expect("decode");
    assert_eq!(from_cbor.extra.get("curator"), Some(&curator));
    match &from_cbor.storage {
        record::RecordStorage::Unknown(member) => assert_eq!(member, &ipfs),
        other => panic!("expected an unknown member, got {other:?}"),
    }
    // Written back, it is the same bytes, so the same CID.
    assert_eq!(cbor::to_vec(&from_cbor).expect("re-encode"), bytes);

    let from_json: Dataset = serde_json::from_str(&newer.to_string()).expect("decode JSON");
    assert_eq!(from_json, from_cbor);
    assert_eq!(
        serde_json::to_value(&from_json).expect("JSON"),
        newer.to_json()
    );
    assert_eq!(
        cbor::cid_for(&from_json).expect("cid"),
        Cid::for_dag_cbor(&bytes)
    );
}

#[test]
fn unknown_fields_inside_known_members_survive() {
    let base = atdata_core::to_value(&blob_dataset()).expect("to Value");
    let newer = replaced(
        base,
        &["storage", "compression"],
        Value::String("zstd".to_owned()),
    );
    let bytes = newer.to_dag_cbor();
    let dataset: Dataset = cbor::from_slice(&bytes).expect("decode");
    match &dataset.storage {
        record::RecordStorage::BlobStorage(storage) => assert_eq!(
            storage.extra.get("compression").and_then(Value::as_str),
            Some("zstd")
        ),
        other => panic!("expected blob storage, got {other:?}"),
    }
    assert_eq!(cbor::to_vec(&dataset).expect("re-encode"), bytes);
}
