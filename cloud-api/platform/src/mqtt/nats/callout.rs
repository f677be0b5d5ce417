//! The cluster's auth callout service (nats-server 2.10+, `authorization { auth_callout {…} }`):
//! every connection not made by an `auth_users` user is described to `$SYS.REQ.USER.AUTH`,
//! and the replicas (one queue group, so whichever replica is up answers) judge it with the
//! same check as the embedded broker's hook. A device — MQTT only, username = its id,
//! password = its token, client id its own — is admitted as a user allowed to publish its
//! events, state and acks and to subscribe to its commands, gallery notices and receipts,
//! nothing else; anything else is refused.
//!
//! The server signs its request with its own nkey; the answer, and the user claims inside
//! it, are signed by the issuer nkey the servers' config names.

use std::sync::Arc;

use futures::StreamExt;
use nats_jwt_rs::{
    authorization::AuthResponse,
    types::{Permission, Permissions},
    user::User,
    Claim, Claims,
};
use nkeys::{KeyPair, KeyPairType};
use protocol::{Channel, DeviceId, SiteId, Topic};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{subject_of, NatsConfig};
use crate::{devices, start_error::CloudError, state::AppState};

/// Where the servers send their authorization requests.
pub const CALLOUT_SUBJECT: &str = "$SYS.REQ.USER.AUTH";

/// The replicas answer as one queue group: each request reaches one of them.
const QUEUE_GROUP: &str = "gerbang-auth-callout";

/// The audience of a server's authorization request.
const REQUEST_AUDIENCE: &str = "nats-authorization-request";

/// The subscription MQTT listeners make on a client's behalf for its QoS 1 deliveries (the
/// JetStream consumer behind each of its subscriptions delivers to `$MQTT.sub.<nuid>`). MQTT
/// clients cannot name it themselves: the listener refuses topic filters under it.
const MQTT_DELIVERIES: &str = "$MQTT.sub.>";

/// The issuer key and the account devices are placed in, from `[nats]`.
#[derive(Clone)]
pub struct CalloutIssuer {
    key: Arc<KeyPair>,
    account: String,
}

impl std::fmt::Debug for CalloutIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalloutIssuer")
            .field("public_key", &self.key.public_key())
            .field("account", &self.account)
            .finish()
    }
}

impl CalloutIssuer {
    /// The issuer of `config.auth_callout_seed`, or `None` when it is not set.
    pub fn from_config(config: &NatsConfig) -> Result<Option<Self>, CloudError> {
        let Some(seed) = config.auth_callout_seed.as_deref() else {
            return Ok(None);
        };
        // The error never repeats the seed.
        let key = KeyPair::from_seed(seed.trim())
            .map_err(|_| CloudError::Config("nats.auth_callout_seed is not an nkey seed".into()))?;
        if !matches!(key.key_pair_type(), KeyPairType::Account) {
            return Err(CloudError::Config(
                "nats.auth_callout_seed must be an account seed (SA…), the key whose public \
                 half the servers' auth_callout names as issuer"
                    .into(),
            ));
        }
        if config.account.trim().is_empty() {
            return Err(CloudError::Config("nats.account is empty".into()));
        }
        Ok(Some(Self {
            key: Arc::new(key),
            account: config.account.trim().to_owned(),
        }))
    }

    /// The public key the servers' `auth_callout.issuer` names.
    pub fn public_key(&self) -> String {
        self.key.public_key()
    }
}

/// A new issuer: an account key pair, as its seed (`SA…`, the cloud's
/// `auth_callout_seed`, a secret) and its public key (`A…`, the servers' `issuer`).
pub fn new_issuer() -> Result<(String, String), CloudError> {
    let key = KeyPair::new_account();
    let seed = key
        .seed()
        .map_err(|e| CloudError::Config(format!("generating an issuer key: {e}")))?;
    Ok((seed, key.public_key()))
}

/// What a server tells of a connection attempt (the fields the judgement needs).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuthorizationRequest {
    server_id: ServerId,
    /// The key the server generated for this connection: the answer is about it.
    user_nkey: String,
    #[serde(default)]
    client_info: ClientInfo,
    #[serde(default)]
    connect_opts: ConnectOpts,
}

impl Claim for AuthorizationRequest {
    fn validate() {}
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ServerId {
    id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ClientInfo {
    /// `mqtt`, `nats` or `websocket`.
    #[serde(rename = "type", default)]
    kind: String,
    /// The MQTT client id.
    #[serde(rename = "mqtt_id", default)]
    mqtt_client_id: String,
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct ConnectOpts {
    #[serde(default)]
    user: String,
    #[serde(default)]
    pass: String,
}

impl std::fmt::Debug for ConnectOpts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOpts")
            .field("user", &self.user)
            .field("pass", &"<redacted>")
            .finish()
    }
}

/// Why a connection is refused (logged; the client only learns it was not authorised).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NotMqtt,
    BadCredentials,
    ForeignClientId,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Refusal::NotMqtt => "devices connect over MQTT only",
            Refusal::BadCredentials => "bad credentials",
            Refusal::ForeignClientId => "the MQTT client id is not the device's",
        }
    }
}

