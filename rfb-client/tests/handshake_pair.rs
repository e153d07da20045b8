//! A real server connection and a real client connection driven against each other in
//! memory, with a virtual clock and bytes that can be tampered with in flight.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rfb_client::security::{
    ClientSecurityProvider, NoneSecurity as ClientNone, VncAuthSecurity as ClientVnc,
};
use rfb_client::{ClientConfig, ClientConnection, ClientError, ClientEvent};
use rfb_proto::{
    Error as ProtoError, PeerMisbehaved, PixelFormat, ProtocolVersion, SecurityType, ServerInit,
};
use rfb_server::security::{NoneSecurity, SecurityProvider, VncAuthSecurity};
use rfb_server::{
    AuthDecision, Authenticator, FixedRandom, ServerConfig, ServerConnection, ServerError,
    ServerEvent, VncPassword,
};

fn desktop() -> ServerInit {
    ServerInit {
        width: 320,
        height: 200,
        pixel_format: PixelFormat::RGB888,
        name: "pair".into(),
    }
}

/// Alters client-to-server bytes in flight.
type Tamper = Box<dyn FnMut(&mut Vec<u8>)>;

struct Pair {
    server: ServerConnection,
    client: ClientConnection,
    password: VncPassword,
    /// Maximum bytes delivered per handle_input call (1 = byte at a time).
    chunk: usize,
    /// Applied to every client-to-server chunk.
    tamper_c2s: Option<Tamper>,
    server_result: Result<(), ServerError>,
    client_result: Result<(), ClientError>,
    connected: Option<(ProtocolVersion, SecurityType, ServerInit)>,
    initialised: Option<(ProtocolVersion, SecurityType, bool)>,
}

impl Pair {
    fn new(server: ServerConfig, client: ClientConfig, password: &str) -> Pair {
        let now = Instant::now();
        Pair {
            server: ServerConnection::with_random(
                Arc::new(server),
                desktop(),
                now,
                Box::new(FixedRandom::new([0x5a, 0x17, 0x99])),
            ),
            client: ClientConnection::new(client, now),
            password: VncPassword::new(password),
            chunk: usize::MAX,
            tamper_c2s: None,
            server_result: Ok(()),
            client_result: Ok(()),
            connected: None,
            initialised: None,
        }
    }

    fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(bytes) = self.server.poll_transmit() {
                moved = true;
                for c in bytes.chunks(self.chunk) {
                    if self.client_result.is_ok() {
                        self.client_result = self.client.handle_input(c);
                    }
                }
            }
            while let Some(bytes) = self.client.poll_transmit() {
                moved = true;
                let mut bytes = bytes.to_vec();
                if let Some(t) = &mut self.tamper_c2s {
                    t(&mut bytes);
                }
                for c in bytes.chunks(self.chunk) {
                    if self.server_result.is_ok() {
                        self.server_result = self.server.handle_input(c);
                    }
                }
            }
            while let Some(ev) = self.server.poll_event() {
                moved = true;
                match ev {
                    ServerEvent::AuthRequested {
                        security_type,
                        credentials,
                    } => {
                        let d = if security_type == SecurityType::NONE {
                            AuthDecision::Accept
                        } else {
                            self.password.decide(security_type, &credentials)
                        };
                        self.server_result = self.server.decide_auth(d);
                    }
                    ServerEvent::Initialised {
                        version,
                        security_type,
                        shared,
                    } => self.initialised = Some((version, security_type, shared)),
                    _ => {}
                }
            }
            while let Some(ev) = self.client.poll_event() {
                moved = true;
                if let ClientEvent::Connected {
                    version,
                    security_type,
                    server_init,
                } = ev
                {
                    self.connected = Some((version, security_type, server_init));
                }
            }
            if !moved {
                return;
            }
        }
        panic!("pair did not settle");
    }
}

fn server_config(version: ProtocolVersion, types: Vec<Arc<dyn SecurityProvider>>) -> ServerConfig {
    let mut c = ServerConfig::new(types);
    c.version = version;
    c
}

fn client_config(version: ProtocolVersion, password: Option<&str>) -> ClientConfig {
    ClientConfig {
        max_version: version,
        password: password.map(str::to_owned),
        ..ClientConfig::default()
    }
}

const VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V3_3,
    ProtocolVersion::V3_7,
    ProtocolVersion::V3_8,
];

