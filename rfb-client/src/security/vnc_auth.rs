use rfb_proto::{security::decode_vnc_auth_block, vnc_auth_response, Progress, SecurityType};

use super::{ClientSecurity, ClientSecurityProvider, SecurityContext, SecurityStep};
use crate::ClientError;

/// Security type VNC Authentication: answers the server's 16-byte challenge with DES
/// keyed by the first 8 bytes of the password.
#[derive(Debug, Clone, Copy, Default)]
pub struct VncAuthSecurity;

impl ClientSecurityProvider for VncAuthSecurity {
    fn security_type(&self) -> SecurityType {
        SecurityType::VNC_AUTH
    }

    fn new_handler(&self) -> Box<dyn ClientSecurity> {
        Box::new(VncAuthSecurity)
    }
}

impl ClientSecurity for VncAuthSecurity {
    fn start(&mut self, _cx: &mut SecurityContext<'_>) -> Result<SecurityStep, ClientError> {
        Ok(SecurityStep::NeedInput)
    }

    fn handle_input(
        &mut self,
        input: &[u8],
        cx: &mut SecurityContext<'_>,
    ) -> Result<(usize, SecurityStep), ClientError> {
        let (challenge, n) = match decode_vnc_auth_block(input)? {
            Progress::Done { item, consumed } => (item, consumed),
            Progress::NeedMore { .. } => return Ok((0, SecurityStep::NeedInput)),
        };
        let Some(password) = cx.password() else {
            // Leave the challenge in the buffer until the product gives a password.
            return Ok((0, SecurityStep::NeedPassword));
        };
        let response = vnc_auth_response(password.as_bytes(), &challenge);
        cx.send(&response);
        Ok((n, SecurityStep::Done))
    }
}
