//! A logged-in session: who the account is, where its PDS is, and the two tokens.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use atdata_core::{Did, DidDocument, Handle};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A token or password: wiped from memory when dropped, and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(Zeroizing<String>);

impl Secret {
    pub(crate) fn new(text: String) -> Self {
        Secret(Zeroizing::new(text))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

/// The account a session belongs to.
///
/// ```
/// use atdata_client::Account;
/// let me = Account { did: "did:plc:abc123".parse()?, handle: "alice.test".parse()? };
/// assert_eq!(me.handle.as_str(), "alice.test");
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account's DID: its permanent identifier and the repository's name.
    pub did: Did,
    /// Its handle, as the server knows it at login or refresh.
    pub handle: Handle,
}

/// A logged-in session, as `com.atproto.server.createSession` and `refreshSession` return it.
///
/// The tokens are wiped from memory when the session is dropped and `Debug` shows them as
/// `<redacted>`. [`Session::export`] writes the whole session as a string to store (it holds
/// the tokens, so store it as you would a password) and [`Session::import`] reads it back.
///
/// ```
/// use atdata_client::Session;
///
/// let exported = r#"{"version":1,"did":"did:plc:abc123","handle":"alice.test",
///     "accessJwt":"a.b.c","refreshJwt":"d.e.f","pds":"http://localhost:2583"}"#;
/// let session = Session::import(exported)?;
/// assert_eq!(session.did.as_str(), "did:plc:abc123");
/// assert_eq!(session.pds.as_deref(), Some("http://localhost:2583"));
/// assert!(!format!("{session:?}").contains("a.b.c"));
/// assert_eq!(Session::import(&session.export())?, session);
/// # Ok::<(), atdata_client::SessionError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Session {
    /// The account's DID.
    pub did: Did,
    /// The account's handle.
    pub handle: Handle,
    /// The account's PDS, from the DID document the server returned; calls go there while the
    /// session lasts.
    pub pds: Option<String>,
    /// The account's email address, when the server shares it.
    pub email: Option<String>,
    /// Whether the account is active; `None` when the server did not say.
    pub active: Option<bool>,
    /// Why the account is not active (`takendown`, `suspended`, `deactivated`).
    pub status: Option<String>,
    access_jwt: Secret,
    refresh_jwt: Secret,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("pds", &self.pds)
            .field("email", &self.email)
            .field("active", &self.active)
            .field("status", &self.status)
            .field("access_jwt", &self.access_jwt)
            .field("refresh_jwt", &self.refresh_jwt)
            .finish()
    }
}

/// A session string that [`Session::import`] could not read. The message names the problem,
/// never the string's contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Not a session exported by this library (bad JSON, a missing or invalid field).
    #[error("not an exported session: {0}")]
    Malformed(String),
    /// Exported by a newer version of this library.
    #[error("exported session version {0} is not supported (this library reads version 1)")]
    Version(u64),
}

/// The export format; `version` lets later releases change it and still read old strings.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Exported<'a> {
    version: u64,
    did: Did,
    handle: Handle,
    access_jwt: &'a str,
    refresh_jwt: &'a str,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pds: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
}

impl Session {
    /// A session from its parts, for sessions made elsewhere (a test, another client).
    pub fn new(did: Did, handle: Handle, access_jwt: String, refresh_jwt: String) -> Self {
        Session {
            did,
            handle,
            pds: None,
            email: None,
            active: None,
            status: None,
            access_jwt: Secret::new(access_jwt),
            refresh_jwt: Secret::new(refresh_jwt),
        }
    }

    /// The same session with calls sent to `pds`.
    pub fn with_pds(mut self, pds: impl Into<String>) -> Self {
        self.pds = Some(pds.into());
        self
    }

    /// The account.
    pub fn account(&self) -> Account {
        Account {
            did: self.did.clone(),
            handle: self.handle.clone(),
        }
    }

    /// The access token. It is a bearer credential: do not log it.
    pub fn access_jwt(&self) -> &str {
        self.access_jwt.expose()
    }

    /// The refresh token. It is a bearer credential: do not log it.
    pub fn refresh_jwt(&self) -> &str {
        self.refresh_jwt.expose()
    }

