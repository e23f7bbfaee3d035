//! Builds a sample schema and a dataset that refers to it, and prints both as they would be
//! published: the AT-URI each record will have, its CID, and its JSON. No network: this is
//! what a publisher prepares before calling `com.atproto.repo.applyWrites` (or `createRecord`
//! twice) with these record keys.
//!
//! ```sh
//! cargo run -p atdata-example-dataset --example publish_offline [DID]
//! ```

use atdata_core::{Datetime, Did, Language, Tid, Uri, Value};
use atdata_example_dataset::{
    blob_shard, defs, ids, sample_schema, strong_ref, Dataset, SampleSchema,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let repo: Did = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("did:web:datasets.example.com")
        .parse()?;
    // Fixed timestamps and record keys, so the output is the same on every run; a real
    // publisher would use `Datetime::now()` and `Tid::now()`.
    let created: Datetime = "2024-05-01T12:00:00.000Z".parse()?;
    let schema_key = Tid::from_parts(1_714_564_800_000_000, 0)?;
    let dataset_key = Tid::from_parts(1_714_564_800_000_001, 0)?;

    // The sample schema: what one sample looks like, as a JSON Schema document.
    let document = Value::from_json_str(
        r#"{
            "type": "object",
            "properties": {
                "image": {"type": "string", "contentEncoding": "base64"},
                "caption": {"type": "string", "maxLength": 2000}
            },
            "required": ["image", "caption"]
        }"#,
    )?;
    let schema = SampleSchema::new(
        "image-caption-pair",
        "1.0.0",
        sample_schema::JsonSchema::new(document),
        created.clone(),
    )
    .description("One image and one English caption.");
    // Its URI and CID are known before it is written, so the dataset can point at it already.
    let schema_ref = strong_ref(repo.clone(), schema_key, &schema)?;

    // The dataset: two Parquet shards stored as blobs in the same repository. The shard
    // bytes stand in for files read from disk; their blob references are what uploadBlob
    // will answer for them.
    let shards = vec![
        blob_shard(b"shard 0: parquet bytes", "application/vnd.apache.parquet").sample_count(500),
        blob_shard(b"shard 1: parquet bytes", "application/vnd.apache.parquet").sample_count(500),
    ];
    let dataset = Dataset::new(
        "Captions",
        schema_ref.clone(),
        defs::BlobStorage::new(shards),
        created,
    )
    .version("2024-05")
    .format(defs::FORMAT_PARQUET)
    .license("CC-BY-4.0")
    .sample_count(1000)
    .langs(vec!["en".parse::<Language>()?])
    .homepage("https://datasets.example.com/captions".parse::<Uri>()?);

    let dataset_ref = strong_ref(repo, dataset_key, &dataset)?;
    for (nsid, reference, json) in [
        (
            ids::AC_FOUNDATION_DATASET_SAMPLE_SCHEMA,
            schema_ref,
            serde_json::to_string_pretty(&schema)?,
        ),
        (
            ids::AC_FOUNDATION_DATASET_RECORD,
            dataset_ref,
            serde_json::to_string_pretty(&dataset)?,
        ),
    ] {
        println!("# {nsid}");
        println!("uri: {}", reference.uri);
        println!("cid: {}", reference.cid);
        println!("{json}\n");
    }
    Ok(())
}
