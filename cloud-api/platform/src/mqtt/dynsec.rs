//! Mosquitto's dynamic-security plugin (`mqtt.dynamic_security`), driven over the cloud's own
//! MQTT connection: commands go to `$CONTROL/dynamic-security/v1`, and the plugin answers
//! every subscriber of `…/response`, so each request waits for its own `correlationData`.
//!
//! A door gets a broker client (username its device id, password its token, known in
//! plaintext only at enrolment) and a role of its own that allows exactly what the NATS
//! auth callout allows: publish its `events`, `state` and `acks`, subscribe to and receive
//! its `commands`, `gallery` and `receipts`. Each of those lists ends with a lowest-priority
//! deny of `#`, so nothing else falls through to the broker's default access or to a group
//! the operator gives every client. The client id is not pinned: the plugin can only pin
//! one exact id, and a door's doctor connects beside its daemon under `{device}-doctor-…`
//! (a door using another's client id can disconnect it, never read its messages: Mosquitto
//! checks what it delivers against the receiver's username).

use std::{collections::HashMap, sync::Mutex, time::Duration};

use protocol::{Channel, DeviceId, SiteId, Topic};
use rumqttc::{AsyncClient, QoS};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// Where commands go.
pub const CONTROL_TOPIC: &str = "$CONTROL/dynamic-security/v1";

/// Where the plugin publishes the answers (to every subscriber).
pub const RESPONSE_TOPIC: &str = "$CONTROL/dynamic-security/v1/response";

/// How long a request waits for the broker's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The `textname` marking the broker clients Gerbang made for its doors: a client of the same
/// name made by someone else (the cloud's own user, say) is never replaced or deleted.
const DOOR_TEXTNAME: &str = "Gerbang door";

/// Why the broker did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DynsecError {
    #[error("the dynamic-security request could not be sent: {0}")]
    Send(String),
    #[error("the broker did not answer {command} within {} s", ANSWER_TIMEOUT.as_secs())]
    Timeout { command: &'static str },
    #[error("the broker refused {command}: {error}")]
    Refused { command: String, error: String },
    #[error("the broker already has a client {0} that Gerbang did not create")]
    Foreign(String),
}

/// One answer of the plugin.
#[derive(Debug, Clone, Deserialize)]
struct Answer {
    command: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default, rename = "correlationData")]
    correlation: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Answers {
    responses: Vec<Answer>,
}

/// The cloud's dynamic-security administrator: requests in flight, keyed by the id their
/// commands' `correlationData` starts with.
#[derive(Debug)]
pub struct DynamicSecurity {
    client: AsyncClient,
    waiting: Mutex<HashMap<String, oneshot::Sender<Vec<Answer>>>>,
}

/// The broker's role for `device`.
fn role_name(device: &DeviceId) -> String {
    format!("gerbang-door-{device}")
}

/// The ACLs of a door's role (see the module documentation).
fn door_acls(site: &SiteId, device: &DeviceId) -> Vec<Value> {
    let topic = |channel| Topic::new(site, device, channel).to_string();
    let allow = |acltype: &str, channel| json!({"acltype": acltype, "topic": topic(channel), "allow": true, "priority": 1});
    let deny_rest =
        |acltype: &str| json!({"acltype": acltype, "topic": "#", "allow": false, "priority": 0});
    let mut acls: Vec<Value> = Channel::FROM_DEVICE
        .into_iter()
        .map(|channel| allow("publishClientSend", channel))
        .collect();
    acls.push(deny_rest("publishClientSend"));
    for acltype in ["subscribeLiteral", "publishClientReceive"] {
        acls.extend(
            Channel::TO_DEVICE
                .into_iter()
                .map(|channel| allow(acltype, channel)),
        );
    }
    acls.push(deny_rest("subscribePattern"));
    acls.push(deny_rest("publishClientReceive"));
    acls
}

