//! Regression tests: deeply nested values must give errors, never overflow the stack.
//!
//! Every check runs on a thread with a 2 MiB stack, the default for threads a program spawns
//! (and what the test harness gives each test), in a debug build, whose frames are the largest.
//! A stack overflow aborts the whole process, so these live in their own test binary.

use atdata_core::cbor::{self, DecodeErrorKind, Limits, Tape};
use atdata_core::{Map, Value, ValueRef};

const SMALL_STACK: usize = 2 << 20;

/// Far deeper than any limit: what a hostile input or a careless builder produces.
const HOSTILE_DEPTH: usize = 100_000;

fn on_small_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(work)
        .expect("spawn")
        .join()
        .expect("the work panicked")
}

/// `levels` nested arrays around the integer 1: `[[[…[1]…]]]`, `levels + 1` deep.
fn nested_arrays(levels: usize) -> Vec<u8> {
    let mut bytes = vec![0x81; levels];
    bytes.push(0x01);
    bytes
}

/// `levels` nested single-key maps around 1: `{"a": {"a": … 1}}`.
fn nested_maps(levels: usize) -> Vec<u8> {
    let mut bytes = [0xa1, 0x61, b'a'].repeat(levels);
    bytes.push(0x01);
    bytes
}

/// Takes a borrowed value apart without recursion, so a test can get rid of one too deep for the
/// recursive drop glue (an owned `Value` drops iteratively by itself).
fn dismantle_ref(value: ValueRef<'_>) {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            ValueRef::Array(items) => pending.extend(items),
            ValueRef::Map(entries) => pending.extend(entries.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

#[test]
fn raised_decode_limits_are_clamped() {
    on_small_stack(|| {
        let unlimited = Limits {
            max_depth: usize::MAX,
        };
        for bytes in [nested_arrays(HOSTILE_DEPTH), nested_maps(HOSTILE_DEPTH)] {
            let err = cbor::decode_ref_with(&bytes, unlimited).expect_err("too deep");
            assert_eq!(err.kind(), &DecodeErrorKind::TooDeep);
            let mut tape = Tape::with_limits(unlimited);
            let err = tape.decode(&bytes).expect_err("too deep");
            assert_eq!(err.kind(), &DecodeErrorKind::TooDeep);
        }
    });
}

#[test]
fn the_deepest_accepted_value_is_safe_on_a_small_stack() {
    on_small_stack(|| {
        let limits = Limits {
            max_depth: usize::MAX,
        };
        // The deepest nesting the ceiling admits, and one level more.
        let levels = Limits::MAX_DEPTH - 1;
        for bytes in [nested_arrays(levels), nested_maps(levels)] {
            let value = cbor::decode_ref_with(&bytes, limits).expect("at the ceiling");
            assert_eq!(cbor::encode_ref(&value), bytes);
            let owned = value.to_value();
            assert_eq!(owned.to_dag_cbor(), bytes);
            assert_eq!(ValueRef::from(&owned), value);
            let json = serde_json::to_string(&owned).expect("JSON");
            assert_eq!(serde_json::to_string(&value).expect("JSON"), json);
            assert!(!format!("{owned:?}").is_empty());
            let copy = owned.clone();
            assert_eq!(copy, owned);

            let mut tape = Tape::with_limits(limits);
            let root = tape.decode(&bytes).expect("tape at the ceiling");
            assert_eq!(root.to_value(), owned);
            assert_eq!(root.to_value_ref(), value);

            let too_deep = [&[0x81][..], &bytes].concat();
            let err = cbor::decode_ref_with(&too_deep, limits).expect_err("past the ceiling");
            assert_eq!(err.kind(), &DecodeErrorKind::TooDeep);
            let err = tape.decode(&too_deep).expect_err("past the ceiling");
            assert_eq!(err.kind(), &DecodeErrorKind::TooDeep);
        }
        // A container under `$type` is decoded again by the tree decoder to report on it.
        let mut typed = vec![0xa1, 0x65];
        typed.extend_from_slice(b"$type");
        typed.extend(nested_arrays(Limits::MAX_DEPTH - 2));
        let err = Tape::with_limits(limits)
            .decode(&typed)
            .expect_err("bad $type");
        assert!(matches!(err.kind(), DecodeErrorKind::DataModel(_)), "{err}");
    });
}

#[test]
fn encoding_a_hand_built_deep_value_is_an_error() {
    on_small_stack(|| {
        let mut value = Value::Integer(1);
        for _ in 0..HOSTILE_DEPTH {
            value = Value::Array(vec![value]);
        }
        // The checked encoders refuse it.
        assert!(cbor::to_vec(&value).is_err());
        assert!(cbor::cid_for(&value).is_err());
        let err = serde_json::to_string(&value).expect_err("too deep for JSON");
        assert!(err.to_string().contains("nest"), "{err}");
        // The unchecked one writes it faithfully (the decoder then refuses the bytes).
        let bytes = value.to_dag_cbor();
        assert_eq!(bytes, nested_arrays(HOSTILE_DEPTH));
        let err = cbor::decode_ref(&bytes).expect_err("too deep");
        assert_eq!(err.kind(), &DecodeErrorKind::TooDeep);
        drop(value);

        let mut borrowed = ValueRef::Map(vec![("a", ValueRef::Null)]);
        for _ in 0..HOSTILE_DEPTH {
            borrowed = ValueRef::Map(vec![("a", borrowed)]);
        }
        assert!(cbor::to_vec(&borrowed).is_err());
        assert!(serde_json::to_string(&borrowed).is_err());
        assert_eq!(
            borrowed.to_dag_cbor().len(),
            3 * (HOSTILE_DEPTH + 1) + 1,
            "every level written"
        );
        dismantle_ref(borrowed);
    });
}

/// Dropping an owned value does not recurse: a million levels, far past any decoder's limit,
/// drop on a thread with a 256 KiB stack (a debug build's drop glue needs more than that for a
/// few thousand levels).
#[test]
fn dropping_a_hand_built_deep_value_does_not_recurse() {
    const TINY_STACK: usize = 256 << 10;
    const LEVELS: usize = 1_000_000;
    let on_tiny_stack = |work: fn()| {
        std::thread::Builder::new()
            .stack_size(TINY_STACK)
            .spawn(work)
            .expect("spawn")
            .join()
            .expect("the drop overflowed or panicked");
    };
    on_tiny_stack(|| {
        let mut value = Value::Integer(1);
        for _ in 0..LEVELS {
            value = Value::Array(vec![value]);
        }
        drop(value);
    });
    on_tiny_stack(|| {
        let mut value = Value::Integer(1);
        for _ in 0..LEVELS {
            value = Value::Map(Map::from([("a".to_owned(), value)]));
        }
        drop(value);
    });
    // Wide and deep at once, arrays and maps alternating, with scalars and empty containers
    // beside each nested one: every branch of the iterative drop.
    on_tiny_stack(|| {
        let mut value = Value::Null;
        for level in 0..LEVELS / 10 {
            let siblings = [
                Value::String("s".repeat(level % 7)),
                Value::Array(Vec::new()),
                Value::Map(Map::new()),
                Value::Array(vec![Value::Integer(2), Value::Bytes(vec![3; 4])]),
            ];
            value = if level % 2 == 0 {
                let mut items = vec![value];
                items.extend(siblings);
                Value::Array(items)
            } else {
                let mut map: Map = ["b", "c", "d", "e"]
                    .into_iter()
                    .map(str::to_owned)
                    .zip(siblings)
                    .collect();
                map.insert("a".to_owned(), value);
                Value::Map(map)
            };
        }
        drop(value);
    });
}
