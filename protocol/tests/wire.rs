//! Round trips and hostile input for every message that crosses the wire.

use proptest::prelude::*;
use protocol::{
    command::MAX_UNLOCK_MS, open, seal, AccessMethod, AccessResult, Command, CommandEnvelope,
    DenyReason, DeviceId, Envelope, Event, Keypair, PersonRef, ProtocolError, VERSION,
};
use time::OffsetDateTime;
use uuid::Uuid;

fn envelope(seq: u64, event: Event) -> Envelope {
    Envelope {
        v: VERSION,
        id: Uuid::now_v7(),
        device: DeviceId::parse("door-1").unwrap(),
        boot_id: Uuid::now_v7(),
        seq,
        ts: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        mono_ms: 1234,
        clock_synced: true,
        event,
    }
}

fn granted() -> Event {
    Event::AccessDecision {
        result: AccessResult::Granted,
        method: AccessMethod::Face,
        person: Some(PersonRef {
            id: "u1".into(),
            name: "Siti".into(),
        }),
        reason: None,
        score: Some(0.8),
        liveness: Some(0.97),
        snapshot: None,
    }
}

#[test]
fn sealed_envelope_round_trips() {
    let key = Keypair::generate();
    let sent = envelope(7, granted());
    let frame = seal(&sent, &key);
    let received: Envelope = open(&frame, &key.public()).unwrap();
    assert_eq!(received, sent);
}

#[test]
fn wire_form_is_kind_and_body() {
    let json = serde_json::to_value(envelope(1, Event::HeldOpen { open_secs: 90 })).unwrap();
    assert_eq!(json["kind"], "held_open");
    assert_eq!(json["body"]["open_secs"], 90);
    assert_eq!(json["v"], 1);
}

#[test]
fn another_key_does_not_verify() {
    let frame = seal(&envelope(1, Event::DoorOpened), &Keypair::generate());
    let err = open::<Envelope>(&frame, &Keypair::generate().public()).unwrap_err();
    assert_eq!(err, ProtocolError::BadSignature);
}

#[test]
fn tampered_body_does_not_verify() {
    let key = Keypair::generate();
    let frame = String::from_utf8(seal(&envelope(5, Event::DoorOpened), &key)).unwrap();
    let tampered = frame.replace("\"seq\":5", "\"seq\":6");
    assert_ne!(frame, tampered);
    assert_eq!(
        open::<Envelope>(tampered.as_bytes(), &key.public()).unwrap_err(),
        ProtocolError::BadSignature
    );
}

#[test]
fn unknown_version_is_a_typed_error() {
    let key = Keypair::generate();
    let mut future = serde_json::to_value(envelope(1, Event::DoorOpened)).unwrap();
    future["v"] = 2.into();
    let err = open::<Envelope>(&seal(&future, &key), &key.public()).unwrap_err();
    assert_eq!(
        err,
        ProtocolError::UnsupportedVersion {
            found: 2,
            supported: VERSION
        }
    );
}

#[test]
fn missing_field_and_bad_uuid_name_the_field() {
    let key = Keypair::generate();
    let mut value = serde_json::to_value(envelope(1, Event::DoorOpened)).unwrap();
    value.as_object_mut().unwrap().remove("seq");
    let err = open::<Envelope>(&seal(&value, &key), &key.public()).unwrap_err();
    assert!(
        matches!(&err, ProtocolError::Malformed(m) if m.contains("seq")),
        "{err}"
    );

    let mut value = serde_json::to_value(envelope(1, Event::DoorOpened)).unwrap();
    value["id"] = "not-a-uuid".into();
    let err = open::<Envelope>(&seal(&value, &key), &key.public()).unwrap_err();
    assert!(
        matches!(&err, ProtocolError::Malformed(m) if m.contains("id")),
        "{err}"
    );

    let mut value = serde_json::to_value(envelope(1, granted())).unwrap();
    value["body"]["result"] = "maybe".into();
    let err = open::<Envelope>(&seal(&value, &key), &key.public()).unwrap_err();
    assert!(
        matches!(&err, ProtocolError::Malformed(m) if m.contains("maybe") && m.contains("granted")),
        "{err}"
    );
}

#[test]
fn oversize_frames_are_refused_before_parsing() {
    let key = Keypair::generate();
    let huge = vec![b'{'; protocol::MAX_FRAME_BYTES + 1];
    assert!(matches!(
        open::<Envelope>(&huge, &key.public()),
        Err(ProtocolError::TooLarge { .. })
    ));
}

#[test]
fn commands_round_trip_with_their_tag() {
    let key = Keypair::generate();
    let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let cmd = CommandEnvelope {
        v: VERSION,
        id: Uuid::now_v7(),
        device: DeviceId::parse("door-1").unwrap(),
        issued_at: now,
        expires_at: now + time::Duration::seconds(30),
        command: Command::Unlock {
            duration_ms: MAX_UNLOCK_MS,
        },
    };
    let json = serde_json::to_value(&cmd).unwrap();
    assert_eq!(json["command"]["type"], "unlock");
    assert_eq!(
        open::<CommandEnvelope>(&seal(&cmd, &key), &key.public()).unwrap(),
        cmd
    );
}

#[test]
fn key_debug_never_shows_the_secret() {
    let key = Keypair::generate();
    assert!(!format!("{key:?}").contains(&key.to_secret_base64()));
    let again = Keypair::from_secret_base64(&key.to_secret_base64()).unwrap();
    assert_eq!(again.public(), key.public());
}

fn arb_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::DoorOpened),
        Just(Event::ForcedOpen),
        any::<u64>().prop_map(|open_ms| Event::DoorClosed { open_ms }),
        (0u8..=100, any::<bool>()).prop_map(|(percent, charging)| Event::Battery {
            percent,
            millivolts: Some(3700),
            charging,
            level: protocol::BatteryLevel::Normal,
        }),
        (".{0,40}", ".{0,40}", prop::option::of(0f32..1.0)).prop_map(|(id, name, score)| {
            Event::AccessDecision {
                result: AccessResult::Denied,
                method: AccessMethod::Face,
                person: Some(PersonRef { id, name }),
                reason: Some(DenyReason::UnknownFace),
                score,
                liveness: None,
                snapshot: None,
            }
        }),
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(count, first_seq, last_seq)| {
            Event::Dropped {
                count,
                first_seq,
                last_seq,
            }
        }),
    ]
}

proptest! {
    #[test]
    fn any_envelope_round_trips(seq in any::<u64>(), mono in any::<u64>(), synced in any::<bool>(), event in arb_event()) {
        let key = Keypair::generate();
        let mut sent = envelope(seq, event);
        sent.mono_ms = mono;
        sent.clock_synced = synced;
        let received: Envelope = open(&seal(&sent, &key), &key.public()).unwrap();
        prop_assert_eq!(received, sent);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let key = Keypair::generate();
        prop_assert!(open::<Envelope>(&bytes, &key.public()).is_err());
        let _ = protocol::seal::parse_body::<Envelope>(&bytes);
        let _ = protocol::Topic::parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mangled_valid_bodies_never_panic(cut in 0usize..400, flip in any::<u8>()) {
        let body = serde_json::to_vec(&envelope(3, granted())).unwrap();
        let mut mangled = body[..cut.min(body.len())].to_vec();
        if let Some(last) = mangled.last_mut() { *last ^= flip; }
        let _ = protocol::seal::parse_body::<Envelope>(&mangled);
    }
}
