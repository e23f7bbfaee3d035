//! Arguments that name an identifier: the parsed type itself, or text to parse.
//!
//! The record helpers take `"app.bsky.feed.post"` as readily as an [`Nsid`] you already hold.
//! Text is checked when the call is sent, and a bad value fails that call with
//! [`Error::InvalidArgument`](crate::Error::InvalidArgument) before anything reaches the network.

use atdata_core::syntax::SyntaxError;
use atdata_core::{AtIdentifier, AtUri, Did, Handle, Nsid, RecordKey, Tid};

/// A value that is, or parses into, the identifier `T`.
///
/// Implemented for `T`, `&T`, `&str`, `String` and `&String` for [`Nsid`], [`RecordKey`],
/// [`AtIdentifier`], [`Did`] and [`AtUri`]; an [`AtIdentifier`] also comes from a [`Did`] or a
/// [`Handle`], and a [`RecordKey`] from a [`Tid`].
///
/// ```
/// use atdata_client::IntoIdentifier;
/// use atdata_core::Nsid;
///
/// let parsed: Nsid = IntoIdentifier::<Nsid>::into_identifier("ac.foundation.dataset.sampleSchema")?;
/// assert_eq!(parsed.name(), "sampleSchema");
/// assert!(IntoIdentifier::<Nsid>::into_identifier("not an nsid").is_err());
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
///
/// The trait is sealed: the list of argument types is part of this crate's promise, and a
/// conversion of your own would be one call away (`.parse()?`) anyway.
///
/// ```compile_fail
/// struct Mine;
/// impl atdata_client::IntoIdentifier<atdata_core::Nsid> for Mine {
///     fn into_identifier(self) -> Result<atdata_core::Nsid, atdata_core::syntax::SyntaxError> {
///         "com.example.mine".parse()
///     }
/// }
/// ```
pub trait IntoIdentifier<T>: sealed::Sealed<T> {
    /// The identifier, parsing text when needed.
    fn into_identifier(self) -> Result<T, SyntaxError>;
}

mod sealed {
    /// Implemented beside every `IntoIdentifier` impl, and nowhere else.
    pub trait Sealed<T> {}
}

macro_rules! into_identifier {
    ($($ty:ty),* $(,)?) => {$(
        impl sealed::Sealed<$ty> for $ty {}
        impl IntoIdentifier<$ty> for $ty {
            fn into_identifier(self) -> Result<$ty, SyntaxError> {
                Ok(self)
            }
        }
        impl sealed::Sealed<$ty> for &$ty {}
        impl IntoIdentifier<$ty> for &$ty {
            fn into_identifier(self) -> Result<$ty, SyntaxError> {
                Ok(self.clone())
            }
        }
        impl sealed::Sealed<$ty> for &str {}
        impl IntoIdentifier<$ty> for &str {
            fn into_identifier(self) -> Result<$ty, SyntaxError> {
                <$ty>::try_from(self)
            }
        }
        impl sealed::Sealed<$ty> for String {}
        impl IntoIdentifier<$ty> for String {
            fn into_identifier(self) -> Result<$ty, SyntaxError> {
                <$ty>::try_from(self)
            }
        }
        impl sealed::Sealed<$ty> for &String {}
        impl IntoIdentifier<$ty> for &String {
            fn into_identifier(self) -> Result<$ty, SyntaxError> {
                <$ty>::try_from(self.as_str())
            }
        }
    )*};
}

into_identifier!(Nsid, RecordKey, AtIdentifier, Did, AtUri);

impl sealed::Sealed<AtIdentifier> for Did {}

impl IntoIdentifier<AtIdentifier> for Did {
    fn into_identifier(self) -> Result<AtIdentifier, SyntaxError> {
        Ok(self.into())
    }
}

impl sealed::Sealed<AtIdentifier> for &Did {}

impl IntoIdentifier<AtIdentifier> for &Did {
    fn into_identifier(self) -> Result<AtIdentifier, SyntaxError> {
        Ok(self.clone().into())
    }
}

impl sealed::Sealed<AtIdentifier> for Handle {}

impl IntoIdentifier<AtIdentifier> for Handle {
    fn into_identifier(self) -> Result<AtIdentifier, SyntaxError> {
        Ok(self.into())
    }
}

impl sealed::Sealed<AtIdentifier> for &Handle {}

impl IntoIdentifier<AtIdentifier> for &Handle {
    fn into_identifier(self) -> Result<AtIdentifier, SyntaxError> {
        Ok(self.clone().into())
    }
}

impl sealed::Sealed<RecordKey> for Tid {}

impl IntoIdentifier<RecordKey> for Tid {
    fn into_identifier(self) -> Result<RecordKey, SyntaxError> {
        Ok(self.into())
    }
}

impl sealed::Sealed<RecordKey> for &Tid {}

impl IntoIdentifier<RecordKey> for &Tid {
    fn into_identifier(self) -> Result<RecordKey, SyntaxError> {
        Ok((*self).into())
    }
}
