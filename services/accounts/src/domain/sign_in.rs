//! Sign-in rules, for staff and for the access portal alike: what a sign-in request may
//! carry, who is asking from where, and how a streak of attempts slows down.
//!
//! Attempts are throttled before any password is hashed, per account and per address, and
//! counted atomically in the database (`store::throttle`), so parallel wrong passwords cannot
//! exceed the limit. A streak earns a growing delay, capped low for an account (anyone can
//! type anyone's login: a long lock would be a denial of service on the victim) and higher
//! for an address. An IPv6 client is one address per /64, which one household or one attacker
//! gets whole; behind configured trusted proxies the forwarded address counts.

use std::net::IpAddr;
use std::time::Duration;

use hmac::{KeyInit, Mac};

/// The longest login anyone has (`contracts::values::Login`).
pub const LOGIN_MAX: usize = 64;
/// argon2 reads the whole password: a longer one is refused before hashing.
pub const PASSWORD_MAX: usize = 256;
pub const TOTP_MAX: usize = 10;

/// A sign-in request's fields, each within its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTooLong {
    pub field: &'static str,
    pub message: String,
}

/// Checks the lengths of a sign-in's fields; the login is trimmed and lower-cased.
pub fn checked_login(
    login: &str,
    password: &str,
    totp: Option<&str>,
) -> Result<String, FieldTooLong> {
    let login = login.trim();
    if login.chars().count() > LOGIN_MAX {
        return Err(FieldTooLong {
            field: "login",
            message: format!("Login ma najwyżej {LOGIN_MAX} znaków."),
        });
    }
    if password.chars().count() > PASSWORD_MAX {
        return Err(FieldTooLong {
            field: "password",
            message: format!("Hasło ma najwyżej {PASSWORD_MAX} znaków."),
        });
    }
    if totp.is_some_and(|t| t.chars().count() > TOTP_MAX) {
        return Err(FieldTooLong {
            field: "totp",
            message: "Kod jednorazowy ma 6 cyfr.".to_owned(),
        });
    }
    Ok(login.to_ascii_lowercase())
}

/// A network whose hosts are trusted proxies, written `10.0.0.0/8` or as one address.
///
/// A network, not only an address: the console and an Ingress run as replicas with addresses
/// a cluster hands out from its pod network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct TrustedNetwork(ipnet::IpNet);

impl TryFrom<String> for TrustedNetwork {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let text = text.trim();
        if let Ok(network) = text.parse::<ipnet::IpNet>() {
            return Ok(Self(network.trunc()));
        }
        text.parse::<IpAddr>()
            .map(|ip| Self(ipnet::IpNet::from(ip)))
            .map_err(|_| format!("{text:?} is neither an address nor a network like 10.0.0.0/8"))
    }
}

impl TrustedNetwork {
    fn contains(&self, ip: &IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
            IpAddr::V4(_) => *ip,
        };
        self.0.contains(&ip)
    }
}

/// The trusted proxies' networks, from a list or from one comma-separated string (as an
/// environment variable gives them).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "ListOrText")]
pub struct TrustedProxies(pub Vec<TrustedNetwork>);

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum ListOrText {
    List(Vec<String>),
    Text(String),
}

impl TryFrom<ListOrText> for TrustedProxies {
    type Error = String;

