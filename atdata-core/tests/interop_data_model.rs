//! Runs every case of the AT Protocol interop data-model fixtures
//! (`testdata/interop/data-model/`, vendored from atproto-interop-tests) and prints the counts.
//!
//! A plain `main` rather than libtest so the counts are always printed, not captured.

use atdata_core::{cbor, Cid, Value};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/interop/data-model"
);

/// Expected case counts, from the fixture README.
const EXPECTED: [(&str, usize); 3] = [
    ("data-model-fixtures.json", 3),
    ("data-model-valid.json", 5),
    ("data-model-invalid.json", 12),
];

fn load(name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(format!("{DIR}/{name}"))
        .unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

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
    let mut total_pass = 0;
    let mut total_fail = 0;
    for (file, expected) in EXPECTED {
        let cases = load(file);
        let mut pass = 0;
        let mut fail = 0;
        for (i, case) in cases.iter().enumerate() {
            let outcome = match file {
                "data-model-fixtures.json" => fixture_case(case),
                "data-model-valid.json" => accept_json(&case["json"]).map(|_| ()),
                _ => match accept_json(&case["json"]) {
                    Ok(v) => Err(format!("accepted invalid data: {v}")),
                    Err(_) => Ok(()),
                },
            };
            match outcome {
                Ok(()) => pass += 1,
                Err(why) => {
                    fail += 1;
                    let note = case["note"].as_str().unwrap_or("");
                    eprintln!("  FAIL {file} case {i} {note:?}: {why}");
                }
            }
        }
        println!(
            "interop data-model: {file}: {} cases, {pass} passed, {fail} failed",
            cases.len()
        );
        if cases.len() != expected {
            eprintln!("  {file}: expected {expected} cases, found {}", cases.len());
            fail += 1;
        }
        total_pass += pass;
        total_fail += fail;
    }
    println!("interop-data-model: {total_pass} passed, {total_fail} failed");
    if total_fail > 0 || total_pass != 20 {
        std::process::exit(1);
    }
}
