//! `atdata key`: generate keys, sign and verify bytes the atproto way.

use atdata_crypto::{Curve, Keypair, PublicKey};
use base64::Engine as _;
use clap::{Subcommand, ValueEnum};

use super::read_input;
use crate::output::Output;
use crate::Failure;

/// Where `key sign` looks for the private key when `--private-key` is absent.
const PRIVATE_KEY_ENV: &str = "ATDATA_PRIVATE_KEY";

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Generate a keypair: prints its did:key and its private key (multibase; keep it secret).
    Gen {
        /// The curve: k256 (secp256k1, what atproto repositories usually use) or p256.
        #[arg(long, value_enum, default_value_t = CurveArg::K256)]
        curve: CurveArg,
    },
    /// Sign FILE (`-` reads stdin): prints the 64-byte signature (SHA-256, ECDSA, low-S) as
    /// unpadded base64url, as plain text even when piped.
    Sign {
        /// The private key in multibase form (as `key gen` prints it). If absent, read from
        /// the ATDATA_PRIVATE_KEY environment variable, which keeps it out of shell history.
        #[arg(long)]
        private_key: Option<String>,
        /// The file to sign, or `-` for stdin.
        file: String,
    },
    /// Check a signature over FILE (`-` reads stdin): exit 0 if valid, 1 (reason on stderr)
    /// if not, 3 if FILE cannot be read.
    Verify {
        /// The signer's key as did:key.
        #[arg(long)]
        did_key: String,
        /// The signature: 64 bytes as base64url (unpadded or padded; standard base64 works too).
        /// Base64url may start with `-`; that is read as the value, not as an option.
        #[arg(long, allow_hyphen_values = true)]
        sig: String,
        /// The signed file, or `-` for stdin.
        file: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CurveArg {
    P256,
    K256,
}

impl From<CurveArg> for Curve {
    fn from(arg: CurveArg) -> Curve {
        match arg {
            CurveArg::P256 => Curve::P256,
            CurveArg::K256 => Curve::K256,
        }
    }
}

pub fn run(command: KeyCommand, out: &Output) -> Result<(), Failure> {
    match command {
        KeyCommand::Gen { curve } => gen(curve.into(), out),
        KeyCommand::Sign { private_key, file } => sign(private_key, &file, out),
        KeyCommand::Verify { did_key, sig, file } => verify(&did_key, &sig, &file, out),
    }
}

fn gen(curve: Curve, out: &Output) -> Result<(), Failure> {
    let keypair = Keypair::generate(curve).map_err(|e| Failure::Unreadable(e.to_string()))?;
    let did_key = keypair.did_key();
    let private_key = keypair.to_multibase();
    let json = serde_json::json!({
        "did_key": did_key,
        "private_key": private_key.as_str(),
        "curve": curve.name(),
    });
    out.emit(&json, || {
        format!(
            "curve        {curve} ({})\n\
             did:key      {did_key}\n\
             private key  {}\n\
             \n\
             Keep the private key secret: anyone who has it can sign as this key.\n\
             `key sign` also reads it from {PRIVATE_KEY_ENV}, which keeps it out of shell \
             history\n(e.g. `read -rs {PRIVATE_KEY_ENV} && export {PRIVATE_KEY_ENV}`).",
            curve.jwt_alg(),
            private_key.as_str()
        )
    })?;
    Ok(())
}

fn sign(private_key: Option<String>, file: &str, out: &Output) -> Result<(), Failure> {
    let (text, source) = match private_key {
        Some(text) => (zeroize_on_drop(text), "--private-key"),
        None => match std::env::var(PRIVATE_KEY_ENV) {
            Ok(text) => (zeroize_on_drop(text), PRIVATE_KEY_ENV),
            Err(_) => {
                return Err(Failure::Invalid(format!(
                    "no private key: pass --private-key or set {PRIVATE_KEY_ENV}"
                )))
            }
        },
    };
    // The error names where the key came from and why it failed, never the key itself.
    let keypair = Keypair::from_multibase(text.trim())
        .map_err(|e| Failure::Invalid(format!("invalid private key (from {source}): {e}")))?;
    drop(text);
    let message = read_input(file)?;
    let signature = keypair.sign(&message);
    out.line(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature))
}

fn zeroize_on_drop(text: String) -> atdata_crypto::Zeroizing<String> {
    atdata_crypto::Zeroizing::new(text)
}

/// Base64url (what `key sign` prints), padded or not; standard base64 as well.
fn decode_signature(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let text = text.trim().trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(text)
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .ok()
}

fn verify(did_key: &str, sig: &str, file: &str, out: &Output) -> Result<(), Failure> {
    let key = PublicKey::from_did_key(did_key)
        .map_err(|e| Failure::Invalid(format!("invalid did:key: {e}")))?;
    let signature = decode_signature(sig)
        .ok_or_else(|| Failure::Invalid("invalid signature: not base64url".into()))?;
    let message = read_input(file)?;
    key.verify(&message, &signature)
        .map_err(|e| Failure::Invalid(format!("invalid signature: {e}")))?;
    out.emit(&serde_json::json!({ "valid": true }), || {
        format!("valid: {} signature by {did_key}", key.jwt_alg())
    })?;
    Ok(())
}
