//! A device as the people and camera tests need it: a real MQTT client with the device's
//! credentials that acks every command, answers `capture` with a JPEG upload, sends live
//! frames for `stream`, and reports the gallery notices it receives.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use cloud_api::testkit::{SimDevice, TestCloud};
use protocol::{Channel, Command, CommandEnvelope, GalleryNotice, PublicKey};
use rumqttc::{AsyncClient, Event as MqttEvent, Packet, QoS};
use tokio::sync::mpsc;

use super::{jpeg, upload_snapshot};

pub struct DeviceStub {
    pub client: AsyncClient,
    /// Gallery notices, opened with the cloud's key.
    pub notices: mpsc::UnboundedReceiver<GalleryNotice>,
    /// Every command received, in order.
    pub commands: mpsc::UnboundedReceiver<Command>,
    task: tokio::task::JoinHandle<()>,
    pub token: String,
}

struct Ctx {
    dev: SimDevice,
    client: AsyncClient,
    cloud_key: PublicKey,
    base: String,
    ack: bool,
}

impl DeviceStub {
    /// Connects `dev`, subscribes to its commands and gallery channels, and waits until both
    /// subscriptions are acknowledged. `ack = false` leaves commands unanswered.
    pub async fn start(dev: SimDevice, tc: &TestCloud, ack: bool) -> DeviceStub {
        let (client, mut eventloop) = dev.mqtt_client(tc.cloud().mqtt_url());
        for channel in [Channel::Commands, Channel::Gallery] {
            client
                .subscribe(dev.topic(channel), QoS::AtLeastOnce)
                .await
                .unwrap();
        }
        let (notice_tx, notices) = mpsc::unbounded_channel();
        let (command_tx, commands) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let token = dev.token.clone();
        let ctx = std::sync::Arc::new(Ctx {
            dev,
            client: client.clone(),
            cloud_key: tc.cloud().public_key(),
            base: tc.url(""),
            ack,
        });
        let task = tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut subacks = 0;
            loop {
                match eventloop.poll().await {
                    Ok(MqttEvent::Incoming(Packet::SubAck(_))) => {
                        subacks += 1;
                        if subacks == 2 {
                            if let Some(ready) = ready.take() {
                                let _ = ready.send(());
                            }
                        }
                    }
                    Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                        if p.topic == ctx.dev.topic(Channel::Gallery) {
                            let notice: GalleryNotice =
                                protocol::open(&p.payload, &ctx.cloud_key).expect("sealed notice");
                            let _ = notice_tx.send(notice);
                        } else if p.topic == ctx.dev.topic(Channel::Commands) {
                            let envelope: CommandEnvelope =
                                protocol::open(&p.payload, &ctx.cloud_key).expect("sealed command");
                            let _ = command_tx.send(envelope.command.clone());
                            tokio::spawn(handle(ctx.clone(), envelope));
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), ready_rx)
            .await
            .expect("subscribed in time")
            .unwrap();
        DeviceStub {
            client,
            notices,
            commands,
            task,
            token,
        }
    }

    /// The next gallery notice within 10 s.
    pub async fn next_notice(&mut self) -> GalleryNotice {
        tokio::time::timeout(Duration::from_secs(10), self.notices.recv())
            .await
            .expect("a gallery notice in time")
            .unwrap()
    }

    pub async fn stop(self) {
        let _ = self.client.disconnect().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.task.abort();
    }
}

async fn upload(ctx: &Ctx, query: &str) -> reqwest::StatusCode {
    upload_snapshot(&ctx.base, &ctx.dev.token, query, "image/jpeg", jpeg())
        .await
        .status()
}

async fn handle(ctx: std::sync::Arc<Ctx>, envelope: CommandEnvelope) {
    if !ctx.ack {
        return;
    }
    let ack = ctx.dev.seal(&ctx.dev.ack(&envelope, true, true));
    ctx.client
        .publish(ctx.dev.topic(Channel::Acks), QoS::AtLeastOnce, false, ack)
        .await
        .unwrap();
    match envelope.command {
        Command::Capture => {
            let status = upload(&ctx, &format!("command={}", envelope.id)).await;
            assert_eq!(status, reqwest::StatusCode::OK);
        }
        Command::Stream { seconds, fps } => {
            let frames = u64::from(seconds) * u64::from(fps.max(1));
            for _ in 0..frames {
                let status = upload(&ctx, &format!("stream={}", envelope.id)).await;
                if status == reqwest::StatusCode::CONFLICT {
                    break; // nobody watches any more
                }
                tokio::time::sleep(Duration::from_millis(1000 / u64::from(fps.max(1)))).await;
            }
        }
        _ => {}
    }
}
