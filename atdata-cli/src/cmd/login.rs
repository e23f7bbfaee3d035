//! `atdata login`, `atdata logout` and `atdata account create`: sessions and accounts.
//!
//! The session is stored in `$ATDATA_CONFIG_DIR/session.json` (owner-only permissions); the
//! password comes from `ATDATA_PASSWORD` or a prompt and is never printed or stored.

use clap::{Args, Subcommand};

use crate::output::Output;
use crate::remote::{self, PdsArg, Remote};
use crate::Failure;

/// `atdata login`'s arguments.
#[derive(Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pds: PdsArg,
    /// The account's handle (or DID, or email address).
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

/// The PDS to log in to: `--pds`, else the stored session's.
fn login_service(pds: &PdsArg) -> Result<String, Failure> {
    if let Some(url) = &pds.pds {
        return Ok(url.clone());
    }
    let stored = remote::load_session(&remote::session_path()?)?;
    stored
        .map(|s| s.service)
        .ok_or_else(|| Failure::Usage("which PDS? pass --pds URL (or set ATDATA_PDS_URL)".into()))
}

/// Logs in and stores the session.
pub fn login(args: LoginArgs, out: &Output) -> Result<(), Failure> {
    let service = login_service(&args.pds)?;
    let path = remote::session_path()?;
    let password = remote::read_password(&format!("Password for {}: ", args.handle))?;
    let remote = Remote::anonymous(&service)?;
    let account = remote
        .block_on(remote.client.login(&args.handle, &password))
        .map_err(remote::client_failure)?;
    let session = remote
        .client
        .session()
        .ok_or_else(|| Failure::Invalid("the server returned no session".into()))?;
    remote::save_session(&path, &session, remote.client.service())?;
    // Where calls go from now on: the PDS the account's DID document names.
    let pds = session
        .pds
        .clone()
        .unwrap_or_else(|| remote.client.service().to_owned());
    let json = serde_json::json!({
        "did": account.did.as_str(),
        "handle": account.handle.as_str(),
        "pds": pds,
        "session_file": path.display().to_string(),
    });
    out.emit(&json, || {
        format!(
            "logged in as {} ({}) on {}; session in {}",
            account.handle,
            account.did,
            pds,
            path.display()
        )
    })?;
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
