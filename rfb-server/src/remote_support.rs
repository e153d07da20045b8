//! Ready-made hooks for remote-support products: one-time passwords and throttling of
//! failed authentications per source address. Both take time as an argument where they
//! can (the [`Authenticator`] impl of [`OneTimePassword`] reads the clock, since the
//! trait has no time parameter).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rfb_proto::{vnc_auth_verify, SecurityType};

use crate::{AuthDecision, Authenticator, Credentials, RandomSource};

/// A random password that works once and expires: the remote-support pattern of "read
/// this code to the technician". VNC Authentication uses at most 8 characters.
///
/// ```
/// use std::time::{Duration, Instant};
/// use rfb_proto::{vnc_auth_response, SecurityType};
/// use rfb_server::{AuthDecision, Credentials, FixedRandom, OneTimePassword};
///
/// let now = Instant::now();
/// let otp = OneTimePassword::generate(&mut FixedRandom::new([7, 99]), Duration::from_secs(600), now).unwrap();
/// assert_eq!(otp.password().len(), 8);
/// let challenge = [3u8; 16];
/// let creds = Credentials::VncAuth { challenge, response: vnc_auth_response(otp.password().as_bytes(), &challenge) };
/// assert_eq!(otp.decide_at(SecurityType::VNC_AUTH, &creds, now), AuthDecision::Accept);
/// // Used once: never again.
/// assert!(matches!(otp.decide_at(SecurityType::VNC_AUTH, &creds, now), AuthDecision::Reject { .. }));
/// ```
#[derive(Debug)]
pub struct OneTimePassword {
    password: String,
    expires: Instant,
    used: AtomicBool,
}

/// Characters of generated passwords: no look-alikes (0/O, 1/l/I).
const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

impl OneTimePassword {
    /// An 8-character random password valid for `valid_for` from `now`.
    pub fn generate(
        random: &mut dyn RandomSource,
        valid_for: Duration,
        now: Instant,
    ) -> Result<OneTimePassword, std::io::Error> {
        let mut raw = [0u8; 8];
        random.fill(&mut raw)?;
        // 256 % 56 != 0 gives a slight bias; irrelevant next to an 8-try lockout.
        let password = raw
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
            .collect();
        Ok(OneTimePassword {
            password,
            expires: now.checked_add(valid_for).unwrap_or(now),
            used: AtomicBool::new(false),
        })
    }

    /// The password to show the user.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// When it stops working.
    pub fn expires(&self) -> Instant {
        self.expires
    }

    /// Decides at time `now`.
    pub fn decide_at(
        &self,
        _security_type: SecurityType,
        credentials: &Credentials,
        now: Instant,
    ) -> AuthDecision {
        if now >= self.expires {
            return AuthDecision::reject("the one-time password has expired");
        }
        match credentials {
            Credentials::VncAuth {
                challenge,
                response,
            } if vnc_auth_verify(self.password.as_bytes(), challenge, response) => {
                if self.used.swap(true, Ordering::SeqCst) {
                    AuthDecision::reject("the one-time password was already used")
                } else {
                    AuthDecision::Accept
                }
            }
            Credentials::VncAuth { .. } => AuthDecision::reject("Authentication failed"),
            _ => AuthDecision::reject("Authentication required"),
        }
    }
}

impl Authenticator for OneTimePassword {
    fn decide(&self, security_type: SecurityType, credentials: &Credentials) -> AuthDecision {
        self.decide_at(security_type, credentials, Instant::now())
    }
}