/// A device's MQTT client id is its id (the edge daemon), or its id, a `-` and a suffix
/// (its doctor's probe, simulated doors): never another device's, whose session it would
/// take over.
fn client_id_is_own(client_id: &str, device: &DeviceId) -> bool {
    client_id == device.as_str()
        || client_id
            .strip_prefix(device.as_str())
            .is_some_and(|rest| rest.len() > 1 && rest.starts_with('-'))
}

/// What `device` of `site` may do: publish on its own device → cloud channels, subscribe to
/// its own cloud → device channels (and the deliveries behind those subscriptions).
fn device_permissions(site: &SiteId, device: &DeviceId) -> Permissions {
    let subject = |channel| subject_of(&Topic::new(site, device, channel).to_string());
    Permissions {
        publish: Permission {
            allow: Channel::FROM_DEVICE.into_iter().map(subject).collect(),
            deny: Vec::new(),
        },
        subscribe: Permission {
            allow: Channel::TO_DEVICE
                .into_iter()
                .map(subject)
                .chain([MQTT_DELIVERIES.to_owned()])
                .collect(),
            deny: Vec::new(),
        },
        resp: None,
    }
}

/// The signed user claims that admit `device` on connection key `user_nkey`.
fn device_user(
    issuer: &CalloutIssuer,
    user_nkey: &str,
    site: &SiteId,
    device: &DeviceId,
) -> Result<String, String> {
    let mut claims = User::new_claims(device.to_string(), user_nkey.to_owned());
    // Outside operator mode the audience names the account the user is placed in.
    claims.aud = Some(issuer.account.clone());
    let limits = &mut claims.payload_mut().permissions;
    limits.permissions = device_permissions(site, device);
    limits.allowed_connection_types = Some(vec!["MQTT".to_owned()]);
    claims.encode(&issuer.key).map_err(|e| e.to_string())
}

/// Answers the servers' authorization requests until `stop`.
pub async fn serve_callouts(
    platform: AppState,
    client: async_nats::Client,
    issuer: CalloutIssuer,
    stop: CancellationToken,
) {
    loop {
        let subscribed = tokio::select! {
            _ = stop.cancelled() => return,
            subscribed = client.queue_subscribe(CALLOUT_SUBJECT, QUEUE_GROUP.into()) => subscribed,
        };
        let mut requests = match subscribed {
            Ok(requests) => requests,
            Err(error) => {
                tracing::warn!(%error, "Cannot subscribe to the NATS auth callout; retrying.");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                }
            }
        };
        tracing::info!(issuer = %issuer.public_key(), "Answering the NATS auth callout.");
        loop {
            let request = tokio::select! {
                _ = stop.cancelled() => return,
                request = requests.next() => request,
            };
            let Some(request) = request else { break };
            let (platform, client, issuer) = (platform.clone(), client.clone(), issuer.clone());
            tokio::spawn(async move {
                let Some(reply) = request.reply else { return };
                let Some(answer) = answer(&platform, &issuer, &request.payload).await else {
                    return;
                };
                if let Err(error) = client.publish(reply, answer.into()).await {
                    tracing::warn!(%error, "Could not answer a NATS auth callout.");
                }
            });
        }
        tracing::warn!("The NATS auth callout subscription ended; subscribing again.");
    }
}

/// The signed answer to one request, or `None` for a request that is not a server's (no
/// answer: the server times the connection out and refuses it).
async fn answer(platform: &AppState, issuer: &CalloutIssuer, payload: &[u8]) -> Option<String> {
    let Ok(token) = std::str::from_utf8(payload) else {
        tracing::warn!("NATS auth callout request is not text (encrypted? set no xkey); ignored.");
        return None;
    };
    // Decoding checks the signature against the issuer the request names: the server's key.
    let request = match Claims::<AuthorizationRequest>::decode(token.trim()) {
        Ok(request) => request,
        Err(error) => {
            tracing::warn!(%error, "NATS auth callout request is not a valid server JWT; ignored.");
            return None;
        }
    };
    if request.aud.as_deref() != Some(REQUEST_AUDIENCE) || request.iss != request.nats.server_id.id
    {
        tracing::warn!("NATS auth callout request not from a server; ignored.");
        return None;
    }
    let server = request.nats.server_id.id.clone();
    let user_nkey = request.nats.user_nkey.clone();
    let user = match judge(platform, &request.nats).await {
        Ok((site, device)) => {
            tracing::debug!(%device, "NATS MQTT login admitted.");
            device_user(issuer, &user_nkey, &site, &device)
        }
        Err(refusal) => {
            tracing::warn!(
                username = %request.nats.connect_opts.user.chars().take(64).collect::<String>(),
                client_id = %request.nats.client_info.mqtt_client_id.chars().take(64).collect::<String>(),
                reason = refusal.as_str(),
                "NATS connection refused."
            );
            Err(refusal.as_str().to_owned())
        }
    };
    let mut response = AuthResponse::generic_claim(user_nkey);
    response.aud = Some(server);
    match user {
        Ok(jwt) => response.payload_mut().jwt = jwt,
        Err(error) => response.payload_mut().error = error,
    }
    match response.encode(&issuer.key) {
        Ok(signed) => Some(signed),
        Err(error) => {
            tracing::error!(%error, "Could not sign a NATS auth callout answer.");
            None
        }
    }
}

