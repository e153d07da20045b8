use rfb_proto::{security::decode_vnc_auth_block, Progress, SecurityType};

use super::{SecurityContext, SecurityProvider, SecurityStep, ServerSecurity};
use crate::{Credentials, ServerError};

/// Security type VNC Authentication: a 16-byte random challenge, answered with DES.
///
/// The handler only collects the response; whether it matches a password is the
/// product's decision (see [`VncPassword`](crate::VncPassword)).
#[derive(Debug, Clone, Copy, Default)]
pub struct VncAuthSecurity;

impl SecurityProvider for VncAuthSecurity {
    fn security_type(&self) -> SecurityType {
        SecurityType::VNC_AUTH
    }

    fn new_handler(&self) -> Box<dyn ServerSecurity> {
        Box::new(VncAuthHandler { challenge: None })
    }
}

struct VncAuthHandler {
    challenge: Option<[u8; 16]>,
}

impl ServerSecurity for VncAuthHandler {
    fn start(&mut self, cx: &mut SecurityContext<'_>) -> Result<SecurityStep, ServerError> {
        let mut challenge = [0u8; 16];
        cx.fill_random(&mut challenge)?;
        cx.send(&challenge);
        self.challenge = Some(challenge);
        Ok(SecurityStep::NeedInput)
    }

    fn handle_input(
        &mut self,
        input: &[u8],
        _cx: &mut SecurityContext<'_>,
    ) -> Result<(usize, SecurityStep), ServerError> {
        let Some(challenge) = self.challenge else {
            return Err(ServerError::ApiMisuse("VNC auth input before start"));
        };
        match decode_vnc_auth_block(input)? {
            Progress::Done {
                item: response,
                consumed,
            } => Ok((
                consumed,
                SecurityStep::Done(Credentials::VncAuth {
                    challenge,
                    response,
                }),
            )),
            Progress::NeedMore { .. } => Ok((0, SecurityStep::NeedInput)),
        }
    }
}