/// Counts failed authentications per source address and locks an address out for a
/// while after too many (sans-IO: time is an argument). Memory is bounded by
/// `max_addresses`; when full, the stalest entry is forgotten.
///
/// ```
/// use std::net::IpAddr;
/// use std::time::{Duration, Instant};
/// use rfb_server::AuthThrottle;
///
/// let mut t = AuthThrottle::new(3, Duration::from_secs(60), Duration::from_secs(300));
/// let ip: IpAddr = "192.0.2.1".parse().unwrap();
/// let now = Instant::now();
/// for _ in 0..3 { assert!(t.allowed(ip, now)); t.failure(ip, now); }
/// assert!(!t.allowed(ip, now));
/// assert!(t.allowed(ip, now + Duration::from_secs(301)));
/// ```
#[derive(Debug, Clone)]
pub struct AuthThrottle {
    max_failures: u32,
    window: Duration,
    lockout: Duration,
    /// Most addresses remembered. Default 4096.
    pub max_addresses: usize,
    entries: HashMap<IpAddr, Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first: Instant,
    locked_until: Option<Instant>,
}

impl AuthThrottle {
    /// Locks an address out for `lockout` after `max_failures` failures within `window`.
    pub fn new(max_failures: u32, window: Duration, lockout: Duration) -> AuthThrottle {
        AuthThrottle {
            max_failures: max_failures.max(1),
            window,
            lockout,
            max_addresses: 4096,
            entries: HashMap::new(),
        }
    }

    /// May `ip` try to authenticate at `now`?
    pub fn allowed(&mut self, ip: IpAddr, now: Instant) -> bool {
        match self.entries.get(&ip) {
            Some(Entry {
                locked_until: Some(t),
                ..
            }) if now < *t => false,
            Some(Entry {
                locked_until: Some(_),
                ..
            }) => {
                self.entries.remove(&ip);
                true
            }
            _ => true,
        }
    }

    /// Records a failed authentication from `ip` at `now`.
    pub fn failure(&mut self, ip: IpAddr, now: Instant) {
        if !self.entries.contains_key(&ip) && self.entries.len() >= self.max_addresses {
            let stalest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.first)
                .map(|(k, _)| *k);
            if let Some(k) = stalest {
                self.entries.remove(&k);
            }
        }
        let e = self.entries.entry(ip).or_insert(Entry {
            failures: 0,
            first: now,
            locked_until: None,
        });
        if now.saturating_duration_since(e.first) > self.window {
            *e = Entry {
                failures: 0,
                first: now,
                locked_until: None,
            };
        }
        e.failures += 1;
        if e.failures >= self.max_failures {
            e.locked_until = now.checked_add(self.lockout);
        }
    }

    /// Records a successful authentication: the address starts afresh.
    pub fn success(&mut self, ip: IpAddr) {
        self.entries.remove(&ip);
    }
}

impl Default for AuthThrottle {
    /// 5 failures within a minute lock the address out for 5 minutes.
    fn default() -> Self {
        AuthThrottle::new(5, Duration::from_secs(60), Duration::from_secs(300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FixedRandom;

    #[test]
    fn otp_expires() {
        let now = Instant::now();
        let otp =
            OneTimePassword::generate(&mut FixedRandom::new([1]), Duration::from_secs(1), now)
                .unwrap();
        let challenge = [0u8; 16];
        let c = Credentials::VncAuth {
            challenge,
            response: rfb_proto::vnc_auth_response(otp.password().as_bytes(), &challenge),
        };
        assert!(matches!(
            otp.decide_at(SecurityType::VNC_AUTH, &c, now + Duration::from_secs(2)),
            AuthDecision::Reject { .. }
        ));
    }

    #[test]
    fn failures_outside_window_do_not_add_up() {
        let mut t = AuthThrottle::new(2, Duration::from_secs(10), Duration::from_secs(100));
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let now = Instant::now();
        t.failure(ip, now);
        t.failure(ip, now + Duration::from_secs(20));
        assert!(t.allowed(ip, now + Duration::from_secs(21)));
    }

    #[test]
    fn memory_is_bounded() {
        let mut t = AuthThrottle {
            max_addresses: 10,
            ..AuthThrottle::default()
        };
        let now = Instant::now();
        for i in 0..100u8 {
            t.failure(IpAddr::from([10, 0, 0, i]), now);
        }
        assert!(t.entries.len() <= 10);
    }
}
