//! The lexicon document model: one Rust type per lexicon definition type.
//!
//! Field names follow the lexicon JSON (`maxLength`, `knownValues`, …) through serde renames,
//! so a parsed document serializes back to equivalent JSON. Parsing checks the shape of each
//! definition (which types may appear where); [`LexiconDoc::check`] adds the rules that span
//! definitions (primary types only as `main`, `required` names that exist, …).

use std::collections::BTreeMap;

use atdata_core::Nsid;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One lexicon document: `{"lexicon": 1, "id": "…", "defs": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LexiconDoc {
    /// The lexicon language version; always 1.
    pub lexicon: LexiconVersion,
    /// The NSID this document defines.
    pub id: Nsid,
    /// Optional revision number, incremented by authors on change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    /// Human-readable description of the whole document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The named definitions; `main` is the one the bare NSID refers to.
    pub defs: BTreeMap<String, UserType>,
}

/// The `lexicon` field: only version 1 exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexiconVersion;

impl Serialize for LexiconVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(1)
    }
}

impl<'de> Deserialize<'de> for LexiconVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u64::deserialize(d)? {
            1 => Ok(LexiconVersion),
            n => Err(serde::de::Error::custom(format_args!(
                "unsupported lexicon version {n} (only 1 exists)"
            ))),
        }
    }
}

/// A named definition at the top level of a document.
///
/// `ref`, `union` and `unknown` cannot be named definitions; the primary types (`record`,
/// `query`, `procedure`, `subscription`, `permission-set`) only as `main`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum UserType {
    /// A record type stored in repositories.
    Record(Record),
    /// An HTTP GET XRPC method.
    Query(Query),
    /// An HTTP POST XRPC method.
    Procedure(Procedure),
    /// An event-stream XRPC method.
    Subscription(Subscription),
    /// A named bundle of OAuth permissions.
    PermissionSet(PermissionSet),
    /// A named symbol with no data (used in `knownValues` and as union members).
    Token(Token),
    /// An object with named properties.
    Object(Object),
    /// An array.
    Array(Array),
    /// A boolean.
    Boolean(Boolean),
    /// A signed integer.
    Integer(Integer),
    /// A string.
    String(StringSchema),
    /// Raw bytes.
    Bytes(BytesSchema),
    /// A CID link.
    CidLink(CidLinkSchema),
    /// A blob reference.
    Blob(BlobSchema),
}

impl UserType {
    /// The lexicon `type` name (`"record"`, `"cid-link"`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            UserType::Record(_) => "record",
            UserType::Query(_) => "query",
            UserType::Procedure(_) => "procedure",
            UserType::Subscription(_) => "subscription",
            UserType::PermissionSet(_) => "permission-set",
            UserType::Token(_) => "token",
            UserType::Object(_) => "object",
            UserType::Array(_) => "array",
            UserType::Boolean(_) => "boolean",
            UserType::Integer(_) => "integer",
            UserType::String(_) => "string",
            UserType::Bytes(_) => "bytes",
            UserType::CidLink(_) => "cid-link",
            UserType::Blob(_) => "blob",
        }
    }

    /// Whether this is a primary type (allowed only as `main`).
    pub fn is_primary(&self) -> bool {
        matches!(
            self,
            UserType::Record(_)
                | UserType::Query(_)
                | UserType::Procedure(_)
                | UserType::Subscription(_)
                | UserType::PermissionSet(_)
        )
    }

    /// The description, when the definition has one.
    pub fn description(&self) -> Option<&str> {
        match self {
            UserType::Record(d) => d.description.as_deref(),
            UserType::Query(d) => d.description.as_deref(),
            UserType::Procedure(d) => d.description.as_deref(),
            UserType::Subscription(d) => d.description.as_deref(),
            UserType::PermissionSet(d) => d.description.as_deref(),
            UserType::Token(d) => d.description.as_deref(),
            UserType::Object(d) => d.description.as_deref(),
            UserType::Array(d) => d.description.as_deref(),
            UserType::Boolean(d) => d.description.as_deref(),
            UserType::Integer(d) => d.description.as_deref(),
            UserType::String(d) => d.description.as_deref(),
            UserType::Bytes(d) => d.description.as_deref(),
            UserType::CidLink(d) => d.description.as_deref(),
            UserType::Blob(d) => d.description.as_deref(),
        }
    }
}

/// The type of a property, array item or parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FieldType {
    /// A boolean.
    Boolean(Boolean),
    /// A signed integer.
    Integer(Integer),
    /// A string.
    String(StringSchema),
    /// Raw bytes.
    Bytes(BytesSchema),
    /// A CID link.
    CidLink(CidLinkSchema),
    /// A blob reference.
    Blob(BlobSchema),
    /// Any data-model object (a map; records inside carry `$type`).
    Unknown(UnknownSchema),
    /// A reference to another definition.
    Ref(Ref),
    /// One of several object types, told apart by `$type`.
    Union(Union),
    /// An array.
    Array(Array),
    /// An inline object.
    Object(Object),
}

impl FieldType {
    /// The lexicon `type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldType::Boolean(_) => "boolean",
            FieldType::Integer(_) => "integer",
            FieldType::String(_) => "string",
            FieldType::Bytes(_) => "bytes",
            FieldType::CidLink(_) => "cid-link",
            FieldType::Blob(_) => "blob",
            FieldType::Unknown(_) => "unknown",
            FieldType::Ref(_) => "ref",
            FieldType::Union(_) => "union",
            FieldType::Array(_) => "array",
            FieldType::Object(_) => "object",
        }
    }

    /// The description, when the field has one.
    pub fn description(&self) -> Option<&str> {
        match self {
            FieldType::Boolean(d) => d.description.as_deref(),
            FieldType::Integer(d) => d.description.as_deref(),
            FieldType::String(d) => d.description.as_deref(),
            FieldType::Bytes(d) => d.description.as_deref(),
            FieldType::CidLink(d) => d.description.as_deref(),
            FieldType::Blob(d) => d.description.as_deref(),
            FieldType::Unknown(d) => d.description.as_deref(),
            FieldType::Ref(d) => d.description.as_deref(),
            FieldType::Union(d) => d.description.as_deref(),
            FieldType::Array(d) => d.description.as_deref(),
            FieldType::Object(d) => d.description.as_deref(),
        }
    }
}

