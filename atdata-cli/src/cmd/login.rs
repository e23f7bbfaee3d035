//! `atdata login`, `atdata logout` and `atdata account create`: sessions and accounts.
//!
//! The session is stored in `$ATDATA_CONFIG_DIR/session.json` (owner-only permissions); the
//! password comes from `ATDATA_PASSWORD` or a prompt and is never printed or stored.

use atdata_core::syntax::AtIdentifier;
use clap::{Args, Subcommand};

use crate::output::Output;
use crate::remote::{self, PdsArg, Remote};
use crate::resolver::{self, ResolverArgs};
use crate::Failure;

/// `atdata login`'s arguments.
#[derive(Args)]
pub struct LoginArgs {
    /// The server to log in to: a PDS, or an entryway such as https://bsky.social (default:
    /// the account's PDS, found through its DID document). Needed for an email address.
    #[arg(long, value_name = "URL", env = "ATDATA_PDS_URL")]
    pds: Option<String>,
    /// How the account's PDS is found without --pds (ignored with it).
    #[command(flatten)]
    resolver: ResolverArgs,
    /// The account's handle or DID (or email address, with --pds).
    handle: String,
}

/// `atdata account`'s subcommands.
#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an account on a development PDS (no invite or verification needed).
    ///
    /// `com.atproto.server.createAccount`; the password comes from ATDATA_PASSWORD or a prompt.
    /// Does not log in: run `atdata login` next.
    Create {
        #[command(flatten)]
        pds: PdsArg,
        /// The new handle (`name.test` on a local development PDS).
        #[arg(long)]
        handle: String,
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// An invite code, when the PDS requires one.
        #[arg(long)]
        invite_code: Option<String>,
    },
}

/// Where the login goes.
enum Target {
    /// `--pds`: that server, remembered as the session's service.
    Given(String),
    /// Found through the DID document; the session's service is the PDS found.
    Resolved,
}

/// Logs in and stores the session.
///
/// Without `--pds`, the handle or DID is resolved before the password is read: one that does
/// not resolve (or has no PDS) fails without a prompt, and no password goes anywhere.
pub fn login(args: LoginArgs, out: &Output) -> Result<(), Failure> {
    let path = remote::session_path()?;
    let target = match args.pds {
        Some(url) => Target::Given(url),
        None => Target::Resolved,
    };
    let remote = match &target {
        Target::Given(url) => Remote::anonymous(url)?,
        Target::Resolved => {
            let id = account_id(&args.handle)?;
            let (remote, resolver) = Remote::resolving(&args.resolver)?;
            find_pds(&remote, &resolver, &id)?;
            remote
        }
    };
    let password = remote::read_password(&format!("Password for {}: ", args.handle))?;
    let account = remote
        .block_on(remote.client.login(&args.handle, &password))
        .map_err(remote::client_failure)?;
    let session = remote
        .client
        .session()
        .ok_or_else(|| Failure::Invalid("the server returned no session".into()))?;
    // Where calls go from now on: the PDS the account's DID document names.
    let pds = remote.client.endpoint();
    // What later commands connect to: the server given, or the PDS found.
    let (service, source) = match target {
        Target::Given(_) => (remote.client.service().to_owned(), "flag"),
        Target::Resolved => (pds.clone(), "resolved"),
    };
    remote::save_session(&path, &session, &service)?;
    let json = serde_json::json!({
        "did": account.did.as_str(),
        "handle": account.handle.as_str(),
        "pds": pds,
        "pds_source": source,
        "session_file": path.display().to_string(),
    });
    out.emit(&json, || {
        let found = if source == "resolved" {
            " (found through the DID document)"
        } else {
            ""
        };
        format!(
            "logged in as {} ({}) on {pds}{found}; session in {}",
            account.handle,
            account.did,
            path.display()
        )
    })?;
    Ok(())
}

/// The handle or DID to find the PDS of. An email address is a usage error here: only a
/// server can look one up.
fn account_id(identifier: &str) -> Result<AtIdentifier, Failure> {
    let trimmed = identifier.trim();
    AtIdentifier::new(trimmed).map_err(|e| {
        if trimmed.contains('@') {
            Failure::Usage(format!(
                "{trimmed:?} is an email address, which only a server can look up: pass --pds URL \
                 (or set ATDATA_PDS_URL), or log in with the handle or DID"
            ))
        } else {
            Failure::Usage(format!(
                "{trimmed:?} is not a handle or a DID ({e}); an email address needs --pds URL"
            ))
        }
    })
}

/// Resolves `id` to its PDS, as `login` will (the handle checked both ways), so that a failure
/// comes before the password prompt; `login` then finds the answer in the resolver's cache.
fn find_pds(
    remote: &Remote,
    resolver: &atdata_identity::Resolver,
    id: &AtIdentifier,
) -> Result<(), Failure> {
    let identity = remote
        .block_on(async {
            match id {
                AtIdentifier::Did(did) => resolver.lookup_document(did).await,
                AtIdentifier::Handle(handle) => resolver.lookup_handle(handle).await,
            }
        })
        .map_err(|e| {
            let message = format!("finding the PDS of {id}: {}", resolver::describe(&e));
            if e.is_unreachable() {
                Failure::Unreadable(message)
            } else {
                Failure::Invalid(message)
            }
        })?;
    if identity.pds().is_none() {
        return Err(Failure::Invalid(format!(
            "finding the PDS of {id}: {} names no PDS (#atproto_pds) in its DID document",
            identity.did()
        )));
    }
    Ok(())
}

/// Ends the stored session on the server (`deleteSession`) and removes the file. The file goes
/// even when the server cannot be reached; that is reported on stderr.
pub fn logout(out: &Output) -> Result<(), Failure> {
    let path = remote::session_path()?;
    let Some(stored) = remote::load_session(&path)? else {
        remote::remove_session(&path)?;
        out.emit(&serde_json::json!({ "logged_out": null }), || {
            "not logged in".into()
        })?;
        return Ok(());
    };
    let handle = stored.session.handle.to_string();
    let client = atdata_client::Client::builder()
        .service(stored.service)
        .session(stored.session)
        .build();
    match client {
        Ok(client) => {
            let remote = Remote::from_client(client)?;
            if let Err(e) = remote.block_on(remote.client.logout()) {
                crate::output::note(format_args!(
                    "atdata: warning: the server did not end the session: {e}"
                ));
            }
        }
        Err(e) => crate::output::note(format_args!("atdata: warning: the session's service: {e}")),
    }
    remote::remove_session(&path)?;
    out.emit(&serde_json::json!({ "logged_out": handle }), || {
        format!("logged out {handle}")
    })?;
    Ok(())
}

/// `atdata account …`.
pub fn account(command: AccountCommand, out: &Output) -> Result<(), Failure> {
    match command {
        AccountCommand::Create {
            pds,
            handle,
            email,
            invite_code,
        } => {
            let service = pds.pds.ok_or_else(|| {
                Failure::Usage("which PDS? pass --pds URL (or set ATDATA_PDS_URL)".into())
            })?;
            let password = remote::read_password(&format!("Password for the new {handle}: "))?;
            let remote = Remote::anonymous(&service)?;
            let account = remote
                .block_on(remote.client.create_account(
                    &handle,
                    &email,
                    &password,
                    invite_code.as_deref(),
                ))
                .map_err(remote::client_failure)?;
            let json = serde_json::json!({
                "did": account.did.as_str(),
                "handle": account.handle.as_str(),
            });
            out.emit(&json, || {
                format!("created {} ({})", account.handle, account.did)
            })?;
            Ok(())
        }
    }
}
