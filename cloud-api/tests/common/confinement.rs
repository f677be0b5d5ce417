//! What a broker that confines doors (NATS with the auth callout, Mosquitto with the
//! dynamic-security plugin) must refuse: logins with wrong credentials, and a logged-in door
//! subscribing to or publishing on another door's topics.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use cloud_api::testkit::SimDevice;
use rumqttc::{AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

/// An MQTT CONNECT to `url`: `Ok` on its acceptance, else the broker's refusal.
pub async fn mqtt_connect(
    url: &str,
    client_id: &str,
    user: &str,
    pass: &str,
) -> Result<(), ConnectReturnCode> {
    let (host, port) = url
        .trim_start_matches("mqtt://")
        .rsplit_once(':')
        .expect("host:port");
    let mut options = MqttOptions::new(client_id, host, port.parse().expect("a port"));
    options.set_credentials(user, pass);
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    let outcome = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => break ack.code,
                Ok(_) => {}
                Err(ConnectionError::ConnectionRefused(code)) => break code,
                Err(err) => panic!("MQTT CONNECT as {user}: {err}"),
            }
        }
    })
    .await
    .expect("a CONNACK within 15 s");
    let _ = client.try_disconnect();
    match outcome {
        ConnectReturnCode::Success => Ok(()),
        refused => Err(refused),
    }
}

/// Asserts that each `(client id, username, password)` is refused at CONNECT.
pub async fn assert_logins_refused(url: &str, attempts: &[(&str, &str, &str)]) {
    for (client_id, user, pass) in attempts {
        let refused = mqtt_connect(url, client_id, user, pass).await;
        assert!(
            matches!(
                refused,
                Err(ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized)
            ),
            "{user} as {client_id}: {refused:?}"
        );
    }
}

/// A door logged in with its own credentials trying another door's topics: every
/// subscription must be refused, and nothing of the other door's may reach it.
pub struct Intruder {
    seen: mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Intruder {
    /// Logs `door` in at `url`, subscribes to each of `filters` (asserting each SUBACK is a
    /// refusal) and publishes `forged` (topic, payload).
    pub async fn start(
        door: &SimDevice,
        url: &str,
        filters: &[String],
        forged: (String, Vec<u8>),
    ) -> Intruder {
        let (client, mut eventloop) = door.mqtt_client(url);
        for filter in filters {
            client
                .subscribe(filter.as_str(), QoS::AtLeastOnce)
                .await
                .unwrap();
        }
        client
            .publish(forged.0, QoS::AtLeastOnce, false, forged.1)
            .await
            .unwrap();
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(ack))) => {
                        let _ = seen_tx.send(format!("suback {:?}", ack.return_codes));
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = seen_tx.send(format!("publish on {}", p.topic));
                    }
                    Ok(_) => {}
                    Err(err) => {
                        let _ = seen_tx.send(format!("error {err}"));
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        for filter in filters {
            let event = tokio::time::timeout(Duration::from_secs(10), seen.recv())
                .await
                .expect("a SUBACK for each filter")
                .expect("intruder loop running");
            assert_eq!(
                event, "suback [Failure]",
                "{} subscribing to {filter}",
                door.id
            );
        }
        Intruder { seen, task }
    }

    /// Asserts that nothing reached the intruder since its SUBACKs, and stops it.
    pub fn assert_heard_nothing(mut self) {
        let heard = self.seen.try_recv();
        self.task.abort();
        assert!(heard.is_err(), "the intruder received {heard:?}");
    }
}
