//! What the commands that resolve identities share: the resolver options (`--plc`, `--dns`,
//! `--ca-file`, `--allow-private`), the resolver they build, and how its errors become exit
//! codes.
//!
//! The resolver is the blocking one from `atdata-identity`: it owns its runtime, so a command
//! that only resolves needs no runtime of its own.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use atdata_identity::blocking::Resolver;
use atdata_identity::{BuildError, Error, ResolverBuilder};
use clap::{ArgAction, Args};

use crate::Failure;

/// The resolver options, flattened into every command that resolves handles or DIDs.
#[derive(Args, Debug, Clone)]
pub struct ResolverArgs {
    /// The PLC directory that serves did:plc documents.
    #[arg(
        long = "plc",
        value_name = "URL",
        env = "ATDATA_PLC_URL",
        default_value = atdata_identity::DEFAULT_PLC_URL
    )]
    pub plc: String,

    /// The DNS server for handles (`_atproto` TXT records, and the hosts of their
    /// `/.well-known/atproto-did`) and did:web hosts: IP:PORT, HOST:PORT or an IP for port 53 (default:
    /// the system's, which also finds the PLC directory). Repeat it, or separate addresses
    /// with commas, for several.
    #[arg(
        long = "dns",
        value_name = "HOST:PORT",
        env = "ATDATA_DNS",
        value_delimiter = ',',
        value_parser = parse_nameserver
    )]
    pub dns: Vec<SocketAddr>,

    /// A PEM file of extra root certificates to trust (besides the built-in web roots) for
    /// HTTPS to handles' and did:web hosts and to the PLC directory.
    #[arg(long = "ca-file", value_name = "PEM", env = "ATDATA_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// For local development only: let handles and did:web hosts resolve to loopback and
    /// private addresses (switches the SSRF guard off), and resolve
    /// `did:web:localhost%3APORT` over plain http (development mode). The environment
    /// variable takes 1/true/yes (or 0/false/no).
    #[arg(
        long = "allow-private",
        env = "ATDATA_ALLOW_PRIVATE",
        action = ArgAction::SetTrue,
        value_parser = parse_truthy
    )]
    pub allow_private: bool,
}

impl ResolverArgs {
    /// Builds the (blocking) resolver these options describe.
    ///
    /// An unreadable `--ca-file` is exit 3 (with its path); a `--plc` URL that is not
    /// http(s) or a PEM file without certificates is a usage error (exit 2).
    pub fn build(&self) -> Result<Resolver, Failure> {
        self.builder()?
            .build_blocking()
            .map_err(|e| self.build_failure(e))
    }

    /// [`build`](Self::build), async: for a client driven by a runtime of the command's own.
    /// Must run inside that runtime (`Runtime::enter`): the DNS resolver binds its sockets
    /// there.
    pub fn build_async(&self) -> Result<atdata_identity::Resolver, Failure> {
        self.builder()?.build().map_err(|e| self.build_failure(e))
    }

    fn builder(&self) -> Result<ResolverBuilder, Failure> {
        let mut builder = Resolver::builder()
            .plc_url(self.plc.as_str())
            .ssrf_guard(!self.allow_private)
            .development(self.allow_private);
        for addr in &self.dns {
            builder = builder.nameserver(*addr);
        }
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                Failure::Unreadable(format!("reading --ca-file {}: {e}", path.display()))
            })?;
            builder = builder.root_certificates_pem(pem);
        }
        Ok(builder)
    }

    fn build_failure(&self, error: BuildError) -> Failure {
        match error {
            BuildError::PlcUrl(_) => Failure::Usage(format!("--plc: {error}")),
            BuildError::RootCertificates(_) => {
                let path = self
                    .ca_file
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                Failure::Usage(format!("--ca-file {path}: {error}"))
            }
            // The system's DNS configuration, the HTTP client, the runtime: nothing the command
            // line can fix.
            _ => Failure::Unreadable(format!("setting up the resolver: {error}")),
        }
    }
}

