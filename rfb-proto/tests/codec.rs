//! The tokio-util codecs (feature `tokio-codec`).
#![cfg(feature = "tokio-codec")]

use bytes::{Bytes, BytesMut};
use rfb_proto::client::{KeyEvent, PointerEvent};
use rfb_proto::codec::{ClientSideCodec, CodecError, ServerSideCodec};
use rfb_proto::stream::OwnedServerItem;
use rfb_proto::{
    ClientMessage, ClientParseState, Encoding, Error, Incompatible, Limits, PixelFormat, Rect,
    RectHeader, ServerMessage,
};
use tokio_util::codec::{Decoder, Encoder};

#[test]
fn server_side_decodes_client_messages_and_reserves() {
    let mut codec = ServerSideCodec::new(Limits::default());
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0x10, 0]); // cut text of 4096 bytes
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(buf.capacity() >= 8 + 4096, "reserved for the whole message");
    buf.extend_from_slice(&[b'x'; 4096]);
    buf.extend_from_slice(&[4, 1, 0, 0, 0, 0, 0, 0x61]);
    assert!(matches!(
        codec.decode(&mut buf).unwrap(),
        Some(ClientMessage::ClientCutText(_))
    ));
    assert_eq!(
        codec.decode(&mut buf).unwrap(),
        Some(ClientMessage::KeyEvent(KeyEvent {
            down: true,
            keysym: 0x61
        }))
    );
    assert!(buf.is_empty());
    assert!(codec.decode(&mut buf).unwrap().is_none());
}

#[test]
fn server_side_parse_state_changes_pointer_parsing() {
    let mut codec = ServerSideCodec::new(Limits::default());
    codec.set_parse_state(ClientParseState {
        extended_mouse_buttons: true,
    });
    let mut buf = BytesMut::from(&[5, 0x80, 0, 1, 0, 1][..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    buf.extend_from_slice(&[0b10]);
    assert_eq!(
        codec.decode(&mut buf).unwrap(),
        Some(ClientMessage::PointerEvent(PointerEvent {
            buttons: PointerEvent::FORWARD,
            x: 1,
            y: 1
        }))
    );
}

#[test]
fn server_side_errors_and_encodes() {
    let mut codec = ServerSideCodec::default();
    let mut buf = BytesMut::from(&[77u8][..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(CodecError::Protocol(Error::Malformed(_)))
    ));
    let mut out = BytesMut::new();
    codec.encode(ServerMessage::Bell, &mut out).unwrap();
    codec
        .encode(&ServerMessage::EndOfContinuousUpdates, &mut out)
        .unwrap();
    codec
        .encode(OwnedServerItem::UpdateStart { rects: 1 }, &mut out)
        .unwrap();
    codec
        .encode(
            OwnedServerItem::Rect {
                header: RectHeader {
                    rect: Rect::new(0, 0, 1, 1),
                    encoding: Encoding::RAW,
                },
                payload: Bytes::from_static(&[1, 2, 3, 4]),
            },
            &mut out,
        )
        .unwrap();
    assert_eq!(
        &out[..],
        [2, 150, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]
    );
}

#[test]
fn client_side_round_trip_through_server_side() {
    let mut server = ServerSideCodec::default();
    let mut client = ClientSideCodec::new(PixelFormat::RGB888, Limits::default());
    // Server -> client: an update with a Raw 1x1 and a Bell.
    let mut wire = BytesMut::new();
    server
        .encode(OwnedServerItem::UpdateStart { rects: 1 }, &mut wire)
        .unwrap();
    let rect = OwnedServerItem::Rect {
        header: RectHeader {
            rect: Rect::new(5, 6, 1, 1),
            encoding: Encoding::RAW,
        },
        payload: Bytes::from_static(&[9, 8, 7, 6]),
    };
    server.encode(rect.clone(), &mut wire).unwrap();
    server.encode(ServerMessage::Bell, &mut wire).unwrap();
    // Feed it one byte at a time.
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    for b in wire.iter() {
        buf.extend_from_slice(&[*b]);
        while let Some(item) = client.decode(&mut buf).unwrap() {
            items.push(item);
        }
    }
    assert_eq!(
        items,
        [
            OwnedServerItem::UpdateStart { rects: 1 },
            rect,
            OwnedServerItem::UpdateEnd,
            OwnedServerItem::Message(ServerMessage::Bell)
        ]
    );
    // Client -> server with the extended pointer form.
    client.set_parse_state(ClientParseState {
        extended_mouse_buttons: true,
    });
    server.set_parse_state(ClientParseState {
        extended_mouse_buttons: true,
    });
    let msg = ClientMessage::PointerEvent(PointerEvent {
        buttons: PointerEvent::FORWARD | PointerEvent::LEFT,
        x: 3,
        y: 4,
    });
    let mut up = BytesMut::new();
    client.encode(&msg, &mut up).unwrap();
    assert_eq!(up.len(), 7);
    assert_eq!(server.decode(&mut up).unwrap(), Some(msg));
}

#[test]
fn client_side_unknown_encoding() {
    let mut client = ClientSideCodec::new(PixelFormat::RGB888, Limits::default());
    let mut buf = BytesMut::from(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 16][..]);
    assert!(client.decode(&mut buf).unwrap().is_some());
    assert!(matches!(
        client.decode(&mut buf),
        Err(CodecError::Protocol(Error::Incompatible(
            Incompatible::Encoding(16)
        )))
    ));
}