impl DynamicSecurity {
    /// Administers the broker through `client`, whose event loop hands this every message on
    /// [`RESPONSE_TOPIC`] ([`DynamicSecurity::answered`]).
    pub fn new(client: AsyncClient) -> Self {
        Self {
            client,
            waiting: Mutex::default(),
        }
    }

    /// Gives `device` of `site` a broker client with `token` as its password and its own
    /// role, replacing the ones an earlier enrolment made (a re-enrolment is how a door's
    /// token is rotated: the old password stops working here).
    pub async fn admit_door(
        &self,
        site: &SiteId,
        device: &DeviceId,
        token: &str,
    ) -> Result<(), DynsecError> {
        self.check_ours(device).await?;
        let role = role_name(device);
        let answers = self
            .request(
                "createClient",
                vec![
                    json!({"command": "deleteClient", "username": device.as_str()}),
                    json!({"command": "deleteRole", "rolename": role}),
                    json!({"command": "createRole", "rolename": role,
                           "textname": DOOR_TEXTNAME, "acls": door_acls(site, device)}),
                    json!({"command": "createClient", "username": device.as_str(),
                           "password": token, "textname": DOOR_TEXTNAME,
                           "roles": [{"rolename": role, "priority": 0}]}),
                ],
            )
            .await?;
        accept(answers, &["Client not found", "Role not found"])
    }

    /// Deletes `device`'s broker client and role (disconnecting it), if they are there.
    pub async fn remove_door(&self, device: &DeviceId) -> Result<(), DynsecError> {
        self.check_ours(device).await?;
        let answers = self
            .request(
                "deleteClient",
                vec![
                    json!({"command": "deleteClient", "username": device.as_str()}),
                    json!({"command": "deleteRole", "rolename": role_name(device)}),
                ],
            )
            .await?;
        accept(answers, &["Client not found", "Role not found"])
    }

    /// Refuses to touch a client of the door's name that Gerbang did not make.
    async fn check_ours(&self, device: &DeviceId) -> Result<(), DynsecError> {
        let answers = self
            .request(
                "getClient",
                vec![json!({"command": "getClient", "username": device.as_str()})],
            )
            .await?;
        let Some(answer) = answers.into_iter().next() else {
            return Ok(());
        };
        match answer.error.as_deref() {
            Some("Client not found") => Ok(()),
            Some(error) => Err(DynsecError::Refused {
                command: answer.command,
                error: error.to_owned(),
            }),
            None => {
                let textname = answer
                    .data
                    .as_ref()
                    .and_then(|data| data["client"]["textname"].as_str());
                if textname == Some(DOOR_TEXTNAME) {
                    Ok(())
                } else {
                    Err(DynsecError::Foreign(device.to_string()))
                }
            }
        }
    }

    /// Sends `commands` in one message and waits for their answers (in order). `what` names
    /// the request in errors.
    async fn request(
        &self,
        what: &'static str,
        mut commands: Vec<Value>,
    ) -> Result<Vec<Answer>, DynsecError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        for (i, command) in commands.iter_mut().enumerate() {
            command["correlationData"] = json!(format!("{id}:{i}"));
        }
        let (reply, answer) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id.clone(), reply);
        // The payload carries passwords: it is never logged.
        let payload = json!({ "commands": commands }).to_string();
        let sent = self
            .client
            .publish(CONTROL_TOPIC, QoS::AtLeastOnce, false, payload)
            .await;
        let outcome = match sent {
            Err(error) => Err(DynsecError::Send(error.to_string())),
            Ok(()) => match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
                Ok(Ok(answers)) => Ok(answers),
                _ => Err(DynsecError::Timeout { command: what }),
            },
        };
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&id);
        outcome
    }

    /// Hands a message from [`RESPONSE_TOPIC`] to the request it answers (other replicas'
    /// answers reach every replica, and are ignored).
    pub fn answered(&self, payload: &[u8]) {
        let Ok(Answers { responses }) = serde_json::from_slice::<Answers>(payload) else {
            tracing::warn!("A dynamic-security answer that is not JSON; ignored.");
            return;
        };
        let mut by_request: HashMap<String, Vec<(usize, Answer)>> = HashMap::new();
        for answer in responses {
            let Some((id, index)) = answer
                .correlation
                .as_deref()
                .and_then(|c| c.split_once(':'))
                .and_then(|(id, i)| Some((id.to_owned(), i.parse::<usize>().ok()?)))
            else {
                continue;
            };
            by_request.entry(id).or_default().push((index, answer));
        }
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (id, mut answers) in by_request {
            if let Some(reply) = waiting.remove(&id) {
                answers.sort_by_key(|(index, _)| *index);
                let _ = reply.send(answers.into_iter().map(|(_, a)| a).collect());
            }
        }
    }
}

