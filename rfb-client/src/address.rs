//! The address forms real VNC viewers accept.

use std::fmt;

/// The default VNC port (display 0).
pub const DEFAULT_PORT: u16 = 5900;

/// A server address as a viewer user types it.
///
/// | form | meaning |
/// |---|---|
/// | `host` | display 0, port 5900 |
/// | `host:N` | display N, port 5900 + N (N < 100 as TigerVNC does; larger N is a port) |
/// | `host::port` | the port itself |
/// | `[v6]`, `[v6]:N`, `[v6]::port` | IPv6 literals in brackets |
/// | `:N`, `::port` | on localhost |
///
/// ```
/// use rfb_client::VncAddress;
/// let a: VncAddress = "example.org:1".parse().unwrap();
/// assert_eq!((a.host.as_str(), a.port), ("example.org", 5901));
/// let a: VncAddress = "10.0.0.5::5999".parse().unwrap();
/// assert_eq!(a.port, 5999);
/// let a: VncAddress = "[::1]:2".parse().unwrap();
/// assert_eq!((a.host.as_str(), a.port), ("::1", 5902));
/// assert_eq!(a.to_string(), "[::1]:5902");
/// assert!("host:x".parse::<VncAddress>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VncAddress {
    /// Host name or IP literal (without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// Why an address string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid VNC address {input:?}: {why}")]
pub struct AddressError {
    input: String,
    why: &'static str,
}

impl std::str::FromStr for VncAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| AddressError {
            input: s.to_owned(),
            why,
        };
        let s = s.trim();
        let (host, rest) = if let Some(inner) = s.strip_prefix('[') {
            let end = inner.find(']').ok_or_else(|| err("unclosed '['"))?;
            (&inner[..end], &inner[end + 1..])
        } else if s.matches(':').count() > 2 && !s.contains("::") {
            // A bare IPv6 literal without port.
            (s, "")
        } else {
            match s.find(':') {
                Some(i) => (&s[..i], &s[i..]),
                None => (s, ""),
            }
        };
        let host = if host.is_empty() { "localhost" } else { host };
        let number = |t: &str| {
            t.parse::<u32>()
                .map_err(|_| err("port or display is not a number"))
        };
        let port = if rest.is_empty() {
            u32::from(DEFAULT_PORT)
        } else if let Some(p) = rest.strip_prefix("::") {
            number(p)?
        } else if let Some(d) = rest.strip_prefix(':') {
            let d = number(d)?;
            if d < 100 {
                u32::from(DEFAULT_PORT) + d
            } else {
                d
            }
        } else {
            return Err(err("unexpected text after the host"));
        };
        let port = u16::try_from(port).map_err(|_| err("port out of range"))?;
        Ok(VncAddress {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for VncAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (String, u16) {
        let a: VncAddress = s.parse().unwrap();
        (a.host, a.port)
    }

    #[test]
    fn forms() {
        assert_eq!(p("host"), ("host".into(), 5900));
        assert_eq!(p("host:0"), ("host".into(), 5900));
        assert_eq!(p("host:99"), ("host".into(), 5999));
        assert_eq!(p("host:5901"), ("host".into(), 5901));
        assert_eq!(p("host::22"), ("host".into(), 22));
        assert_eq!(p(":3"), ("localhost".into(), 5903));
        assert_eq!(p("::6000"), ("localhost".into(), 6000));
        assert_eq!(p("[fe80::1]"), ("fe80::1".into(), 5900));
        assert_eq!(p("[fe80::1]::443"), ("fe80::1".into(), 443));
        assert_eq!(p("fe80:0:0:0:0:0:0:1"), ("fe80:0:0:0:0:0:0:1".into(), 5900));
        assert!("host::70000".parse::<VncAddress>().is_err());
        assert!("[::1".parse::<VncAddress>().is_err());
        assert!("[::1]x".parse::<VncAddress>().is_err());
    }
}
