use rfb_proto::{ProtocolVersion, SecurityType};

use super::{ClientSecurity, ClientSecurityProvider, SecurityContext, SecurityStep};
use crate::ClientError;

/// Security type None.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoneSecurity;

impl ClientSecurityProvider for NoneSecurity {
    fn security_type(&self) -> SecurityType {
        SecurityType::NONE
    }

    fn new_handler(&self) -> Box<dyn ClientSecurity> {
        Box::new(NoneSecurity)
    }
}

impl ClientSecurity for NoneSecurity {
    fn start(&mut self, _cx: &mut SecurityContext<'_>) -> Result<SecurityStep, ClientError> {
        Ok(SecurityStep::Done)
    }

    fn handle_input(
        &mut self,
        _input: &[u8],
        _cx: &mut SecurityContext<'_>,
    ) -> Result<(usize, SecurityStep), ClientError> {
        Ok((0, SecurityStep::Done))
    }

    fn expects_security_result(&self, version: ProtocolVersion) -> bool {
        version >= ProtocolVersion::V3_8
    }
}
