//! The local reference PDS for the integration tests (found or started by `atdata-testkit`),
//! and new accounts on it.

use atdata_client::{Account, Client};

pub use atdata_testkit::{pds, Pds};

/// A handle no earlier run used: the PDS keeps its accounts between runs.
pub fn unique_handle() -> String {
    atdata_testkit::unique_handle('t')
}

pub const PASSWORD: &str = "integration-test-password";

/// A new account on the PDS and a client logged in as it.
pub async fn new_account(pds: &Pds) -> (Client, Account) {
    let client = Client::new(&pds.url).expect("client");
    let handle = unique_handle();
    let email = format!("{}@example.com", handle.trim_end_matches(".test"));
    let account = client
        .create_account(&handle, &email, PASSWORD, None)
        .await
        .expect("createAccount");
    (client, account)
}