#[test]
fn every_version_pair_and_security_type_connects() {
    for sv in VERSIONS {
        for cv in VERSIONS {
            for vnc in [false, true] {
                for chunk in [usize::MAX, 1, 3] {
                    let types: Vec<Arc<dyn SecurityProvider>> = if vnc {
                        vec![Arc::new(VncAuthSecurity)]
                    } else {
                        vec![Arc::new(NoneSecurity)]
                    };
                    let mut p = Pair::new(
                        server_config(sv, types),
                        client_config(cv, Some("pw")),
                        "pw",
                    );
                    p.chunk = chunk;
                    p.drive();
                    let want_type = if vnc {
                        SecurityType::VNC_AUTH
                    } else {
                        SecurityType::NONE
                    };
                    let want_version = sv.min(cv);
                    let (v, t, init) = p.connected.clone().unwrap_or_else(|| {
                        panic!(
                            "{sv} {cv} vnc={vnc} chunk={chunk}: {:?} {:?}",
                            p.client_result, p.server_result
                        )
                    });
                    assert_eq!((v, t), (want_version, want_type));
                    assert_eq!(init, desktop());
                    assert_eq!(p.initialised, Some((want_version, want_type, true)));
                    assert!(!p.client.is_handshaking() && !p.server.is_handshaking());
                }
            }
        }
    }
}

#[test]
fn wrong_password_is_refused_with_reason_on_3_8_only() {
    for v in VERSIONS {
        let mut p = Pair::new(
            server_config(v, vec![Arc::new(VncAuthSecurity)]),
            client_config(v, Some("guess")),
            "right",
        );
        p.drive();
        assert!(p.connected.is_none());
        let Err(ClientError::AuthFailed {
            security_type,
            reason,
            too_many_attempts,
        }) = &p.client_result
        else {
            panic!("{v}: {:?}", p.client_result)
        };
        assert_eq!(*security_type, SecurityType::VNC_AUTH);
        assert!(!too_many_attempts);
        if v == ProtocolVersion::V3_8 {
            assert_eq!(reason, "Authentication failed");
        } else {
            assert_eq!(reason, "");
        }
        assert!(matches!(
            p.server_result,
            Err(ServerError::AuthRefused { .. })
        ));
        // Sticky on both sides.
        assert_eq!(
            p.client.handle_input(b"more").unwrap_err(),
            p.client_result.clone().unwrap_err()
        );
        assert!(matches!(
            p.server.handle_input(b"more"),
            Err(ServerError::AuthRefused { .. })
        ));
    }
}

#[test]
fn password_only_eight_bytes_matter() {
    let mut p = Pair::new(
        server_config(ProtocolVersion::V3_8, vec![Arc::new(VncAuthSecurity)]),
        client_config(ProtocolVersion::V3_8, Some("12345678-client-extra")),
        "12345678-server",
    );
    p.drive();
    assert!(p.connected.is_some(), "{:?}", p.client_result);
}

#[test]
fn tampered_response_fails_authentication() {
    let mut p = Pair::new(
        server_config(ProtocolVersion::V3_8, vec![Arc::new(VncAuthSecurity)]),
        client_config(ProtocolVersion::V3_8, Some("pw")),
        "pw",
    );
    p.tamper_c2s = Some(Box::new(|b: &mut Vec<u8>| {
        if b.len() == 16 {
            b[5] ^= 0x01;
        }
    }));
    p.drive();
    assert!(matches!(
        p.client_result,
        Err(ClientError::AuthFailed { .. })
    ));
}

#[test]
fn server_refuses_a_client_choosing_an_unoffered_type() {
    // Only VNC Authentication is offered; a client answers "None" anyway.
    let mut server = ServerConnection::new(
        Arc::new(ServerConfig::vnc_auth()),
        desktop(),
        Instant::now(),
    );
    server.poll_transmit();
    server.handle_input(b"RFB 003.008\n").unwrap();
    assert_eq!(&server.poll_transmit().unwrap()[..], [1, 2]);
    let err = server.handle_input(&[1]).unwrap_err();
    assert_eq!(
        err,
        ServerError::Protocol(ProtoError::PeerMisbehaved(
            PeerMisbehaved::SecurityTypeNotOffered(1)
        ))
    );
    // The 3.8 client is told why before the connection closes.
    let out = server.poll_transmit().unwrap();
    assert_eq!(&out[..4], [0, 0, 0, 1]);
    assert!(String::from_utf8_lossy(&out[8..]).contains("not offered"));
    assert!(
        server.poll_event().is_none(),
        "no AuthRequested for an unoffered type"
    );
    assert_eq!(server.handle_input(&[0]).unwrap_err(), err);
}

#[test]
fn server_answers_3_5_and_3_889_clients() {
    let mut server = ServerConnection::new(
        Arc::new(ServerConfig::vnc_auth()),
        desktop(),
        Instant::now(),
    );
    server.poll_transmit();
    server.handle_input(b"RFB 003.005\n").unwrap();
    // 3.3 flow: the server picks the type as a U32, then sends the challenge.
    let out = server.poll_transmit().unwrap();
    assert_eq!(&out[..4], [0, 0, 0, 2]);
    assert_eq!(out.len(), 4 + 16);
    assert_eq!(server.version(), Some(ProtocolVersion::V3_3));

    let mut server = ServerConnection::new(
        Arc::new(ServerConfig::vnc_auth()),
        desktop(),
        Instant::now(),
    );
    server.poll_transmit();
    server.handle_input(b"RFB 003.889\n").unwrap();
    assert_eq!(server.version(), Some(ProtocolVersion::V3_8));
}

