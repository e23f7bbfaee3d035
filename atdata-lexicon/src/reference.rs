//! [`DefRef`]: a resolved reference to one definition, `nsid#name`.

use std::fmt;

use atdata_core::Nsid;

/// A reference to one definition of one lexicon: `nsid#name`, written `nsid` for `main`.
///
/// Lexicons write references three ways: `#name` (same document), `nsid` (that document's
/// `main`) and `nsid#name`. [`DefRef::parse`] turns any of them into this one form, which is
/// also what data carries in `$type`.
///
/// ```
/// use atdata_lexicon::DefRef;
///
/// let here: atdata_core::Nsid = "app.bsky.feed.post".parse()?;
/// let local = DefRef::parse("#replyRef", &here)?;
/// assert_eq!(local.to_string(), "app.bsky.feed.post#replyRef");
///
/// let main = DefRef::parse("app.bsky.embed.images", &here)?;
/// assert_eq!(main.name(), "main");
/// assert_eq!(main.to_string(), "app.bsky.embed.images");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefRef {
    nsid: Nsid,
    name: String,
}

/// A reference that is not `#name`, `nsid` or `nsid#name` with a valid NSID and name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid reference {text:?}: {reason}")]
pub struct RefError {
    /// The reference as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl DefRef {
    /// A reference to `name` in `nsid`.
    pub fn new(nsid: Nsid, name: impl Into<String>) -> Self {
        DefRef {
            nsid,
            name: name.into(),
        }
    }

    /// Reads a reference as written in the lexicon `context`.
    pub fn parse(text: &str, context: &Nsid) -> Result<Self, RefError> {
        let error = |reason| RefError {
            text: text.to_owned(),
            reason,
        };
        let (nsid, name) = match text.split_once('#') {
            Some(("", name)) => (context.clone(), name),
            Some((nsid, name)) => (
                nsid.parse::<Nsid>()
                    .map_err(|_| error("the part before '#' is not an NSID"))?,
                name,
            ),
            None => (
                text.parse::<Nsid>().map_err(|_| error("not an NSID"))?,
                "main",
            ),
        };
        if !is_valid_def_name(name) {
            return Err(error(
                "a definition name is ASCII letters, digits, '_' and '-', not starting with a digit",
            ));
        }
        Ok(DefRef::new(nsid, name))
    }

    /// Reads a `$type` value (`nsid` or `nsid#name`; no local form).
    pub fn parse_type(text: &str) -> Result<Self, RefError> {
        if text.starts_with('#') {
            return Err(RefError {
                text: text.to_owned(),
                reason: "a $type names its lexicon",
            });
        }
        // The context is never used for a non-local reference.
        let any: Nsid = "a.b.c".parse().map_err(|_| RefError {
            text: text.to_owned(),
            reason: "internal",
        })?;
        DefRef::parse(text, &any)
    }

    /// The lexicon.
    pub fn nsid(&self) -> &Nsid {
        &self.nsid
    }

    /// The definition name (`main` for the bare NSID).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is the lexicon's `main` definition.
    pub fn is_main(&self) -> bool {
        self.name == "main"
    }
}

/// Reads a `$type`-style reference, `nsid` or `nsid#name` (see [`DefRef::parse_type`]).
///
/// ```
/// use atdata_lexicon::DefRef;
///
/// let r: DefRef = "app.bsky.richtext.facet#mention".parse()?;
/// assert_eq!(r.name(), "mention");
/// # Ok::<(), atdata_lexicon::RefError>(())
/// ```
impl std::str::FromStr for DefRef {
    type Err = RefError;
    fn from_str(s: &str) -> Result<Self, RefError> {
        DefRef::parse_type(s)
    }
}

impl fmt::Display for DefRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_main() {
            write!(f, "{}", self.nsid)
        } else {
            write!(f, "{}#{}", self.nsid, self.name)
        }
    }
}

/// Definition names: what the official lexicons use (`main`, `replyRef`, `viewer_state`, …).
pub(crate) fn is_valid_def_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 128
}
