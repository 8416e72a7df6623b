//! What the accounts tests share: accounts in-process with its test keys and the sample
//! directory.

#![allow(dead_code, reason = "each test file uses some of it")]

use std::time::Duration;

use test_support::system::{TEST_ACCOUNTS_SIGNING_KEY, TEST_ACCOUNTS_TOTP_KEY};
use test_support::{InProcess, workspace_root};

pub type Accounts = InProcess<accounts::Service>;

pub const WAIT: Duration = Duration::from_secs(20);

/// accounts with its test keys and the sample directory.
pub async fn accounts() -> Accounts {
    accounts_sealing_to().await.0
}

/// As [`accounts`], with the private key of the delivery key it seals to (playing delivery).
pub async fn accounts_sealing_to() -> (Accounts, zeroize::Zeroizing<[u8; 32]>) {
    let (delivery_secret, delivery_public) = kit::seal::keypair().unwrap();
    let accounts = Accounts::start_with("accounts", |s| {
        let a = &mut s.accounts;
        a.signing_key = Some(TEST_ACCOUNTS_SIGNING_KEY.to_owned().into());
        a.totp_key = Some(TEST_ACCOUNTS_TOTP_KEY.to_owned().into());
        a.delivery_public_key = Some(hex::encode(delivery_public));
    })
    .await;
    let sample = workspace_root().join("services/accounts/sample/directory.jsonl");
    let now = kit::clock::Clock::now(&kit::clock::SystemClock);
    accounts::import::import(&accounts.pool, &sample, now)
        .await
        .expect("the sample directory imports");
    (accounts, delivery_secret)
}
