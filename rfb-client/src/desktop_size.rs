//! Remote resize: the outcome of a SetDesktopSize request.

/// The status code of an ExtendedDesktopSize rectangle sent in answer to this client's
/// SetDesktopSize (reason 1, "this client requested the change"), as the community RFB
/// specification defines it (ExtendedDesktopSize pseudo-encoding, *y-position*).
///
/// ```
/// use rfb_client::DesktopSizeStatus;
/// assert_eq!(DesktopSizeStatus::from_code(0), DesktopSizeStatus::Success);
/// assert_eq!(DesktopSizeStatus::from_code(3), DesktopSizeStatus::InvalidLayout);
/// assert_eq!(DesktopSizeStatus::from_code(9), DesktopSizeStatus::Unknown(9));
/// assert_eq!(DesktopSizeStatus::InvalidLayout.code(), 3);
/// assert!(!DesktopSizeStatus::OutOfResources.is_success());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DesktopSizeStatus {
    /// 0: no error; the new size and layout are in effect.
    Success,
    /// 1: resize is administratively prohibited.
    Prohibited,
    /// 2: out of resources.
    OutOfResources,
    /// 3: invalid screen layout.
    InvalidLayout,
    /// 4: request forwarded (might complete asynchronously; a later ExtendedDesktopSize
    /// with reason 0 or 2 reports the change if it happens).
    Forwarded,
    /// A code the specification does not define: an unknown failure.
    Unknown(u16),
}

impl DesktopSizeStatus {
    /// The status of a wire code.
    pub fn from_code(code: u16) -> DesktopSizeStatus {
        match code {
            0 => DesktopSizeStatus::Success,
            1 => DesktopSizeStatus::Prohibited,
            2 => DesktopSizeStatus::OutOfResources,
            3 => DesktopSizeStatus::InvalidLayout,
            4 => DesktopSizeStatus::Forwarded,
            other => DesktopSizeStatus::Unknown(other),
        }
    }

    /// The wire code.
    pub fn code(self) -> u16 {
        match self {
            DesktopSizeStatus::Success => 0,
            DesktopSizeStatus::Prohibited => 1,
            DesktopSizeStatus::OutOfResources => 2,
            DesktopSizeStatus::InvalidLayout => 3,
            DesktopSizeStatus::Forwarded => 4,
            DesktopSizeStatus::Unknown(c) => c,
        }
    }

    /// True for [`DesktopSizeStatus::Success`].
    pub fn is_success(self) -> bool {
        self == DesktopSizeStatus::Success
    }
}

impl std::fmt::Display for DesktopSizeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DesktopSizeStatus::Success => f.write_str("success"),
            DesktopSizeStatus::Prohibited => f.write_str("resize is administratively prohibited"),
            DesktopSizeStatus::OutOfResources => f.write_str("out of resources"),
            DesktopSizeStatus::InvalidLayout => f.write_str("invalid screen layout"),
            DesktopSizeStatus::Forwarded => f.write_str("request forwarded"),
            DesktopSizeStatus::Unknown(c) => write!(f, "unknown failure (status {c})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_spec_table() {
        // "Code / Description" table of the ExtendedDesktopSize pseudo-encoding.
        let table = [
            (0, DesktopSizeStatus::Success),
            (1, DesktopSizeStatus::Prohibited),
            (2, DesktopSizeStatus::OutOfResources),
            (3, DesktopSizeStatus::InvalidLayout),
            (4, DesktopSizeStatus::Forwarded),
        ];
        for (code, status) in table {
            assert_eq!(DesktopSizeStatus::from_code(code), status);
            assert_eq!(status.code(), code);
        }
        // "Other error codes ... clients must treat them as an unknown failure."
        for code in [5, 255, 65535] {
            let s = DesktopSizeStatus::from_code(code);
            assert_eq!(s, DesktopSizeStatus::Unknown(code));
            assert!(!s.is_success());
            assert_eq!(s.code(), code);
        }
    }
}