/// Every answer succeeded, or failed only with one of `harmless`.
fn accept(answers: Vec<Answer>, harmless: &[&str]) -> Result<(), DynsecError> {
    for answer in answers {
        if let Some(error) = answer.error {
            if !harmless.contains(&error.as_str()) {
                return Err(DynsecError::Refused {
                    command: answer.command,
                    error,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_door_role_allows_its_own_topics_and_denies_the_rest() {
        let site = SiteId::parse("site-a").expect("a site id");
        let device = DeviceId::parse("door-1").expect("a device id");
        let acls = door_acls(&site, &device);
        let listed: Vec<(String, String, bool)> = acls
            .iter()
            .map(|acl| {
                (
                    acl["acltype"].as_str().unwrap_or_default().to_owned(),
                    acl["topic"].as_str().unwrap_or_default().to_owned(),
                    acl["allow"].as_bool().unwrap_or_default(),
                )
            })
            .collect();
        let own = |kind: &str, channel: &str| {
            (
                kind.to_owned(),
                format!("gerbang/site-a/door-1/{channel}"),
                true,
            )
        };
        let deny = |kind: &str| (kind.to_owned(), "#".to_owned(), false);
        assert_eq!(
            listed,
            [
                own("publishClientSend", "events"),
                own("publishClientSend", "state"),
                own("publishClientSend", "acks"),
                deny("publishClientSend"),
                own("subscribeLiteral", "commands"),
                own("subscribeLiteral", "gallery"),
                own("subscribeLiteral", "receipts"),
                own("publishClientReceive", "commands"),
                own("publishClientReceive", "gallery"),
                own("publishClientReceive", "receipts"),
                deny("subscribePattern"),
                deny("publishClientReceive"),
            ]
        );
        // The denials rank below the allowances (the plugin checks the highest first).
        for acl in &acls {
            let expected = if acl["allow"] == true { 1 } else { 0 };
            assert_eq!(acl["priority"], expected, "{acl}");
        }
    }

    #[tokio::test]
    async fn answers_reach_their_request_only() {
        let (client, _eventloop) =
            AsyncClient::new(rumqttc::MqttOptions::new("dynsec-unit", "127.0.0.1", 1), 10);
        let dynsec = DynamicSecurity::new(client);
        let (reply, answer) = oneshot::channel();
        dynsec
            .waiting
            .lock()
            .expect("lock")
            .insert("abc".into(), reply);
        dynsec.answered(
            br#"{"responses":[
                {"command":"createClient","error":"Client already exists","correlationData":"abc:1"},
                {"command":"deleteClient","correlationData":"abc:0"},
                {"command":"getClient","correlationData":"other:0"}]}"#,
        );
        let answers = answer.await.expect("answered");
        let commands: Vec<&str> = answers.iter().map(|a| a.command.as_str()).collect();
        assert_eq!(commands, ["deleteClient", "createClient"]);
        let refused = accept(answers, &["Client not found"]).expect_err("refused");
        assert!(
            refused.to_string().contains("Client already exists"),
            "{refused}"
        );
        assert!(dynsec.waiting.lock().expect("lock").is_empty());
    }
}
