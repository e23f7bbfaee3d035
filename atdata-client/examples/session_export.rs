//! Log in once, keep the session, and pick it up again later without the password: export the
//! session as a string, then make a new client from it. `on_session_change` is where a program
//! stores the string, so that refreshed tokens are kept too.
//!
//! The string holds the access and refresh tokens: store it like a password (this example
//! never prints it).
//!
//! ```sh
//! ATDATA_PDS_URL=http://localhost:2583 ATDATA_HANDLE=alice.test ATDATA_PASSWORD=… \
//!     cargo run -p atdata-client --example session_export
//! ```

use std::error::Error;
use std::sync::{Arc, Mutex};

use atdata_client::com::atproto::server::GetSession;
use atdata_client::{Client, Session};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = env("ATDATA_PDS_URL")?;

    // Stand-in for a file or a keychain entry.
    let store: Arc<Mutex<Option<String>>> = Arc::default();
    let saver = Arc::clone(&store);
    let client = Client::builder()
        .service(&url)
        .on_session_change(move |change, session| {
            println!("session change: {change:?}");
            if let Ok(mut slot) = saver.lock() {
                *slot = session.map(Session::export);
            }
        })
        .build()?;
    client
        .login(&env("ATDATA_HANDLE")?, &env("ATDATA_PASSWORD")?)
        .await?;

    // The same string, asked for directly.
    let exported = client.export_session().ok_or("not logged in")?;
    let stored = store.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(stored.as_deref(), Some(exported.as_str()));
    println!("exported the session ({} characters)", exported.len());

    // Later, or in another process: a new client from the string, no password needed.
    let resumed = Client::from_session(&url, &exported)?;
    let me = resumed.send(&GetSession::new()).await?;
    println!("resumed as {} ({})", me.handle, me.did);

    // A refresh gets new tokens; export again to keep them.
    resumed.refresh_session().await?;
    let fresh = resumed.export_session().ok_or("not logged in")?;
    println!("refreshed; the new export differs: {}", fresh != exported);

    // Logging out ends the session on the server: the exported strings stop working.
    resumed.logout().await?;
    println!("logged out: {}", resumed.me().is_none());
    Ok(())
}

/// A required environment variable.
fn env(name: &str) -> Result<String, Box<dyn Error>> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}
