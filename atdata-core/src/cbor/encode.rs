//! The canonical DAG-CBOR encoder for [`Value`] and [`ValueRef`].

use crate::cid::Cid;
use crate::value::Value;
use crate::value_ref::ValueRef;

/// Writes an item head in its shortest form.
#[inline]
pub(crate) fn write_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    if arg < 24 {
        out.push(m | arg as u8);
    } else if arg <= 0xff {
        out.extend_from_slice(&[m | 24, arg as u8]);
    } else if arg <= 0xffff {
        out.push(m | 25);
        out.extend_from_slice(&(arg as u16).to_be_bytes());
    } else if arg <= 0xffff_ffff {
        out.push(m | 26);
        out.extend_from_slice(&(arg as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

#[inline]
pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        write_head(out, 0, v as u64);
    } else {
        // -1 - v without overflow: !v for two's complement.
        write_head(out, 1, !v as u64);
    }
}

#[inline]
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    write_head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

#[inline]
pub(crate) fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

#[inline]
pub(crate) fn write_link(out: &mut Vec<u8>, cid_bytes: &[u8]) {
    out.extend_from_slice(&[0xd8, 42]);
    write_head(out, 2, cid_bytes.len() as u64 + 1);
    out.push(0);
    out.extend_from_slice(cid_bytes);
}

/// Encodes a [`Value`] as canonical DAG-CBOR.
///
/// Any depth is written, without recursion past [`Limits::MAX_DEPTH`](super::Limits::MAX_DEPTH)
/// levels, so a hand-built value nested deeper than the decoder accepts gives bytes the decoder
/// refuses rather than a stack overflow; [`super::to_vec`] refuses such values instead.
pub fn encode_value(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write_value(&mut out, value, super::Limits::MAX_DEPTH);
    out
}

/// Encodes a [`ValueRef`] as canonical DAG-CBOR (any depth, as [`encode_value`]).
pub fn encode_ref(value: &ValueRef<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write_ref(&mut out, value, super::Limits::MAX_DEPTH);
    out
}

fn write_cid(out: &mut Vec<u8>, cid: &Cid) {
    write_link(out, cid.as_bytes());
}

/// Writes a scalar; `false` for arrays and maps, which the callers handle.
#[inline]
fn write_scalar(out: &mut Vec<u8>, value: &Value) -> bool {
    match value {
        Value::Null => out.push(0xf6),
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Integer(i) => write_i64(out, *i),
        Value::String(s) => write_str(out, s),
        Value::Bytes(b) => write_bytes(out, b),
        Value::Link(c) => write_cid(out, c),
        Value::Array(_) | Value::Map(_) => return false,
    }
    true
}

/// A map's entries in DAG-CBOR order (`BTreeMap` iterates bytewise; DAG-CBOR wants shorter keys
/// first).
fn canonical_entries(m: &crate::value::Map) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
    entries.sort_by(|a, b| super::canonical_key_cmp(a.0, b.0));
    entries
}

/// Recursive (fast) while `depth_left` lasts, then hands the subtree to [`write_value_deep`].
fn write_value(out: &mut Vec<u8>, value: &Value, depth_left: usize) {
    if write_scalar(out, value) {
        return;
    }
    if depth_left == 0 {
        return write_value_deep(out, value);
    }
    match value {
        Value::Array(items) => {
            write_head(out, 4, items.len() as u64);
            for item in items {
                write_value(out, item, depth_left - 1);
            }
        }
        Value::Map(m) => {
            write_head(out, 5, m.len() as u64);
            for (k, v) in canonical_entries(m) {
                write_str(out, k);
                write_value(out, v, depth_left - 1);
            }
        }
        _ => {}
    }
}

