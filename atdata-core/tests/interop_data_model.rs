//! Runs every case of the AT Protocol interop data-model fixtures
//! (`testdata/interop/data-model/`, vendored from atproto-interop-tests) through the shared
//! runner, `atdata_testkit::interop`, which prints the counts per file and in total.
//!
//! A plain `main` rather than libtest so the counts are always printed, not captured.

use atdata_core::{cbor, Cid, Value};
use atdata_testkit::interop::Suite;

/// The data-model check for a JSON document: it must convert to a `Value` and be an object at
/// the top level (records and XRPC bodies always are).
fn accept_json(json: &serde_json::Value) -> Result<Value, String> {
    let value = Value::from_json(json.clone()).map_err(|e| e.to_string())?;
    if value.as_map().is_none() {
        return Err(format!("top level is {}, not an object", value.kind()));
    }
    Ok(value)
}

fn fixture_case(case: &serde_json::Value) -> Result<(), String> {
    let json = &case["json"];
    let cbor_b64 = case["cbor_base64"].as_str().ok_or("no cbor_base64")?;
    let expected_cbor =
        atdata_core::encoding::base64_decode(cbor_b64).ok_or("cbor_base64 is not base64")?;
    let expected_cid: Cid = case["cid"]
        .as_str()
        .ok_or("no cid")?
        .parse()
        .map_err(|e| format!("bad fixture CID: {e}"))?;

    // JSON -> data model -> DAG-CBOR bytes and CID.
    let value = accept_json(json)?;
    let encoded = value.to_dag_cbor();
    if encoded != expected_cbor {
        return Err("DAG-CBOR encoding differs from the fixture".into());
    }
    let cid = cbor::cid_for(&value).map_err(|e| e.to_string())?;
    if cid != expected_cid {
        return Err(format!("CID {cid} != fixture {expected_cid}"));
    }
    // The serde path (any Serialize type) must give the same bytes.
    if cbor::to_vec(&value).map_err(|e| e.to_string())? != expected_cbor {
        return Err("serde DAG-CBOR encoding differs from the fixture".into());
    }
    // DAG-CBOR bytes -> data model -> JSON equals the fixture JSON.
    let decoded = Value::from_dag_cbor(&expected_cbor).map_err(|e| e.to_string())?;
    if decoded != value {
        return Err("decoded DAG-CBOR differs from the JSON value".into());
    }
    let back = serde_json::to_value(&decoded).map_err(|e| e.to_string())?;
    if &back != json {
        return Err(format!("JSON round trip differs: {back}"));
    }
    // And via the zero-copy decoder.
    let borrowed =
        atdata_core::ValueRef::from_dag_cbor(&expected_cbor).map_err(|e| e.to_string())?;
    if borrowed.to_value() != value || borrowed.to_dag_cbor() != expected_cbor {
        return Err("zero-copy decode differs".into());
    }
    Ok(())
}

fn main() {
    // Case counts from the fixture README: 3 + 5 + 12.
    let mut suite = Suite::new("interop-data-model");
    suite.json_file("data-model/data-model-fixtures.json", Some(3), fixture_case);
    suite.json_file("data-model/data-model-valid.json", Some(5), |case| {
        accept_json(&case["json"]).map(|_| ())
    });
    suite.json_file(
        "data-model/data-model-invalid.json",
        Some(12),
        |case| match accept_json(&case["json"]) {
            Ok(v) => Err(format!("accepted invalid data: {v}")),
            Err(_) => Ok(()),
        },
    );
    suite.finish();
}