    /// When the access token expires, read from its `exp` claim; `None` when the token is not
    /// a JWT the client can read (the server decides anyway: this only saves a round trip).
    pub fn access_expires_at(&self) -> Option<SystemTime> {
        jwt_claims(self.access_jwt())
            .and_then(|claims| UNIX_EPOCH.checked_add(Duration::from_secs(claims.exp)))
    }

    /// When the client should refresh the tokens ahead of need, on the local monotonic clock;
    /// `None` when the access token is not a JWT the client can read.
    ///
    /// `fresh`: the server issued the tokens just now (login, refresh), so the token's lifetime
    /// (`exp - iat`) counts from now whatever the two clocks say. Otherwise (a resumed session)
    /// `exp` is compared with the system clock, as nothing better is known.
    pub(crate) fn refresh_due(&self, fresh: bool) -> Option<Instant> {
        let claims = jwt_claims(self.access_jwt())?;
        let lifetime = claims
            .iat
            .and_then(|iat| claims.exp.checked_sub(iat))
            .map(Duration::from_secs);
        // A tenth of a short lifetime, so a token that lives for seconds is not refreshed on
        // every call.
        let ahead = lifetime.map_or(REFRESH_AHEAD, |lifetime| REFRESH_AHEAD.min(lifetime / 10));
        // The claims come from outside: a time too far off for the clocks to hold means no
        // early refresh, never a panic.
        let left = match (fresh, lifetime) {
            (true, Some(lifetime)) => lifetime,
            _ => UNIX_EPOCH
                .checked_add(Duration::from_secs(claims.exp))?
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        };
        Instant::now().checked_add(left.saturating_sub(ahead))
    }

    /// The session as a string to store and give to [`Session::import`] or
    /// [`Client::resume_session`](crate::Client::resume_session) later. It holds both tokens.
    pub fn export(&self) -> String {
        let exported = Exported {
            version: 1,
            did: self.did.clone(),
            handle: self.handle.clone(),
            access_jwt: self.access_jwt(),
            refresh_jwt: self.refresh_jwt(),
            pds: self.pds.clone(),
            email: self.email.clone(),
            active: self.active,
            status: self.status.clone(),
        };
        // Only strings, booleans and validated identifiers: serialising cannot fail.
        serde_json::to_string(&exported).unwrap_or_default()
    }

    /// Reads a string written by [`Session::export`], or one exported by the Python SDK's
    /// `client.export_session_string()` (`handle:::did:::accessJwt:::refreshJwt:::pdsUrl`), so a
    /// session can move from a Python program to a Rust one without logging in again.
    ///
    /// ```
    /// # fn jwt() -> String { "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln".into() }
    /// let python = format!("alice.test:::did:plc:abc123:::{}:::{}:::https://pds.example.com", jwt(), jwt());
    /// let session = atdata_client::Session::import(&python)?;
    /// assert_eq!(session.did.as_str(), "did:plc:abc123");
    /// assert_eq!(session.pds.as_deref(), Some("https://pds.example.com"));
    /// # Ok::<(), atdata_client::SessionError>(())
    /// ```
    pub fn import(exported: &str) -> Result<Session, SessionError> {
        if !exported.trim_start().starts_with('{') && exported.contains(":::") {
            return Session::import_python(exported.trim());
        }
        // serde_json's messages name positions and expected types, not the input's text, so
        // they cannot echo a token.
        let value: serde_json::Value =
            serde_json::from_str(exported).map_err(|e| SessionError::Malformed(e.to_string()))?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(1) => {}
            Some(other) => return Err(SessionError::Version(other)),
            None => return Err(SessionError::Malformed("missing `version`".into())),
        }
        let parsed: Exported<'_> = serde::Deserialize::deserialize(&value)
            .map_err(|e| SessionError::Malformed(e.to_string()))?;
        Ok(Session {
            did: parsed.did,
            handle: parsed.handle,
            pds: parsed.pds,
            email: parsed.email,
            active: parsed.active,
            status: parsed.status,
            access_jwt: Secret::new(parsed.access_jwt.to_owned()),
            refresh_jwt: Secret::new(parsed.refresh_jwt.to_owned()),
        })
    }
}