/// What is left to write of a deep value, most recent last.
enum Pending<'v, V> {
    Value(&'v V),
    Key(&'v str),
}

/// Writes a value of any depth with an explicit stack instead of recursion.
fn write_value_deep(out: &mut Vec<u8>, root: &Value) {
    let mut stack = vec![Pending::Value(root)];
    while let Some(next) = stack.pop() {
        let value = match next {
            Pending::Key(k) => {
                write_str(out, k);
                continue;
            }
            Pending::Value(v) => v,
        };
        if write_scalar(out, value) {
            continue;
        }
        match value {
            Value::Array(items) => {
                write_head(out, 4, items.len() as u64);
                stack.extend(items.iter().rev().map(Pending::Value));
            }
            Value::Map(m) => {
                write_head(out, 5, m.len() as u64);
                for (k, v) in canonical_entries(m).into_iter().rev() {
                    stack.push(Pending::Value(v));
                    stack.push(Pending::Key(k));
                }
            }
            _ => {}
        }
    }
}

/// Writes a scalar; `false` for arrays and maps, which the callers handle.
#[inline]
fn write_ref_scalar(out: &mut Vec<u8>, value: &ValueRef<'_>) -> bool {
    match value {
        ValueRef::Null => out.push(0xf6),
        ValueRef::Bool(false) => out.push(0xf4),
        ValueRef::Bool(true) => out.push(0xf5),
        ValueRef::Integer(i) => write_i64(out, *i),
        ValueRef::String(s) => write_str(out, s),
        ValueRef::Bytes(b) => write_bytes(out, b),
        ValueRef::Link(c) => write_link(out, c.as_bytes()),
        ValueRef::Array(_) | ValueRef::Map(_) => return false,
    }
    true
}

/// A map's entries in DAG-CBOR order: as they are when decoded (the common case, checked
/// without sorting), sorted otherwise.
fn canonical_ref_entries<'v, 'a>(
    entries: &'v [(&'a str, ValueRef<'a>)],
) -> Vec<&'v (&'a str, ValueRef<'a>)> {
    let mut order: Vec<&(&str, ValueRef<'_>)> = entries.iter().collect();
    let sorted = entries
        .windows(2)
        .all(|w| super::canonical_key_cmp(w[0].0, w[1].0).is_lt());
    if !sorted {
        order.sort_by(|a, b| super::canonical_key_cmp(a.0, b.0));
    }
    order
}

/// Recursive (fast) while `depth_left` lasts, then hands the subtree to [`write_ref_deep`].
fn write_ref(out: &mut Vec<u8>, value: &ValueRef<'_>, depth_left: usize) {
    if write_ref_scalar(out, value) {
        return;
    }
    if depth_left == 0 {
        return write_ref_deep(out, value);
    }
    match value {
        ValueRef::Array(items) => {
            write_head(out, 4, items.len() as u64);
            for item in items {
                write_ref(out, item, depth_left - 1);
            }
        }
        ValueRef::Map(entries) => {
            write_head(out, 5, entries.len() as u64);
            let sorted = entries
                .windows(2)
                .all(|w| super::canonical_key_cmp(w[0].0, w[1].0).is_lt());
            if sorted {
                for (k, v) in entries {
                    write_str(out, k);
                    write_ref(out, v, depth_left - 1);
                }
            } else {
                for (k, v) in canonical_ref_entries(entries) {
                    write_str(out, k);
                    write_ref(out, v, depth_left - 1);
                }
            }
        }
        _ => {}
    }
}

/// Writes a borrowed value of any depth with an explicit stack instead of recursion.
fn write_ref_deep<'v>(out: &mut Vec<u8>, root: &'v ValueRef<'_>) {
    let mut stack: Vec<Pending<'v, ValueRef<'_>>> = vec![Pending::Value(root)];
    while let Some(next) = stack.pop() {
        let value = match next {
            Pending::Key(k) => {
                write_str(out, k);
                continue;
            }
            Pending::Value(v) => v,
        };
        if write_ref_scalar(out, value) {
            continue;
        }
        match value {
            ValueRef::Array(items) => {
                write_head(out, 4, items.len() as u64);
                stack.extend(items.iter().rev().map(Pending::Value));
            }
            ValueRef::Map(entries) => {
                write_head(out, 5, entries.len() as u64);
                for (k, v) in canonical_ref_entries(entries).into_iter().rev() {
                    stack.push(Pending::Value(v));
                    stack.push(Pending::Key(k));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_shortest() {
        for (v, expect) in [
            (0i64, vec![0x00]),
            (23, vec![0x17]),
            (24, vec![0x18, 24]),
            (255, vec![0x18, 0xff]),
            (256, vec![0x19, 1, 0]),
            (-1, vec![0x20]),
            (-25, vec![0x38, 24]),
            (
                i64::MIN,
                vec![0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
        ] {
            let mut out = Vec::new();
            write_i64(&mut out, v);
            assert_eq!(out, expect, "{v}");
        }
    }
}