    fn try_from(value: ListOrText) -> Result<Self, Self::Error> {
        let items = match value {
            ListOrText::List(items) => items,
            ListOrText::Text(text) => text
                .split(',')
                .filter(|item| !item.trim().is_empty())
                .map(str::to_owned)
                .collect(),
        };
        items
            .into_iter()
            .map(TrustedNetwork::try_from)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

fn is_trusted(trusted: &[TrustedNetwork], ip: &IpAddr) -> bool {
    trusted.iter().any(|network| network.contains(ip))
}

/// The address a client is counted under: the forwarded one when the peer is a trusted
/// proxy (the right-most address in `X-Forwarded-For` that is not itself trusted), and an
/// IPv6 address as its /64.
pub fn client_address(
    peer: IpAddr,
    forwarded_for: Option<&str>,
    trusted: &[TrustedNetwork],
) -> String {
    let mut client = peer;
    if is_trusted(trusted, &peer)
        && let Some(chain) = forwarded_for
    {
        for hop in chain.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if is_trusted(trusted, &ip) => continue,
                Ok(ip) => {
                    client = ip;
                    break;
                }
                Err(_) => break,
            }
        }
    }
    match client {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// How a streak of attempts under one key slows down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Attempts in a streak that need no wait.
    pub free: i32,
    /// The longest wait between attempts.
    pub cap: Duration,
    /// A streak ends after this long without an attempt.
    pub window: Duration,
}

/// Per account: five attempts at once, then a wait of 1, 2, 4, … seconds, never above 30.
pub const PER_ACCOUNT: Throttle = Throttle {
    free: 5,
    cap: Duration::from_secs(30),
    window: Duration::from_secs(15 * 60),
};

/// Per address: twenty attempts at once, then 1, 2, 4, … seconds, up to 15 minutes.
pub const PER_ADDRESS: Throttle = Throttle {
    free: 20,
    cap: Duration::from_secs(15 * 60),
    window: Duration::from_secs(15 * 60),
};

impl Throttle {
    /// The wait after the `streak`-th attempt: none before the `free`-th, then 1 s, doubling.
    /// (`store::throttle` computes the same in SQL.)
    pub fn delay_after(&self, streak: i32) -> Duration {
        let over = streak - self.free;
        if over < 0 {
            return Duration::ZERO;
        }
        let seconds = 1u64 << over.min(20);
        Duration::from_secs(seconds).min(self.cap)
    }
}

/// The throttle's key of an account: the login when it names an account, otherwise a keyed
/// hash of what was typed (a password pasted into the login field is then kept nowhere).
pub fn account_key(login: &str, known: bool, hash_key: &[u8; 32]) -> String {
    if known {
        format!("account:{login}")
    } else {
        format!("account:{}", unknown_login(login, hash_key))
    }
}

/// What is kept of a login that matches no account: `nieznany:` and 16 hex digits of its
/// HMAC-SHA-256, enough to count repeated attempts, useless to read what was typed.
pub fn unknown_login(login: &str, hash_key: &[u8; 32]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(hash_key).expect("any key length");
    mac.update(login.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("nieznany:{}", hex::encode(&digest[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlong_login_password_or_code_is_refused_by_its_field() {
        assert_eq!(
            checked_login("  LZak ", "x", Some("123456")).unwrap(),
            "lzak"
        );
        let long = "a".repeat(LOGIN_MAX + 1);
        assert_eq!(checked_login(&long, "x", None).unwrap_err().field, "login");
        let long = "a".repeat(PASSWORD_MAX + 1);
        assert_eq!(
            checked_login("lzak", &long, None).unwrap_err().field,
            "password"
        );
        assert_eq!(
            checked_login("lzak", "x", Some("1234567890123"))
                .unwrap_err()
                .field,
            "totp"
        );
    }

    #[test]
    fn an_ipv6_client_counts_as_its_slash_64_and_a_mapped_ipv4_as_itself() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_address(a, None, &[]), client_address(b, None, &[]));
        assert_eq!(client_address(a, None, &[]), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_address(mapped, None, &[]), "192.0.2.7");
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted = [TrustedNetwork::try_from("10.0.0.5".to_owned()).unwrap()];
        let forwarded = Some("203.0.113.9, 198.51.100.4, 10.0.0.5");
        assert_eq!(client_address(proxy, forwarded, &trusted), "198.51.100.4");
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client_address(stranger, forwarded, &trusted), "192.0.2.1");
        assert_eq!(client_address(proxy, Some("garbage"), &trusted), "10.0.0.5");
    }

    #[test]
    fn a_trusted_network_covers_its_hosts_and_a_mapped_address_but_nothing_outside() {
        let pods = [TrustedNetwork::try_from("10.244.0.0/16".to_owned()).unwrap()];
        let forwarded = Some("198.51.100.4");
        for peer in ["10.244.3.17", "::ffff:10.244.0.2"] {
            let peer: IpAddr = peer.parse().unwrap();
            assert_eq!(client_address(peer, forwarded, &pods), "198.51.100.4");
        }
        let outside: IpAddr = "10.245.0.1".parse().unwrap();
        assert_eq!(client_address(outside, forwarded, &pods), "10.245.0.1");
        let chain = Some("198.51.100.4, 10.244.9.9");
        let peer: IpAddr = "10.244.0.1".parse().unwrap();
        assert_eq!(client_address(peer, chain, &pods), "198.51.100.4");
        assert!(TrustedNetwork::try_from("10.0.0.0/33".to_owned()).is_err());
        assert!(TrustedNetwork::try_from("konsola".to_owned()).is_err());
    }

    #[test]
    fn trusted_proxies_come_as_a_list_or_as_one_comma_separated_text() {
        let from_text: TrustedProxies =
            serde_json::from_str(r#""127.0.0.1, 10.244.0.0/16""#).unwrap();
        let from_list: TrustedProxies =
            serde_json::from_str(r#"["127.0.0.1", "10.244.0.0/16"]"#).unwrap();
        assert_eq!(from_text, from_list);
        assert_eq!(from_text.0.len(), 2);
        assert!(serde_json::from_str::<TrustedProxies>(r#""127.0.0.1, nie""#).is_err());
        assert_eq!(
            serde_json::from_str::<TrustedProxies>(r#""""#)
                .unwrap()
                .0
                .len(),
            0
        );
    }

    #[test]
    fn a_streak_waits_longer_and_longer_but_an_account_never_more_than_half_a_minute() {
        assert_eq!(PER_ACCOUNT.delay_after(4), Duration::ZERO);
        assert_eq!(PER_ACCOUNT.delay_after(5), Duration::from_secs(1));
        assert_eq!(PER_ACCOUNT.delay_after(7), Duration::from_secs(4));
        assert_eq!(PER_ACCOUNT.delay_after(60), Duration::from_secs(30));
        assert_eq!(PER_ADDRESS.delay_after(60), Duration::from_secs(900));
    }

    #[test]
    fn an_unknown_login_is_kept_only_as_a_keyed_hash() {
        let key = [7u8; 32];
        let pasted = "MojeHaslo-2026!";
        let kept = unknown_login(pasted, &key);
        assert!(kept.starts_with("nieznany:") && !kept.contains(pasted));
        assert_eq!(kept, unknown_login(pasted, &key));
        assert_ne!(kept, unknown_login(pasted, &[8u8; 32]));
        assert_eq!(account_key("lzak", true, &key), "account:lzak");
    }
}