impl Session {
    /// The Python SDK's session string: five fields joined by `:::`. Error messages name the
    /// field, never its text (two of them are tokens).
    fn import_python(exported: &str) -> Result<Session, SessionError> {
        let malformed =
            |what: &str| SessionError::Malformed(format!("Python session string: {what}"));
        let fields: Vec<&str> = exported.split(":::").collect();
        let [handle, did, access, refresh, pds] = fields[..] else {
            return Err(malformed(&format!(
                "expected 5 fields joined by ':::', found {}",
                fields.len()
            )));
        };
        let handle: Handle = handle.parse().map_err(|_| malformed("invalid handle"))?;
        let did: Did = did.parse().map_err(|_| malformed("invalid DID"))?;
        if access.is_empty() || refresh.is_empty() {
            return Err(malformed("empty token"));
        }
        let pds = pds.trim_end_matches('/');
        let pds = match pds {
            "" => None,
            url if url.starts_with("https://") || url.starts_with("http://") => {
                Some(url.to_owned())
            }
            _ => return Err(malformed("the PDS is not an http(s) URL")),
        };
        let mut session = Session::new(did, handle, access.to_owned(), refresh.to_owned());
        session.pds = pds;
        Ok(session)
    }
}

/// What `createSession`, `refreshSession` and `createAccount` return, with the tokens moved
/// (not copied) out of the generated outputs into [`Secret`]s, which wipe them when dropped.
pub(crate) struct SessionOutput {
    did: Did,
    handle: Handle,
    access_jwt: Secret,
    refresh_jwt: Secret,
    did_doc: Option<atdata_core::Value>,
    email: Option<String>,
    active: Option<bool>,
    status: Option<String>,
}

/// The three outputs have the same session fields, but they are distinct generated types.
macro_rules! session_output_from {
    ($($output:ty => $email:ident $active:ident $status:ident);* $(;)?) => {$(
        impl From<$output> for SessionOutput {
            #[allow(unused_variables)]
            fn from(o: $output) -> Self {
                SessionOutput {
                    did: o.did,
                    handle: o.handle,
                    access_jwt: Secret::new(o.access_jwt),
                    refresh_jwt: Secret::new(o.refresh_jwt),
                    did_doc: o.did_doc,
                    email: session_output_from!(@opt o $email),
                    active: session_output_from!(@opt o $active),
                    status: session_output_from!(@opt o $status),
                }
            }
        }
    )*};
    (@opt $o:ident none) => { None };
    (@opt $o:ident $field:ident) => { $o.$field };
}

session_output_from! {
    crate::com::atproto::server::create_session::Output => email active status;
    crate::com::atproto::server::refresh_session::Output => email active status;
    crate::com::atproto::server::create_account::Output => none none none;
}

impl SessionOutput {
    pub(crate) fn into_session(self) -> Session {
        let pds = self
            .did_doc
            .and_then(|doc| pds_from_did_doc(doc, &self.did));
        Session {
            did: self.did,
            handle: self.handle,
            pds,
            email: self.email,
            active: self.active,
            status: self.status,
            access_jwt: self.access_jwt,
            refresh_jwt: self.refresh_jwt,
        }
    }
}

/// The PDS endpoint of a DID document, if the document is for `did` and names one.
fn pds_from_did_doc(doc: atdata_core::Value, did: &Did) -> Option<String> {
    let doc: DidDocument = atdata_core::from_value_json(doc).ok()?;
    // A document for another DID would send our tokens to a server the account never named.
    if doc.id != *did {
        return None;
    }
    doc.pds_endpoint()
        .map(|url| url.trim_end_matches('/').to_owned())
}

/// How long before an access token expires the client refreshes it (at most; see
/// [`Session::refresh_due`]), so that calls do not first meet `ExpiredToken`.
const REFRESH_AHEAD: Duration = Duration::from_secs(60);

/// The time claims of a JWT, in seconds since the Unix epoch.
struct Claims {
    iat: Option<u64>,
    exp: u64,
}

