use rfb_proto::SecurityType;

use super::{SecurityContext, SecurityProvider, SecurityStep, ServerSecurity};
use crate::{Credentials, ServerError};

/// Security type None: no authentication, no encryption.
///
/// The product still sees an [`AuthRequested`](crate::ServerEvent::AuthRequested) with
/// [`Credentials::None`], so it can ask the user for consent or refuse.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoneSecurity;

impl SecurityProvider for NoneSecurity {
    fn security_type(&self) -> SecurityType {
        SecurityType::NONE
    }

    fn new_handler(&self) -> Box<dyn ServerSecurity> {
        Box::new(NoneSecurity)
    }
}

impl ServerSecurity for NoneSecurity {
    fn start(&mut self, _cx: &mut SecurityContext<'_>) -> Result<SecurityStep, ServerError> {
        Ok(SecurityStep::Done(Credentials::None))
    }

    fn handle_input(
        &mut self,
        _input: &[u8],
        _cx: &mut SecurityContext<'_>,
    ) -> Result<(usize, SecurityStep), ServerError> {
        Ok((0, SecurityStep::Done(Credentials::None)))
    }
}
