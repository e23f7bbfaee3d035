//! CAR reading of arbitrary bytes, in memory and streaming: never panics, never allocates more
//! than the input justifies, and both readers agree.
#![no_main]

use atdata_core::car::{CarReader, CarStreamReader, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions::unverified();
    let in_memory: Option<Vec<_>> = CarReader::with_options(data, options).ok().map(|r| {
        r.blocks()
            .map(|b| b.map(|b| (b.cid, b.data.to_vec())).ok())
            .collect()
    });
    if let Ok(stream) = CarStreamReader::with_options(data, options) {
        let streamed: Vec<_> = stream.map(|b| b.ok()).collect();
        assert_eq!(Some(streamed), in_memory);
    }
    if let Ok(reader) = CarReader::with_options(data, options) {
        for block in reader.blocks().flatten() {
            let _ = block.decode();
        }
    }
});
