//! Talk to a PDS of your own choosing (a self-hosted one, or the local reference PDS) rather
//! than the default `https://bsky.social`, with a few client settings along the way.
//!
//! ```sh
//! ATDATA_PDS_URL=http://localhost:2583 ATDATA_HANDLE=alice.test ATDATA_PASSWORD=… \
//!     cargo run -p atdata-client --example custom_pds
//! ```

use std::error::Error;
use std::time::Duration;

use atdata_client::com::atproto::server::DescribeServer;
use atdata_client::{Client, RetryPolicy};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let client = Client::builder()
        .service(env("ATDATA_PDS_URL")?)
        .timeout(Duration::from_secs(30))
        .user_agent("atdata-example-custom-pds/0.1")
        .retry(RetryPolicy::default())
        .build()?;
    println!("service: {}", client.service());

    // Public methods need no session.
    let server = client.send(&DescribeServer::new()).await?;
    println!("server DID: {}", server.did);
    println!(
        "handles end in: {}",
        server.available_user_domains.join(", ")
    );
    println!(
        "invite code required: {}",
        server.invite_code_required.unwrap_or(false)
    );

    let me = client
        .login(&env("ATDATA_HANDLE")?, &env("ATDATA_PASSWORD")?)
        .await?;
    println!("logged in as {} on {}", me.handle, client.endpoint());
    Ok(())
}

/// A required environment variable.
fn env(name: &str) -> Result<String, Box<dyn Error>> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}
