//! What the protocol fuzz targets do with their input: the sealed-frame parser as a receiver
//! meets it (size, signature, version, typed parse), and the HTTPS batch body as the cloud's
//! ingest parses it. Shared by `fuzz/fuzz_targets/` and `protocol/tests/fuzz_regressions.rs`.

use protocol::{
    seal::parse_body, sync::EventBatch, CommandEnvelope, DeviceState, Envelope, GalleryNotice,
    Keypair, Receipt,
};
use serde_json::value::RawValue;

/// A fixed key, so that a crash input replays the same way.
fn key() -> Keypair {
    Keypair::from_secret_base64("R2VyYmFuZyBmdXp6IGtleSwgbm90IGEgc2VjcmV0ISE=")
        .expect("a 32-byte key")
}

/// Every message type a receiver opens from a sealed frame, parsed from a trusted body.
fn parse_every_type(body: &[u8]) {
    let _ = parse_body::<Envelope>(body);
    let _ = parse_body::<CommandEnvelope>(body);
    let _ = parse_body::<Receipt>(body);
    let _ = parse_body::<GalleryNotice>(body);
    let _ = parse_body::<DeviceState>(body);
}

/// `data` as a frame off the wire, then as the body of a frame its key really signed (the
/// paths past the signature check, which random bytes never reach).
pub fn sealed_frame(data: &[u8]) {
    let key = key();
    let public = key.public();
    let _ = protocol::open::<Envelope>(data, &public);
    let _ = protocol::open::<CommandEnvelope>(data, &public);
    parse_every_type(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(body) = RawValue::from_string(text.to_owned()) else {
        return;
    };
    let frame = protocol::seal(&body, &key);
    if let Ok(opened) = protocol::open::<Envelope>(&frame, &public) {
        // What was accepted must travel again unchanged.
        let again = protocol::seal(&opened, &key);
        assert_eq!(
            protocol::open::<Envelope>(&again, &public).as_ref(),
            Ok(&opened)
        );
    }
    let _ = protocol::open::<CommandEnvelope>(&frame, &public);
    let _ = protocol::open::<Receipt>(&frame, &public);
}

/// `data` as the body of `POST /api/device/events`: the batch, its bound on frames, then
/// every frame as the ingest judges it (signature, then the envelope).
pub fn event_batch(data: &[u8]) {
    let Ok(batch) = serde_json::from_slice::<EventBatch>(data) else {
        return;
    };
    assert!(batch.frames.len() <= protocol::sync::MAX_BATCH_FRAMES + 1);
    if batch.too_many_frames() {
        return;
    }
    let public = key().public();
    for frame in &batch.frames {
        let bytes = frame.get().as_bytes();
        let _ = protocol::open::<Envelope>(bytes, &public);
        let _ = parse_body::<Envelope>(bytes);
        // A frame's body, as the verifier would hand it on had the signature held.
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if let Some(body) = value.get("body") {
                let _ = parse_body::<Envelope>(body.to_string().as_bytes());
            }
        }
    }
}