#[test]
fn server_without_3_3_capable_type_fails_a_3_3_client_with_reason() {
    struct Other;
    impl SecurityProvider for Other {
        fn security_type(&self) -> SecurityType {
            SecurityType::VENCRYPT
        }
        fn new_handler(&self) -> Box<dyn rfb_server::security::ServerSecurity> {
            unreachable!("never chosen in this test")
        }
    }
    let mut server = ServerConnection::new(
        Arc::new(ServerConfig::new(vec![Arc::new(Other)])),
        desktop(),
        Instant::now(),
    );
    server.poll_transmit();
    assert!(matches!(
        server.handle_input(b"RFB 003.003\n"),
        Err(ServerError::NoSecurityType(_))
    ));
    let out = server.poll_transmit().unwrap();
    assert_eq!(&out[..4], [0, 0, 0, 0]);
}

fn client_only(types: Vec<Arc<dyn ClientSecurityProvider>>) -> ClientConnection {
    ClientConnection::new(
        ClientConfig {
            security: types,
            password: Some("pw".into()),
            ..ClientConfig::default()
        },
        Instant::now(),
    )
}

#[test]
fn client_refuses_types_it_did_not_allow() {
    let mut c = client_only(vec![Arc::new(ClientVnc)]);
    c.handle_input(b"RFB 003.008\n").unwrap();
    let err = c.handle_input(&[2, 1, 30]).unwrap_err();
    assert_eq!(
        err,
        ClientError::Protocol(ProtoError::PeerMisbehaved(
            PeerMisbehaved::NoAcceptableSecurityType(vec![1, 30])
        ))
    );
    // A 3.3 server may not impose None on a client that only allows VNC Authentication.
    let mut c = client_only(vec![Arc::new(ClientVnc)]);
    c.handle_input(b"RFB 003.003\n").unwrap();
    assert_eq!(
        c.handle_input(&[0, 0, 0, 1]).unwrap_err(),
        ClientError::Protocol(ProtoError::PeerMisbehaved(
            PeerMisbehaved::SecurityTypeNotAllowed(1)
        ))
    );
}

#[test]
fn client_follows_the_server_preference_among_allowed_types() {
    let mut c = client_only(vec![Arc::new(ClientNone), Arc::new(ClientVnc)]);
    c.handle_input(b"RFB 003.008\n").unwrap();
    c.poll_transmit();
    c.handle_input(&[3, 30, 2, 1]).unwrap();
    assert_eq!(&c.poll_transmit().unwrap()[..], [2]);
    assert_eq!(c.security_type(), Some(SecurityType::VNC_AUTH));
}

#[test]
fn client_rejects_ok_before_authentication() {
    // VNC Authentication: the challenge and an "OK" arrive together, before the client
    // could have answered.
    let mut c = client_only(vec![Arc::new(ClientVnc)]);
    c.handle_input(b"RFB 003.008\n").unwrap();
    c.handle_input(&[1, 2]).unwrap();
    let mut early = vec![7u8; 16];
    early.extend_from_slice(&[0, 0, 0, 0]);
    assert!(matches!(
        c.handle_input(&early),
        Err(ClientError::Protocol(ProtoError::PeerMisbehaved(
            PeerMisbehaved::UnexpectedData(_)
        )))
    ));
    assert!(c.poll_event().is_none());

    // None on 3.8: an OK glued to the offer arrives before the client's choice.
    let mut c = client_only(vec![Arc::new(ClientNone)]);
    c.handle_input(b"RFB 003.008\n").unwrap();
    assert!(matches!(
        c.handle_input(&[1, 1, 0, 0, 0, 0]),
        Err(ClientError::Protocol(ProtoError::PeerMisbehaved(
            PeerMisbehaved::UnexpectedData(_)
        )))
    ));

    // ServerInit glued to the OK: sent before our ClientInit.
    let mut c = client_only(vec![Arc::new(ClientNone)]);
    c.handle_input(b"RFB 003.008\n").unwrap();
    c.handle_input(&[1, 1]).unwrap();
    assert!(c.handle_input(&[0, 0, 0, 0, 0, 4]).is_err());
}

