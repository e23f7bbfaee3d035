//! Records of a collection the PDS has no lexicon for: create, read, update, list and delete
//! `ac.foundation.dataset.sampleSchema` records, typed as a plain serde struct.
//!
//! ```sh
//! ATDATA_PDS_URL=http://localhost:2583 ATDATA_HANDLE=alice.test ATDATA_PASSWORD=… \
//!     cargo run -p atdata-client --example custom_records
//! ```

use std::error::Error;

use atdata_client::com::atproto::repo::get_record;
use atdata_client::Client;
use atdata_core::Datetime;
use futures_util::TryStreamExt as _;
use serde::{Deserialize, Serialize};

const COLLECTION: &str = "ac.foundation.dataset.sampleSchema";

/// An `ac.foundation.dataset.sampleSchema` record (see `examples/dataset/lexicons`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SampleSchema {
    name: String,
    version: String,
    schema: JsonSchema,
    created_at: Datetime,
}

/// The `#jsonSchema` member of the record's `schema` union.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JsonSchema {
    #[serde(rename = "$type")]
    kind: String,
    document: serde_json::Value,
}

fn sample_schema(version: &str) -> SampleSchema {
    SampleSchema {
        name: "image-caption-pair".into(),
        version: version.into(),
        schema: JsonSchema {
            kind: format!("{COLLECTION}#jsonSchema"),
            document: serde_json::json!({
                "type": "object",
                "properties": {"image": {"type": "string"}, "caption": {"type": "string"}},
                "required": ["image", "caption"]
            }),
        },
        created_at: Datetime::now(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = Client::new(env("ATDATA_PDS_URL")?)?;
    let me = client
        .login(&env("ATDATA_HANDLE")?, &env("ATDATA_PASSWORD")?)
        .await?;

    // Create: the PDS does not know this lexicon, so it is told not to validate. `$type` is
    // added from the collection.
    let created = client
        .create_record(COLLECTION, &sample_schema("1.0.0"))
        .validate(false)
        .await?;
    println!("created {} ({})", created.uri, created.cid);

    // Read it back as the struct.
    let got = client.get_record::<SampleSchema>(&created.uri).await?;
    println!("got {} version {}", got.value.name, got.value.version);

    // Update in place, only if nobody changed it since we read it (compare and swap).
    let rkey = created.uri.rkey().ok_or("no record key")?.clone();
    let updated = client
        .put_record(COLLECTION, rkey.clone(), &sample_schema("1.1.0"))
        .swap_record(got.cid)
        .validate(false)
        .await?;
    println!("updated {} ({})", updated.uri, updated.cid);

    // List every record of the collection (pages are fetched as the stream is read).
    let all: Vec<_> = client
        .list_records::<SampleSchema>(COLLECTION)
        .repo(&me.did)
        .stream()
        .try_collect()
        .await?;
    for record in &all {
        println!("listed {} version {}", record.uri, record.value.version);
    }

    // Delete, and reading it again fails with the method's declared error.
    client.delete_record(COLLECTION, rkey).await?;
    match client.get_record::<SampleSchema>(&created.uri).await {
        Err(e) if e.known() == Some(&get_record::Error::RecordNotFound) => {
            println!("deleted {}", created.uri)
        }
        Err(e) => return Err(e.into()),
        Ok(_) => return Err("the record is still there".into()),
    }
    Ok(())
}

/// A required environment variable.
fn env(name: &str) -> Result<String, Box<dyn Error>> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}
