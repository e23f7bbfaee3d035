//! Lexicon documents from arbitrary bytes: `LexiconDoc::from_json` and `Catalog::add_json`
//! never panic and agree. The property is in `atdata-lexicon/tests/fuzz_bodies/lexicon_doc.rs`,
//! which a stable property test in that crate runs too, so both check the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../atdata-lexicon/tests/fuzz_bodies/lexicon_doc.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::check(data));