#[test]
fn client_maps_private_server_versions() {
    for (sent, reply) in [
        (&b"RFB 003.889\n"[..], &b"RFB 003.008\n"[..]),
        (b"RFB 004.001\n", b"RFB 003.008\n"),
        (b"RFB 005.000\n", b"RFB 003.008\n"),
        (b"RFB 003.005\n", b"RFB 003.003\n"),
        (b"RFB 003.006\n", b"RFB 003.003\n"),
        (b"RFB 003.007\n", b"RFB 003.007\n"),
    ] {
        let mut c = ClientConnection::new(ClientConfig::default(), Instant::now());
        c.handle_input(sent).unwrap();
        assert_eq!(&c.poll_transmit().unwrap()[..], reply);
    }
    let mut c = ClientConnection::new(ClientConfig::default(), Instant::now());
    assert!(c.handle_input(b"RFB 002.000\n").is_err());
}

#[test]
fn password_requested_then_provided_or_declined() {
    for give in [true, false] {
        let mut p = Pair::new(
            server_config(ProtocolVersion::V3_8, vec![Arc::new(VncAuthSecurity)]),
            client_config(ProtocolVersion::V3_8, None),
            "pw",
        );
        // Drive until the client asks.
        let mut asked = false;
        for _ in 0..20 {
            while let Some(b) = p.server.poll_transmit() {
                p.client.handle_input(&b).unwrap();
            }
            while let Some(b) = p.client.poll_transmit() {
                p.server.handle_input(&b).unwrap();
            }
            while let Some(ev) = p.client.poll_event() {
                if let ClientEvent::PasswordRequested { security_type } = ev {
                    assert_eq!(security_type, SecurityType::VNC_AUTH);
                    asked = true;
                }
            }
            if asked {
                break;
            }
        }
        assert!(asked);
        if give {
            p.client.provide_password(Some("pw".into())).unwrap();
            p.drive();
            assert!(p.connected.is_some());
        } else {
            assert_eq!(
                p.client.provide_password(None),
                Err(ClientError::NoPassword)
            );
        }
    }
}

#[test]
fn handshake_deadlines() {
    let start = Instant::now();
    let mut server = ServerConnection::new(Arc::new(ServerConfig::no_auth()), desktop(), start);
    let mut client = ClientConnection::new(ClientConfig::default(), start);
    let sd = server.poll_timeout().unwrap();
    assert_eq!(sd, start + Duration::from_secs(30));
    assert!(server
        .handle_timeout(start + Duration::from_secs(29))
        .is_ok());
    assert_eq!(
        server.handle_timeout(sd),
        Err(ServerError::HandshakeTimeout)
    );
    assert_eq!(server.poll_timeout(), None);
    assert_eq!(
        client.handle_timeout(client.poll_timeout().unwrap()),
        Err(ClientError::HandshakeTimeout)
    );

    // A connected pair has no handshake deadline any more.
    let mut p = Pair::new(ServerConfig::no_auth(), ClientConfig::default(), "");
    p.drive();
    assert_eq!(p.server.poll_timeout(), None);
    assert_eq!(p.client.poll_timeout(), None);
    assert!(p
        .server
        .handle_timeout(start + Duration::from_secs(3600))
        .is_ok());
}

#[test]
fn server_bounds_input_while_the_product_decides() {
    let mut server =
        ServerConnection::new(Arc::new(ServerConfig::no_auth()), desktop(), Instant::now());
    server.handle_input(b"RFB 003.008\n").unwrap();
    server.handle_input(&[1]).unwrap();
    assert!(matches!(
        server.poll_event(),
        Some(ServerEvent::AuthRequested { .. })
    ));
    // A little pipelining is fine...
    server.handle_input(&[1]).unwrap();
    // ...a flood is not.
    assert!(server.handle_input(&vec![0u8; 4096]).is_err());
}

#[test]
fn decide_auth_at_the_wrong_time_is_api_misuse_and_not_fatal() {
    let mut server =
        ServerConnection::new(Arc::new(ServerConfig::no_auth()), desktop(), Instant::now());
    assert!(matches!(
        server.decide_auth(AuthDecision::Accept),
        Err(ServerError::ApiMisuse(_))
    ));
    server.handle_input(b"RFB 003.008\n").unwrap();
    assert!(server.error().is_none());
}

#[test]
fn eof_during_handshake_is_an_error_and_after_is_clean() {
    let mut server =
        ServerConnection::new(Arc::new(ServerConfig::no_auth()), desktop(), Instant::now());
    assert!(matches!(
        server.handle_eof(),
        Err(ServerError::ClosedByPeer(_))
    ));
    let mut p = Pair::new(ServerConfig::no_auth(), ClientConfig::default(), "");
    p.drive();
    assert_eq!(p.server.handle_eof(), Ok(()));
    assert!(matches!(
        p.client.handle_eof(),
        Err(ClientError::ClosedByPeer(_))
    ));
}
