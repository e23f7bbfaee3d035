//! [`Data`]: the value representations the validator reads, [`Value`] and [`ValueRef`].
//!
//! Both are validated by the same walk. `ValueRef` (what `Record::decode` and the firehose
//! give) keeps a record's strings in its DAG-CBOR block and each map in one vector, so walking
//! it touches a few cache lines; `Value` keeps every key and string in its own allocation and
//! maps in B-tree nodes, which is what dominates validating it when the data is not in cache.

use std::collections::BTreeMap;

use atdata_core::{Map, Value, ValueRef};

use crate::schema::FieldType;

/// A data-model value that can be validated: [`Value`], [`ValueRef`], or a reference to
/// either. Sealed.
///
/// ```
/// use atdata_core::{Value, ValueRef};
/// use atdata_lexicon::Catalog;
///
/// let mut catalog = Catalog::new();
/// catalog.add_json(r#"{"lexicon": 1, "id": "com.example.tag", "defs": {"main": {
///     "type": "record", "key": "any", "description": "A tag.", "record": {"type": "object",
///     "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 8}}}}}}"#)?;
/// let owned = Value::from_json_str(r#"{"$type": "com.example.tag", "name": "rust"}"#)?;
/// let block = owned.to_dag_cbor();
/// let borrowed = ValueRef::from_dag_cbor(&block)?; // as `Record::decode` gives
/// catalog.validate_record("com.example.tag", &owned)?;
/// catalog.validate_record("com.example.tag", &borrowed)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Data: private::Sealed {
    /// The value, as one of the representations the walk knows.
    #[doc(hidden)]
    fn any(&self) -> private::AnyData<'_>;
}

impl Data for Value {
    fn any(&self) -> private::AnyData<'_> {
        private::AnyData::Value(self)
    }
}

impl Data for ValueRef<'_> {
    fn any(&self) -> private::AnyData<'_> {
        private::AnyData::ValueRef(self)
    }
}

impl<T: Data + ?Sized> Data for &T {
    fn any(&self) -> private::AnyData<'_> {
        (**self).any()
    }
}

/// What the walk reads: one representation, monomorphized (so `Value` and `ValueRef` each
/// get their own compiled walk, with no per-node dispatch).
pub(crate) trait Node: Sized {
    /// The map representation.
    type Map: ?Sized + MapNode<Self>;

    /// What kind of value this is, borrowing its contents.
    fn view(&self) -> View<'_, Self>;
}

/// A map of a [`Node`] representation.
pub(crate) trait MapNode<D> {
    /// The value under `key`.
    fn get(&self, key: &str) -> Option<&D>;

    /// How many entries the map has.
    fn len(&self) -> usize;

    /// Calls `f(name, schema, value)` for every schema property, in the schema's order, with
    /// the map's value for it (`None` when absent); stops at the first `Err`.
    fn pair<'s, E>(
        &self,
        properties: &'s BTreeMap<String, FieldType>,
        f: impl FnMut(&'s str, &'s FieldType, Option<&D>) -> Result<(), E>,
    ) -> Result<(), E>;
}

/// One value, seen through its kind.
pub(crate) enum View<'a, D: Node> {
    Null,
    Bool(bool),
    Integer(i64),
    String(&'a str),
    Bytes(&'a [u8]),
    Link,
    Array(&'a [D]),
    Map(&'a D::Map),
}

pub(crate) mod private {
    use atdata_core::{Value, ValueRef};

    pub trait Sealed {}
    impl Sealed for Value {}
    impl Sealed for ValueRef<'_> {}
    impl<T: Sealed + ?Sized> Sealed for &T {}

    /// The representations [`Data`](super::Data) can be.
    pub enum AnyData<'a> {
        Value(&'a Value),
        ValueRef(&'a ValueRef<'a>),
    }
}

impl Node for Value {
    type Map = Map;

    #[inline]
    fn view(&self) -> View<'_, Self> {
        match self {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(*b),
            Value::Integer(i) => View::Integer(*i),
            Value::String(s) => View::String(s),
            Value::Bytes(b) => View::Bytes(b),
            Value::Link(_) => View::Link,
            Value::Array(items) => View::Array(items),
            Value::Map(map) => View::Map(map),
        }
    }
}

impl MapNode<Value> for Map {
    #[inline]
    fn get(&self, key: &str) -> Option<&Value> {
        BTreeMap::get(self, key)
    }

    #[inline]
    fn len(&self) -> usize {
        BTreeMap::len(self)
    }

    fn pair<'s, E>(
        &self,
        properties: &'s BTreeMap<String, FieldType>,
        mut f: impl FnMut(&'s str, &'s FieldType, Option<&Value>) -> Result<(), E>,
    ) -> Result<(), E> {
        // Both maps iterate in the same (byte) order of their keys, so one merge pass pairs
        // each property with its value: fewer string comparisons than a lookup per property.
        let mut entries = self.iter().peekable();
        for (name, schema) in properties {
            let mut found = None;
            while let Some((key, value)) = entries.peek() {
                match key.as_str().cmp(name.as_str()) {
                    std::cmp::Ordering::Less => {
                        entries.next();
                    }
                    std::cmp::Ordering::Equal => {
                        found = Some(*value);
                        entries.next();
                        break;
                    }
                    std::cmp::Ordering::Greater => break,
                }
            }
            f(name, schema, found)?;
        }
        Ok(())
    }
}

impl<'a> Node for ValueRef<'a> {
    type Map = [(&'a str, ValueRef<'a>)];

    #[inline]
    fn view(&self) -> View<'_, Self> {
        match self {
            ValueRef::Null => View::Null,
            ValueRef::Bool(b) => View::Bool(*b),
            ValueRef::Integer(i) => View::Integer(*i),
            ValueRef::String(s) => View::String(s),
            ValueRef::Bytes(b) => View::Bytes(b),
            ValueRef::Link(_) => View::Link,
            ValueRef::Array(items) => View::Array(items),
            ValueRef::Map(entries) => View::Map(entries.as_slice()),
        }
    }
}

impl<'a> MapNode<ValueRef<'a>> for [(&'a str, ValueRef<'a>)] {
    #[inline]
    fn get(&self, key: &str) -> Option<&ValueRef<'a>> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    #[inline]
    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn pair<'s, E>(
        &self,
        properties: &'s BTreeMap<String, FieldType>,
        mut f: impl FnMut(&'s str, &'s FieldType, Option<&ValueRef<'a>>) -> Result<(), E>,
    ) -> Result<(), E> {
        // Entries are in DAG-CBOR order (shorter keys first), not the schema's, and records
        // have a handful of keys: a scan per property over one contiguous vector is cheapest.
        for (name, schema) in properties {
            f(name, schema, MapNode::get(self, name))?;
        }
        Ok(())
    }
}
