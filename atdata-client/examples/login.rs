//! Log in with a handle and password and look at the session, with the blocking client (for
//! programs without an async runtime; the async `atdata_client::Client` has the same methods).
//!
//! ```sh
//! ATDATA_PDS_URL=http://localhost:2583 ATDATA_HANDLE=alice.test ATDATA_PASSWORD=… \
//!     cargo run -p atdata-client --example login
//! ```

use std::error::Error;

use atdata_client::blocking::Client;
use atdata_client::com::atproto::server::GetSession;

fn main() -> Result<(), Box<dyn Error>> {
    let client = Client::new(env("ATDATA_PDS_URL")?)?;
    // The handle, the DID or the email address all work as the identifier.
    let me = client.login(&env("ATDATA_HANDLE")?, &env("ATDATA_PASSWORD")?)?;
    println!("logged in as {} ({})", me.handle, me.did);
    // After login, calls go to the PDS named in the account's DID document.
    println!("calls go to {}", client.endpoint());

    // Any XRPC method, here `com.atproto.server.getSession`, through the generic `send`.
    let session = client.send(&GetSession::new())?;
    println!(
        "the server knows us as {}, active: {}",
        session.handle,
        session.active.unwrap_or(true)
    );
    Ok(())
}

/// A required environment variable.
fn env(name: &str) -> Result<String, Box<dyn Error>> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}
