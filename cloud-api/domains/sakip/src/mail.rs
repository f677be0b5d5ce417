//! Email notifications over SMTP (`lettre`, tokio, rustls) for what SAKIP users wait on: an
//! achievement verified or sent back (to whoever entered it), an evaluation completed (to the
//! OPD's admins), a sync that failed for good (to the super_admins). Handlers only put a mail
//! on a bounded queue ([`Mailer::send`] never waits); one background task delivers it. Off
//! when `[sakip] smtp_host` or `smtp_from` is unset; a full queue or a failed delivery is
//! logged, never answered to the request.

use std::{sync::Mutex, time::Duration};

use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use platform::{db::entities::user, identity, state::AppState};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{config::SakipConfig, entities::user_opd, DOMAIN};

/// Mails waiting for delivery, at most.
const QUEUE: usize = 1_000;

/// One notification.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// The queue's sending end, and (until the worker takes it) the transport and receiving end.
pub struct Mailer {
    tx: Option<mpsc::Sender<Mail>>,
    worker: Mutex<Option<(Transport, mpsc::Receiver<Mail>)>>,
}

struct Transport {
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("enabled", &self.tx.is_some())
            .finish()
    }
}

impl Mailer {
    /// The mailer `config` describes; off without a host and a sender. A bad sender address
    /// or TLS setting is a configuration error.
    pub fn new(config: &SakipConfig) -> Result<Self, String> {
        let (Some(host), Some(from)) = (
            config.smtp_host.as_deref().filter(|h| !h.trim().is_empty()),
            config.smtp_from.as_deref(),
        ) else {
            return Ok(Self {
                tx: None,
                worker: Mutex::new(None),
            });
        };
        let from: Mailbox = from.parse().map_err(|e| format!("sakip.smtp_from: {e}"))?;
        let tls = match config.smtp_tls.as_str() {
            "none" => Tls::None,
            "starttls" | "tls" => {
                let params = TlsParameters::new(host.to_owned())
                    .map_err(|e| format!("sakip.smtp_tls: {e}"))?;
                if config.smtp_tls == "tls" {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
            other => return Err(format!("sakip.smtp_tls: {other} (none, starttls or tls)")),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.smtp_port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&config.smtp_username, &config.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        Ok(Self {
            tx: Some(tx),
            worker: Mutex::new(Some((
                Transport {
                    smtp: builder.build(),
                    from,
                },
                rx,
            ))),
        })
    }

    /// Is SMTP configured?
    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues `mail` for delivery; returns at once.
    pub fn send(&self, mail: Mail) {
        let Some(tx) = &self.tx else { return };
        if mail.to.is_empty() {
            return;
        }
        if let Err(err) = tx.try_send(mail) {
            tracing::warn!(error = %err, "SAKIP mail queue full or closed; a notification is dropped.");
        }
    }

    /// The delivery task (once per cloud); ends on `shutdown`.
    pub fn spawn(&self, shutdown: CancellationToken) {
        let taken = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some((transport, mut rx)) = taken else {
            return;
        };
        tokio::spawn(async move {
            loop {
                let mail = tokio::select! {
                    () = shutdown.cancelled() => return,
                    mail = rx.recv() => match mail {
                        Some(mail) => mail,
                        None => return,
                    },
                };
                transport.deliver(mail).await;
            }
        });
    }
}

impl Transport {
    async fn deliver(&self, mail: Mail) {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN);
        let mut any = false;
        for to in &mail.to {
            match to.parse::<Mailbox>() {
                Ok(mailbox) => {
                    builder = builder.to(mailbox);
                    any = true;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "SAKIP mail: a recipient address is not valid.")
                }
            }
        }
        if !any {
            return;
        }
        let message = match builder.body(mail.body) {
            Ok(message) => message,
            Err(err) => {
                tracing::warn!(error = %err, "SAKIP mail could not be built.");
                return;
            }
        };
        if let Err(err) = self.smtp.send(message).await {
            tracing::warn!(error = %err, subject = %mail.subject, "SAKIP mail not delivered.");
        }
    }
}

async fn emails(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> Vec<String> {
    let found = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .filter(user::Column::Disabled.eq(false))
        .all(db)
        .await;
    match found {
        Ok(users) => users.into_iter().filter_map(|u| u.email).collect(),
        Err(err) => {
            tracing::warn!(error = %err, "SAKIP mail: could not look up recipients.");
            Vec::new()
        }
    }
}

/// The emails of `opd`'s admin_opd users.
async fn opd_admins(state: &AppState, opd: i32) -> Vec<String> {
    let ids = match user_opd::Entity::find()
        .filter(user_opd::Column::OpdId.eq(opd))
        .all(&state.db)
        .await
    {
        Ok(rows) => rows.into_iter().map(|r| r.user_id).collect(),
        Err(err) => {
            tracing::warn!(error = %err, "SAKIP mail: could not look up the OPD's admins.");
            return Vec::new();
        }
    };
    emails(&state.db, ids).await
}

/// The emails of every SAKIP super_admin.
async fn super_admins(state: &AppState) -> Vec<String> {
    let users = user::Entity::find()
        .filter(user::Column::Roles.contains("super_admin"))
        .filter(user::Column::Disabled.eq(false))
        .all(&state.db)
        .await
        .unwrap_or_default();
    users
        .into_iter()
        .filter(|u| {
            identity::parse_roles(&u.roles)
                .get(DOMAIN)
                .is_some_and(|r| r == "super_admin")
        })
        .filter_map(|u| u.email)
        .collect()
}

/// Who a notification goes to, looked up off the request path.
#[derive(Debug, Clone, Copy)]
pub enum To {
    /// One user (whoever entered an achievement).
    User(Uuid),
    /// The admin_opd users of an OPD.
    OpdAdmins(i32),
    /// Every SAKIP super_admin.
    SuperAdmins,
}

/// Notifies `to` when SMTP is configured: the recipients are looked up and the mail queued by
/// a task of its own, so the caller never waits.
pub fn notify(state: &AppState, to: To, subject: String, body: String) {
    if !state.domain::<Mailer>().enabled() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let to = match to {
            To::User(id) => emails(&state.db, vec![id]).await,
            To::OpdAdmins(opd) => opd_admins(&state, opd).await,
            To::SuperAdmins => super_admins(&state).await,
        };
        state.domain::<Mailer>().send(Mail { to, subject, body });
    });
}