/// `--dns`: `IP:PORT` (`[v6]:PORT` for IPv6), a bare IP meaning port 53, or `HOST:PORT` with
/// a host name the system resolves (`localhost:5353`).
fn parse_nameserver(value: &str) -> Result<SocketAddr, String> {
    let value = value.trim();
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(value);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    // HOST:PORT: the nameserver's own name goes through the system resolver (the nameserver
    // is what resolves everything else).
    // A host that is only digits and dots is a mistyped address (`1.2.3`), not a name, even
    // though the C library would read it as one.
    let named = value.rsplit_once(':').filter(|(host, port)| {
        !host.is_empty()
            && !host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && port.parse::<u16>().is_ok()
    });
    if named.is_some() {
        use std::net::ToSocketAddrs as _;
        // IPv4 first: `localhost` may list ::1 before 127.0.0.1, and local test servers
        // usually listen on the latter.
        let mut addrs: Vec<SocketAddr> = value
            .to_socket_addrs()
            .map(Iterator::collect)
            .unwrap_or_default();
        addrs.sort_by_key(SocketAddr::is_ipv6);
        if let Some(addr) = addrs.first() {
            return Ok(*addr);
        }
    }
    Err(format!(
        "{value:?} is not a nameserver address: expected IP:PORT ([IPv6]:PORT), HOST:PORT \
         or an IP (port 53)"
    ))
}

/// `ATDATA_ALLOW_PRIVATE`: 1/true/yes/on are on; 0/false/no/off and an empty value are off;
/// anything else is a usage error rather than a guess.
fn parse_truthy(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "n" | "off" => Ok(false),
        _ => Err(format!(
            "{value:?}: expected 1, true or yes (or 0, false, no)"
        )),
    }
}

/// An identity error as a failure: no answer could be had (unreachable, timed out, refused by
/// the SSRF guard) is exit 3; "no", "not this one" or "not valid" is exit 1.
pub fn identity_failure(error: &Error) -> Failure {
    let message = describe(error);
    if error.is_unreachable() {
        Failure::Unreadable(message)
    } else {
        Failure::Invalid(message)
    }
}

/// The error's message, with a hint when `--allow-private` is what would change the answer
/// (the SSRF guard's refusal, `did:web:localhost`).
pub fn describe(error: &Error) -> String {
    let private = match error {
        Error::Blocked { .. } => true,
        Error::DidWebNotAllowed { reason, .. } => {
            *reason == atdata_identity::DidWebRefusal::Localhost
        }
        _ => false,
    };
    if private {
        format!("{error} (--allow-private allows it, for local development)")
    } else {
        error.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameservers_parse_with_and_without_a_port() {
        let parse = |s| parse_nameserver(s).ok();
        assert_eq!(parse("127.0.0.1:5353"), Some(([127, 0, 0, 1], 5353).into()));
        assert_eq!(parse("8.8.8.8"), Some(([8, 8, 8, 8], 53).into()));
        assert_eq!(parse("[::1]:5300"), "[::1]:5300".parse().ok());
        assert_eq!(parse("::1"), "[::1]:53".parse().ok());
        assert_eq!(parse("[::1]"), "[::1]:53".parse().ok());
        // A name goes through the system resolver, IPv4 first.
        assert_eq!(parse("localhost:5353"), Some(([127, 0, 0, 1], 5353).into()));
        for bad in [
            "nameserver.invalid:53",
            "localhost",
            "1.2.3.4:99999",
            "",
            "1.2.3:53",
        ] {
            assert!(parse_nameserver(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn allow_private_takes_the_usual_truthy_values() {
        for on in ["1", "true", "yes", "TRUE", "Yes", "on"] {
            assert_eq!(parse_truthy(on), Ok(true), "{on}");
        }
        for off in ["", "0", "false", "no", "off"] {
            assert_eq!(parse_truthy(off), Ok(false), "{off}");
        }
        assert!(parse_truthy("maybe").is_err());
    }
}
