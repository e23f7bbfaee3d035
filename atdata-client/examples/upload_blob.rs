//! Upload a file's bytes as a blob and put the blob in a record: a small dataset whose one
//! shard is the blob (`ac.foundation.dataset.record`), pointing at its sample schema
//! (`ac.foundation.dataset.sampleSchema`) with a strong reference. Then download the blob
//! again and check it.
//!
//! ```sh
//! ATDATA_PDS_URL=http://localhost:2583 ATDATA_HANDLE=alice.test ATDATA_PASSWORD=… \
//!     cargo run -p atdata-client --example upload_blob
//! ```

use std::error::Error;

use atdata_client::com::atproto::repo::StrongRef;
use atdata_client::Client;
use atdata_core::{Datetime, Value};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = Client::new(env("ATDATA_PDS_URL")?)?;
    let me = client
        .login(&env("ATDATA_HANDLE")?, &env("ATDATA_PASSWORD")?)
        .await?;

    // The data: three samples as JSON lines (a real shard would be read from a file;
    // `upload_blob_file` streams one from disk).
    let shard = b"{\"x\": 1, \"label\": \"a\"}\n{\"x\": 2, \"label\": \"b\"}\n{\"x\": 3, \"label\": \"a\"}\n";
    let blob = client
        .upload_blob(shard.to_vec(), "application/x-ndjson")
        .await?;
    println!(
        "uploaded {} bytes as blob {} ({})",
        blob.size().unwrap_or_default(),
        blob.cid(),
        blob.mime_type()
    );

    // The sample schema the shard's lines follow.
    let schema = serde_json::json!({
        "name": "labelled-point",
        "version": "1.0.0",
        "schema": {
            "$type": "ac.foundation.dataset.sampleSchema#jsonSchema",
            "document": {"type": "object", "required": ["x", "label"]}
        },
        "createdAt": Datetime::now(),
    });
    let schema = client
        .create_record("ac.foundation.dataset.sampleSchema", &schema)
        .validate(false)
        .await?;
    println!("schema {}", schema.uri);

    // The dataset: the blob reference goes into the record as it is.
    let dataset = serde_json::json!({
        "name": "Labelled points",
        "schema": StrongRef::from(schema),
        "storage": {
            "$type": "ac.foundation.dataset.defs#blobStorage",
            "shards": [{"blob": blob, "sampleCount": 3}]
        },
        "format": "jsonl",
        "createdAt": Datetime::now(),
    });
    let dataset = client
        .create_record("ac.foundation.dataset.record", &dataset)
        .validate(false)
        .await?;
    println!("dataset {}", dataset.uri);

    // Read the record back, find the blob in it, and download the blob.
    let back = client.get_record::<Value>(&dataset.uri).await?;
    let stored = back.value.to_json()["storage"]["shards"][0]["blob"].clone();
    println!("the record holds {stored}");
    let bytes = client.get_blob(&me.did, *blob.cid()).await?;
    if bytes != shard {
        return Err("the downloaded blob differs from the upload".into());
    }
    println!(
        "downloaded the blob again: {} bytes, identical",
        bytes.len()
    );
    Ok(())
}

/// A required environment variable.
fn env(name: &str) -> Result<String, Box<dyn Error>> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}
