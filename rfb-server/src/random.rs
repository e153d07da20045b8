//! Injected randomness (VNC Authentication challenges, later RSA-AES keys).

/// A source of random bytes for a connection.
///
/// Injected so tests can be deterministic; [`OsRandom`] is the production choice.
pub trait RandomSource: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), std::io::Error>;
}

/// The operating system's cryptographically secure generator (`getrandom`).
///
/// ```
/// use rfb_server::{OsRandom, RandomSource};
/// let mut a = [0u8; 16];
/// OsRandom.fill(&mut a).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), std::io::Error> {
        getrandom::fill(buf).map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// A fixed byte pattern, repeated: for tests and fuzzing only. Never use it to serve
/// real clients — every challenge would be the same.
///
/// ```
/// use rfb_server::{FixedRandom, RandomSource};
/// let mut r = FixedRandom::new([1, 2]);
/// let mut b = [0u8; 3];
/// r.fill(&mut b).unwrap();
/// assert_eq!(b, [1, 2, 1]);
/// ```
#[derive(Debug, Clone)]
pub struct FixedRandom {
    pattern: Vec<u8>,
}

impl FixedRandom {
    /// Repeats `pattern` (an empty pattern gives zeros).
    pub fn new(pattern: impl Into<Vec<u8>>) -> FixedRandom {
        FixedRandom {
            pattern: pattern.into(),
        }
    }
}

impl RandomSource for FixedRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), std::io::Error> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = if self.pattern.is_empty() {
                0
            } else {
                self.pattern[i % self.pattern.len()]
            };
        }
        Ok(())
    }
}