/// `record`: the schema of a record type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The record-key rule: `tid`, `nsid`, `any`, or `literal:<value>`.
    pub key: String,
    /// The record's object schema (must be `"type": "object"`).
    pub record: TaggedObject,
}

/// An object schema that must carry `"type": "object"` (a record's body, a message schema).
#[derive(Debug, Clone, PartialEq)]
pub struct TaggedObject(pub Object);

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum TaggedObjectRepr {
    Object(Object),
}

impl Serialize for TaggedObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TaggedObjectRepr::Object(self.0.clone()).serialize(s)
    }
}

impl<'de> Deserialize<'de> for TaggedObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let TaggedObjectRepr::Object(object) = TaggedObjectRepr::deserialize(d)?;
        Ok(TaggedObject(object))
    }
}

/// `query`: an XRPC GET method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Query-string parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Params>,
    /// The response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Body>,
    /// Named errors the method may return.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorDef>,
}

/// `procedure`: an XRPC POST method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Procedure {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Query-string parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Params>,
    /// The request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Body>,
    /// The response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Body>,
    /// Named errors the method may return.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorDef>,
}

/// `subscription`: an XRPC event stream over WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Query-string parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Params>,
    /// The messages the stream carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Named errors the stream may end with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorDef>,
}

/// A subscription's `message`: a union of the message types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The message schema, a union.
    pub schema: BodySchema,
}

/// A named error of a query, procedure or subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDef {
    /// The error name sent in the XRPC error body (`"error": "…"`).
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `params`: the query-string parameters of a method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Params {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Names of required parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// The parameters (boolean, integer, string, unknown, or arrays of those).
    #[serde(default)]
    pub properties: BTreeMap<String, FieldType>,
}

/// An XRPC request or response body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The MIME type (`application/json`, `application/vnd.ipld.car`, `*/*`, …).
    pub encoding: String,
    /// The schema of a JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<BodySchema>,
}

/// The schema of a body or message: an object, a ref, or a union.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum BodySchema {
    /// An inline object.
    Object(Object),
    /// A reference to an object definition.
    Ref(Ref),
    /// A union of object definitions.
    Union(Union),
}

/// `permission-set`: a named bundle of permissions for OAuth scopes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionSet {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Short title shown to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Translations of `title`, by language tag.
    #[serde(
        rename = "title:lang",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub title_lang: BTreeMap<String, String>,
    /// Longer explanation shown to users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Translations of `detail`, by language tag.
    #[serde(
        rename = "detail:lang",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub detail_lang: BTreeMap<String, String>,
    /// The permissions granted.
    pub permissions: Vec<Permission>,
}