/// The `exp` (and `iat`) claims of a JWT, without checking its signature (only the server can).
fn jwt_claims(token: &str) -> Option<Claims> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(Claims {
        iat: claims.get("iat").and_then(serde_json::Value::as_u64),
        exp: claims.get("exp")?.as_u64()?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            engine.encode(r#"{"alg":"HS256"}"#),
            engine.encode(claims)
        )
    }

    #[test]
    fn expiry_is_read_from_the_access_token() {
        let session = Session::new(
            "did:plc:abc123".parse().unwrap(),
            "alice.test".parse().unwrap(),
            jwt(r#"{"exp": 1700000000, "scope": "com.atproto.access"}"#),
            "refresh".into(),
        );
        assert_eq!(
            session.access_expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        let opaque = Session::new(
            "did:plc:abc123".parse().unwrap(),
            "alice.test".parse().unwrap(),
            "not-a-jwt".into(),
            "refresh".into(),
        );
        assert_eq!(opaque.access_expires_at(), None);
    }

    #[test]
    fn debug_and_errors_never_show_tokens() {
        let session = Session::new(
            "did:plc:abc123".parse().unwrap(),
            "alice.test".parse().unwrap(),
            "ACCESS-SECRET".into(),
            "REFRESH-SECRET".into(),
        );
        let debug = format!("{session:?}");
        assert!(!debug.contains("ACCESS-SECRET") && !debug.contains("REFRESH-SECRET"));
        let exported = session.export();
        assert!(exported.contains("ACCESS-SECRET"));
        let broken = exported.replace("\"did\":\"did:plc:abc123\"", "\"did\":7");
        let err = Session::import(&broken).unwrap_err().to_string();
        assert!(!err.contains("SECRET"), "{err}");
    }

    #[test]
    fn versions_are_checked() {
        assert!(matches!(
            Session::import(r#"{"version": 2}"#),
            Err(SessionError::Version(2))
        ));
        assert!(matches!(
            Session::import("{}"),
            Err(SessionError::Malformed(_))
        ));
    }

    #[test]
    fn generated_session_types_redact_tokens_and_passwords_in_debug() {
        use crate::com::atproto::server::{create_account, create_session, refresh_session};
        let output = create_session::Output::new(
            "ACCESS-SECRET",
            "REFRESH-SECRET",
            "alice.test".parse::<Handle>().unwrap(),
            "did:plc:abc123".parse::<Did>().unwrap(),
        );
        let shown = format!("{output:?}");
        assert!(
            !shown.contains("ACCESS-SECRET") && !shown.contains("REFRESH-SECRET"),
            "{shown}"
        );
        assert!(
            shown.contains("<redacted>") && shown.contains("did:plc:abc123"),
            "{shown}"
        );
        let request = create_session::CreateSession::new("alice.test", "PASSWORD-SECRET")
            .auth_factor_token("CODE-SECRET");
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("PASSWORD-SECRET") && !shown.contains("CODE-SECRET"),
            "{shown}"
        );
        let request = create_account::CreateAccount::new("alice.test".parse::<Handle>().unwrap())
            .password("PASSWORD-SECRET")
            .invite_code("INVITE-SECRET");
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("PASSWORD-SECRET") && !shown.contains("INVITE-SECRET"),
            "{shown}"
        );
        assert!(shown.contains("alice.test"), "{shown}");
        let output = refresh_session::Output::new(
            "ACCESS-SECRET",
            "REFRESH-SECRET",
            "alice.test".parse::<Handle>().unwrap(),
            "did:plc:abc123".parse::<Did>().unwrap(),
        );
        assert!(!format!("{output:?}").contains("SECRET"));
        // A session made from an output keeps the tokens and shows neither.
        let session = SessionOutput::from(output).into_session();
        assert_eq!(session.access_jwt(), "ACCESS-SECRET");
        assert!(!format!("{session:?}").contains("SECRET"));
    }

    #[test]
    fn python_session_strings_import_and_errors_never_show_tokens() {
        let access = jwt(r#"{"exp": 4102444800}"#);
        let refresh = jwt(r#"{"exp": 4102444800, "scope": "refresh"}"#);
        let text = format!(
            "alice.test:::did:plc:abc123:::{access}:::{refresh}:::https://pds.example.com/"
        );
        let session = Session::import(&text).expect("python string");
        assert_eq!(session.handle.as_str(), "alice.test");
        assert_eq!(session.access_jwt(), access);
        assert_eq!(session.refresh_jwt(), refresh);
        assert_eq!(session.pds.as_deref(), Some("https://pds.example.com"));
        // Round trip through our own format.
        let again = Session::import(&session.export()).expect("ours");
        assert_eq!(again.refresh_jwt(), refresh);
        for bad in [
            format!("alice.test:::did:plc:abc123:::{access}:::{refresh}"),
            format!("not a handle:::did:plc:abc123:::{access}:::{refresh}:::https://x.test"),
            format!("alice.test:::nodid:::{access}:::{refresh}:::https://x.test"),
            format!("alice.test:::did:plc:abc123:::{access}:::{refresh}:::ftp://x.test"),
        ] {
            let e = Session::import(&bad).expect_err("malformed");
            assert!(!e.to_string().contains(&access), "{e}");
        }
    }

    #[test]
    fn pds_comes_from_a_matching_did_doc_only() {
        let doc = |id: &str| {
            atdata_core::Value::from_json(serde_json::json!({
                "id": id,
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                             "serviceEndpoint": "https://pds.example.com/"}]
            }))
            .unwrap()
        };
        let did: Did = "did:plc:abc123".parse().unwrap();
        assert_eq!(
            pds_from_did_doc(doc("did:plc:abc123"), &did).as_deref(),
            Some("https://pds.example.com")
        );
        assert_eq!(pds_from_did_doc(doc("did:plc:other"), &did), None);
    }

    #[test]
    fn refresh_is_due_near_the_end_of_the_token_s_life() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let session = |iat: u64, exp: u64| {
            Session::new(
                "did:plc:abc123".parse().unwrap(),
                "alice.test".parse().unwrap(),
                jwt(&format!(r#"{{"iat": {iat}, "exp": {exp}}}"#)),
                "r".into(),
            )
        };
        let left = |due: Instant| due.saturating_duration_since(Instant::now()).as_secs();
        // Fresh: the lifetime counts from now, even if the clocks disagree by an hour.
        let skewed = session(now + 3600, now + 3600 + 7200);
        assert!((7138..=7140).contains(&left(skewed.refresh_due(true).unwrap())));
        // Resumed: exp against the system clock, a minute ahead.
        let resumed = session(now - 7000, now + 200);
        assert!((138..=140).contains(&left(resumed.refresh_due(false).unwrap())));
        let expired = session(now - 7300, now - 100);
        assert_eq!(left(expired.refresh_due(false).unwrap()), 0);
        // A ten-second token is refreshed in its last second, not on every call.
        let short = session(now, now + 10);
        assert!((8..=9).contains(&left(short.refresh_due(true).unwrap())));
        // Not a readable JWT: no early refresh (ExpiredToken still triggers one).
        let opaque = Session::new(
            "did:plc:abc123".parse().unwrap(),
            "alice.test".parse().unwrap(),
            "opaque".into(),
            "r".into(),
        );
        assert!(opaque.refresh_due(true).is_none());
    }
    proptest::proptest! {
        /// Any `iat`/`exp` in a token (they come from the server, or from an imported string):
        /// the expiry and the early-refresh time are computed or absent, never a panic.
        #[test]
        fn any_token_times_are_handled(iat: Option<u64>, exp: u64, fresh: bool) {
            let claims = match iat {
                Some(iat) => format!(r#"{{"iat": {iat}, "exp": {exp}}}"#),
                None => format!(r#"{{"exp": {exp}}}"#),
            };
            let session = Session::new(
                "did:plc:abc123".parse().unwrap(),
                "alice.test".parse().unwrap(),
                jwt(&claims),
                "r".into(),
            );
            let _ = session.access_expires_at();
            let _ = session.refresh_due(fresh);
        }

        /// Any string given to `import`: a session or an error, never a panic.
        #[test]
        fn import_never_panics(text in "\\PC{0,200}") {
            let _ = Session::import(&text);
        }
    }
}
