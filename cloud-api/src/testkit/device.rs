//! A simulated enrolled device: builds and seals envelopes, acks and state with its own key,
//! and connects to the broker with its credentials, exactly as a real device would.

use std::{fmt, time::Duration};

use protocol::{
    sync::EnrollResponse, Channel, CommandAck, CommandEnvelope, DeviceId, DeviceState, DoorMode,
    Envelope, Event, Keypair, SiteId, Topic,
};
use rumqttc::{AsyncClient, EventLoop, LastWill, MqttOptions, QoS};
use time::OffsetDateTime;
use uuid::Uuid;

/// An enrolled device's identity and sequence counter.
pub struct SimDevice {
    pub keypair: Keypair,
    pub id: DeviceId,
    pub site: SiteId,
    /// The device token (MQTT password, HTTPS bearer). Secret.
    pub token: String,
    pub enrollment: EnrollResponse,
    pub boot_id: Uuid,
    /// The seq of the last event built.
    pub seq: u64,
}

impl fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimDevice")
            .field("id", &self.id)
            .field("site", &self.site)
            .finish()
    }
}

impl SimDevice {
    pub fn new(keypair: Keypair, enrollment: EnrollResponse) -> Self {
        Self {
            keypair,
            id: enrollment.device.clone(),
            site: enrollment.site.clone(),
            token: enrollment.token.clone(),
            enrollment,
            boot_id: Uuid::now_v7(),
            seq: 0,
        }
    }

    /// The next envelope in sequence.
    pub fn next(&mut self, event: Event) -> Envelope {
        self.seq += 1;
        self.envelope(self.seq, event)
    }

    /// The next envelope in sequence, sealed.
    pub fn next_frame(&mut self, event: Event) -> Vec<u8> {
        let envelope = self.next(event);
        self.seal(&envelope)
    }

    /// An envelope with an explicit seq (for gaps and replays).
    pub fn envelope(&self, seq: u64, event: Event) -> Envelope {
        Envelope {
            v: protocol::VERSION,
            id: Uuid::now_v7(),
            device: self.id.clone(),
            boot_id: self.boot_id,
            seq,
            ts: OffsetDateTime::now_utc(),
            mono_ms: seq * 10,
            clock_synced: true,
            event,
        }
    }

    pub fn seal<T: serde::Serialize>(&self, message: &T) -> Vec<u8> {
        protocol::seal(message, &self.keypair)
    }

    pub fn topic(&self, channel: Channel) -> String {
        Topic::new(&self.site, &self.id, channel).to_string()
    }

    /// A signed state message.
    pub fn state(&self, online: bool) -> DeviceState {
        DeviceState {
            v: protocol::VERSION,
            device: self.id.clone(),
            online,
            boot_id: self.boot_id,
            ts: OffsetDateTime::now_utc(),
            locked: true,
            door_open: false,
            battery_percent: Some(90),
            camera_active: true,
            mode: DoorMode::Normal,
            last_seq: self.seq,
            firmware: "test".into(),
        }
    }

    /// The ack a device sends after running `command`.
    pub fn ack(&self, command: &CommandEnvelope, ok: bool, locked: bool) -> CommandAck {
        CommandAck {
            v: protocol::VERSION,
            command_id: command.id,
            device: self.id.clone(),
            ok,
            error: (!ok).then(|| "refused by test".into()),
            ts: OffsetDateTime::now_utc(),
            locked,
        }
    }

    /// An MQTT client with this device's credentials and an `online:false` last will.
    /// Poll the event loop to connect.
    pub fn mqtt_client(&self, mqtt_url: &str) -> (AsyncClient, EventLoop) {
        let addr = mqtt_url.trim_start_matches("mqtt://");
        let (host, port) = addr.rsplit_once(':').expect("host:port");
        let client_id = format!("{}-{}", self.id, Uuid::new_v4().simple());
        let mut options = MqttOptions::new(client_id, host, port.parse().expect("port"));
        options
            .set_credentials(self.id.as_str(), self.token.as_str())
            .set_keep_alive(Duration::from_secs(5))
            .set_max_packet_size(256 * 1024, 256 * 1024)
            .set_last_will(LastWill::new(
                self.topic(Channel::State),
                self.seal(&self.state(false)),
                QoS::AtLeastOnce,
                true,
            ));
        AsyncClient::new(options, 1000)
    }
}