/// One permission of a permission set.
///
/// The fields depend on `resource` (`repo`: `collection`, `action`; `rpc`: `lxm`, `aud`,
/// `inheritAud`; …) and keep evolving, so they are kept as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    /// Always `"permission"`.
    #[serde(rename = "type")]
    pub kind: PermissionTag,
    /// The resource kind: `repo`, `rpc`, `blob`, `account`, `identity`, ….
    pub resource: String,
    /// The resource-specific fields.
    #[serde(flatten)]
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// The `"type": "permission"` tag of a [`Permission`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PermissionTag {
    /// `"permission"`.
    Permission,
}

/// `token`: a named symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Token {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `object`: named properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Object {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Properties that must be present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Properties that may be `null`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nullable: Vec<String>,
    /// The properties, by name.
    #[serde(default)]
    pub properties: BTreeMap<String, FieldType>,
}

impl Object {
    /// Whether property `name` is required.
    pub fn is_required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }

    /// Whether property `name` may be `null`.
    pub fn is_nullable(&self, name: &str) -> bool {
        self.nullable.iter().any(|r| r == name)
    }
}

/// `array`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Array {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The type of every element.
    pub items: Box<FieldType>,
    /// Minimum number of elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum number of elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
}

/// `boolean`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Boolean {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Value assumed when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// The only value allowed.
    #[serde(default, rename = "const", skip_serializing_if = "Option::is_none")]
    pub const_value: Option<bool>,
}

/// `integer` (signed 64-bit in the data model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Integer {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Smallest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    /// Largest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
    /// The only values allowed.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<i64>>,
    /// Value assumed when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<i64>,
    /// The only value allowed.
    #[serde(default, rename = "const", skip_serializing_if = "Option::is_none")]
    pub const_value: Option<i64>,
}

/// `string`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StringSchema {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A syntax the string must follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// Minimum length in UTF-8 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum length in UTF-8 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Minimum length in grapheme clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_graphemes: Option<u64>,
    /// Maximum length in grapheme clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_graphemes: Option<u64>,
    /// Suggested values (an open set: others are valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_values: Option<Vec<String>>,
    /// The only values allowed (a closed set).
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<String>>,
    /// Value assumed when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The only value allowed.
    #[serde(default, rename = "const", skip_serializing_if = "Option::is_none")]
    pub const_value: Option<String>,
}

/// The `format` of a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StringFormat {
    /// A DID or a handle.
    AtIdentifier,
    /// An `at://` URI.
    AtUri,
    /// A CID in string form.
    Cid,
    /// An RFC 3339 datetime as atproto restricts it.
    Datetime,
    /// A DID.
    Did,
    /// A handle.
    Handle,
    /// A BCP 47 language tag.
    Language,
    /// An NSID.
    Nsid,
    /// A record key.
    RecordKey,
    /// A TID.
    Tid,
    /// A URI (any scheme).
    Uri,
}

impl StringFormat {
    /// The name used in lexicons (`"at-uri"`, …).
    pub fn name(self) -> &'static str {
        match self {
            StringFormat::AtIdentifier => "at-identifier",
            StringFormat::AtUri => "at-uri",
            StringFormat::Cid => "cid",
            StringFormat::Datetime => "datetime",
            StringFormat::Did => "did",
            StringFormat::Handle => "handle",
            StringFormat::Language => "language",
            StringFormat::Nsid => "nsid",
            StringFormat::RecordKey => "record-key",
            StringFormat::Tid => "tid",
            StringFormat::Uri => "uri",
        }
    }
}

/// `bytes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BytesSchema {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum length in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum length in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
}

/// `cid-link`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CidLinkSchema {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `blob`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BlobSchema {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Accepted MIME types; `image/*` and `*/*` are patterns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<Vec<String>>,
    /// Largest size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
}

/// `unknown`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct UnknownSchema {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `ref`: a reference to a definition, `#local`, `nsid` (its `main`) or `nsid#name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ref {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The target.
    #[serde(rename = "ref")]
    pub target: String,
}

/// `union`: one of several definitions, told apart by the data's `$type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Union {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The member definitions (same forms as [`Ref::target`]).
    pub refs: Vec<String>,
    /// When true, data must be one of `refs`; when false (the default), other `$type`s are
    /// accepted as unknown members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<bool>,
}

impl Union {
    /// Whether the union is closed.
    pub fn is_closed(&self) -> bool {
        self.closed.unwrap_or(false)
    }
}
