//! The MQTT topic tree: `gerbang/{site}/{device}/{channel}`.

use std::fmt;

use crate::{DeviceId, ProtocolError, SiteId};

/// The first level of every Gerbang topic.
pub const ROOT: &str = "gerbang";

/// What a topic carries, and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Device → cloud, QoS 1: signed event envelopes.
    Events,
    /// Device → cloud, retained: the device's current state; its last will marks it offline.
    State,
    /// Cloud → device, QoS 1: signed commands.
    Commands,
    /// Device → cloud, QoS 1: signed command acks.
    Acks,
    /// Cloud → device, QoS 1: "a new face gallery version is ready".
    Gallery,
    /// Cloud → device, QoS 1: "every event up to seq N is stored"; the outbox may forget them.
    Receipts,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::Events,
        Channel::State,
        Channel::Commands,
        Channel::Acks,
        Channel::Gallery,
        Channel::Receipts,
    ];

    /// The channels a device publishes on: a broker that confines devices lets each publish
    /// on its own of these, nothing else.
    pub const FROM_DEVICE: [Channel; 3] = [Channel::Events, Channel::State, Channel::Acks];

    /// The channels a device subscribes to: each may subscribe to its own of these only.
    pub const TO_DEVICE: [Channel; 3] = [Channel::Commands, Channel::Gallery, Channel::Receipts];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Events => "events",
            Channel::State => "state",
            Channel::Commands => "commands",
            Channel::Acks => "acks",
            Channel::Gallery => "gallery",
            Channel::Receipts => "receipts",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// The filter matching this channel of every device of every site, e.g. `gerbang/+/+/events`.
    pub fn filter_all(self) -> String {
        format!("{ROOT}/+/+/{}", self.as_str())
    }
}

/// A parsed Gerbang topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Topic {
    pub site: SiteId,
    pub device: DeviceId,
    pub channel: Channel,
}

impl Topic {
    pub fn new(site: &SiteId, device: &DeviceId, channel: Channel) -> Self {
        Self {
            site: site.clone(),
            device: device.clone(),
            channel,
        }
    }

    /// Parses a topic name as received from a broker. A shared-subscription prefix
    /// (`$share/group/`) is not part of a received topic name and is refused like any other.
    pub fn parse(topic: &str) -> Result<Self, ProtocolError> {
        let invalid = |reason| ProtocolError::InvalidTopic {
            topic: topic.to_owned(),
            reason,
        };
        let mut parts = topic.split('/');
        if parts.next() != Some(ROOT) {
            return Err(invalid("does not start with gerbang/"));
        }
        let (Some(site), Some(device), Some(channel), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("expected gerbang/{site}/{device}/{channel}"));
        };
        let site = SiteId::parse(site).map_err(|_| invalid("bad site id"))?;
        let device = DeviceId::parse(device).map_err(|_| invalid("bad device id"))?;
        let channel = Channel::parse(channel).ok_or_else(|| invalid("unknown channel"))?;
        Ok(Self {
            site,
            device,
            channel,
        })
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ROOT}/{}/{}/{}",
            self.site,
            self.device,
            self.channel.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_channel() {
        let site = SiteId::parse("hq").unwrap();
        let device = DeviceId::parse("door-1").unwrap();
        for channel in Channel::ALL {
            let topic = Topic::new(&site, &device, channel);
            assert_eq!(Topic::parse(&topic.to_string()).unwrap(), topic);
        }
    }

    #[test]
    fn refuses_foreign_and_malformed_topics() {
        for bad in [
            "",
            "gerbang",
            "other/hq/door-1/events",
            "gerbang/hq/door-1",
            "gerbang/hq/door-1/events/extra",
            "gerbang/hq/door-1/unknown",
            "gerbang/HQ/door-1/events",
            "gerbang/hq/+/events",
        ] {
            assert!(Topic::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn filter_covers_all_devices() {
        assert_eq!(Channel::Events.filter_all(), "gerbang/+/+/events");
    }
}