/// The device a request is from, when it may connect.
async fn judge(
    platform: &AppState,
    request: &AuthorizationRequest,
) -> Result<(SiteId, DeviceId), Refusal> {
    if request.client_info.kind != "mqtt" {
        return Err(Refusal::NotMqtt);
    }
    let login = &request.connect_opts;
    let device = devices::device_from_mqtt_credentials(platform, &login.user, &login.pass)
        .await
        .ok_or(Refusal::BadCredentials)?;
    if !client_id_is_own(&request.client_info.mqtt_client_id, &device.id) {
        return Err(Refusal::ForeignClientId);
    }
    Ok((device.site.clone(), device.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> DeviceId {
        DeviceId::parse(raw).expect("a device id")
    }

    #[test]
    fn a_device_uses_its_own_client_ids_only() {
        let door = id("door-1");
        assert!(client_id_is_own("door-1", &door));
        assert!(client_id_is_own("door-1-doctor-0a1b2c3d", &door));
        assert!(!client_id_is_own("door-2", &door));
        assert!(!client_id_is_own("door-10", &door));
        assert!(!client_id_is_own("door-1-", &door));
        assert!(!client_id_is_own("", &door));
    }

    #[test]
    fn permissions_name_only_the_devices_own_subjects() {
        let site = SiteId::parse("site-a").expect("a site id");
        let perms = device_permissions(&site, &id("door-1"));
        assert_eq!(
            perms.publish.allow,
            [
                "gerbang.site-a.door-1.events",
                "gerbang.site-a.door-1.state",
                "gerbang.site-a.door-1.acks"
            ]
        );
        assert_eq!(
            perms.subscribe.allow,
            [
                "gerbang.site-a.door-1.commands",
                "gerbang.site-a.door-1.gallery",
                "gerbang.site-a.door-1.receipts",
                "$MQTT.sub.>"
            ]
        );
    }

    #[test]
    fn the_issuer_must_be_an_account_seed() {
        let mut config = NatsConfig::default();
        assert!(CalloutIssuer::from_config(&config)
            .expect("no seed is fine")
            .is_none());
        config.auth_callout_seed = Some("not a seed".into());
        let err = CalloutIssuer::from_config(&config).expect_err("refused");
        assert!(!err.to_string().contains("not a seed"), "{err}");
        let user = KeyPair::new_user();
        config.auth_callout_seed = Some(user.seed().expect("seed"));
        assert!(CalloutIssuer::from_config(&config).is_err());
        let account = KeyPair::new_account();
        config.auth_callout_seed = Some(account.seed().expect("seed"));
        let issuer = CalloutIssuer::from_config(&config)
            .expect("valid")
            .expect("set");
        assert_eq!(issuer.public_key(), account.public_key());
        assert!(!format!("{issuer:?}").contains(&account.seed().expect("seed")));
    }

    #[test]
    fn a_device_user_is_signed_by_the_issuer_for_the_account() {
        let account = KeyPair::new_account();
        let config = NatsConfig {
            auth_callout_seed: Some(account.seed().expect("seed")),
            ..NatsConfig::default()
        };
        let issuer = CalloutIssuer::from_config(&config)
            .expect("valid")
            .expect("set");
        let conn = KeyPair::new_user();
        let site = SiteId::parse("site-a").expect("a site id");
        let jwt = device_user(&issuer, &conn.public_key(), &site, &id("door-1")).expect("signed");
        let claims = Claims::<User>::decode(&jwt).expect("verifies");
        assert_eq!(claims.iss, account.public_key());
        assert_eq!(claims.sub, conn.public_key());
        assert_eq!(claims.aud.as_deref(), Some("$G"));
        assert_eq!(
            claims.payload().permissions.allowed_connection_types,
            Some(vec!["MQTT".to_owned()])
        );
    }
}
