//! Realtime push over Socket.IO (socketioxide; the seeds' dashboards use socket.io-client).
//!
//! Handshake (seed 003): the access token comes from `auth.token`, `Authorization: Bearer`,
//! `?token=` or the `token` cookie; a connection without a valid one is refused with a
//! `connect_error`. On connect a socket joins `user:<id>`, for each domain role
//! `role:<role>` and `role:<domain>:<role>`, and with a department `dept:<d>` and
//! `dept:<d>:role:<role>`. Served on the default namespace and on `/notifications`.
//! The department is the token's; a token without one may name it in the handshake
//! (`auth.departmentId` or `?departmentId=`), as seed 003's clients do. Domains may add
//! rooms of their own through [`Realtime::add_room_hook`] (meals: `karyawan:<id>`).
//!
//! A socket is disconnected when its access token expires (the client reconnects with a
//! fresh token) and at once when its user's sessions end (disabled, removed, new password).
//!
//! Events pushed: `notification` (to its user), `device:events` (each stored ingest batch's
//! new events) and `device:state` (online/offline and door state) to `role:access:admin`.
//!
//! Replicas: with `redis_url` set, rooms span every replica through socketioxide's Redis
//! adapter (pub/sub, RESP3): an event emitted on one replica reaches the room's sockets on
//! all of them, and a user's sockets are closed wherever they are. Without Redis the same
//! adapter runs [`ReplicaDriver::Alone`], and rooms are this process's.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{Arc, RwLock},
};

use serde::Serialize;
use serde_json::Value;
use socketioxide::{
    adapter::Emitter,
    extract::{SocketRef, TryData},
    handler::ConnectHandler,
    layer::SocketIoLayer,
    SocketIo,
};
use socketioxide_redis::{
    drivers::{
        redis::{RedisDriver, RedisError},
        ChanItem, Driver, MessageStream,
    },
    CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr,
};

use super::{
    clock::Clock,
    identity::{bearer_or_cookie, Claims, JwtKeys, SessionEpochs},
};

/// How the replicas' Socket.IO servers reach one another: Redis pub/sub, or nobody.
#[derive(Clone)]
pub enum ReplicaDriver {
    /// One replica: rooms are this process's.
    Alone,
    Redis(RedisDriver),
}

impl fmt::Debug for ReplicaDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReplicaDriver::Alone => "Alone",
            ReplicaDriver::Redis(_) => "Redis",
        })
    }
}

impl Driver for ReplicaDriver {
    type Error = RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        match self {
            ReplicaDriver::Alone => Ok(()),
            ReplicaDriver::Redis(driver) => driver.publish(chan, val).await,
        }
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        match self {
            ReplicaDriver::Alone => Ok(MessageStream::new_empty()),
            ReplicaDriver::Redis(driver) => driver.subscribe(chan, size).await,
        }
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        match self {
            ReplicaDriver::Alone => Ok(()),
            ReplicaDriver::Redis(driver) => driver.unsubscribe(chan).await,
        }
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        match self {
            ReplicaDriver::Alone => Ok(1),
            ReplicaDriver::Redis(driver) => driver.num_serv(chan).await,
        }
    }
}

/// The adapter every namespace runs on.
pub type Adapter = CustomRedisAdapter<Emitter, ReplicaDriver>;
/// The Socket.IO server with the platform's adapter.
pub type Io = SocketIo<Adapter>;
/// A connected socket with the platform's adapter.
pub type Socket = SocketRef<Adapter>;

/// The namespaces clients may connect to.
pub const NAMESPACES: [&str; 2] = ["/", "/notifications"];

/// The room of an access-domain admin: device events and state go there.
pub const ACCESS_ADMINS: &str = "role:access:admin";

/// Extra rooms a domain has a connecting socket join, from its verified claims.
pub type RoomHook =
    Arc<dyn Fn(Claims) -> Pin<Box<dyn Future<Output = Vec<String>> + Send>> + Send + Sync>;

/// A handle to push to connected clients (cheap to clone).
#[derive(Clone)]
pub struct Realtime {
    io: Io,
    hooks: Arc<RwLock<Vec<RoomHook>>>,
}

impl fmt::Debug for Realtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Realtime")
    }
}

#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unauthorized")
    }
}

/// The rooms a user with `claims` joins.
pub fn rooms_for(claims: &Claims) -> Vec<String> {
    let mut rooms = vec![format!("user:{}", claims.sub)];
    for (domain, role) in &claims.roles {
        rooms.push(format!("role:{role}"));
        rooms.push(format!("role:{domain}:{role}"));
    }
    if let Some(dept) = claims.dept.as_deref().filter(|d| !d.is_empty()) {
        rooms.push(format!("dept:{dept}"));
        for role in claims.roles.values() {
            rooms.push(format!("dept:{dept}:role:{role}"));
        }
    }
    rooms.sort();
    rooms.dedup();
    rooms
}

/// The access token of a Socket.IO handshake: `auth.token`, else `Authorization: Bearer` or
/// the `token` cookie, else `?token=` (the seeds' clients use each). Domains that serve a
/// namespace of their own authenticate with it too.
pub fn handshake_token(socket: &Socket, auth: Option<&Value>) -> Option<String> {
    if let Some(token) = auth
        .and_then(|a| a.get("token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        return Some(token.trim_start_matches("Bearer ").to_owned());
    }
    let parts = socket.req_parts();
    if let Some(token) = bearer_or_cookie(parts) {
        return Some(token.to_owned());
    }
    parts.uri.query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    })
}

/// The handshake's `departmentId` (`auth.departmentId`, a string or a number, or
/// `?departmentId=`).
fn handshake_department(socket: &Socket, auth: Option<&Value>) -> Option<String> {
    let from_auth = auth
        .and_then(|a| a.get("departmentId"))
        .and_then(|d| match d {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    from_auth
        .or_else(|| {
            socket.req_parts().uri.query().and_then(|q| {
                q.split('&')
                    .find_map(|pair| pair.strip_prefix("departmentId="))
                    .map(str::to_owned)
            })
        })
        .filter(|d| {
            !d.is_empty()
                && d.len() <= 64
                && d.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Realtime {
    /// The Socket.IO layer for the HTTP app and the handle to push with; rooms span the
    /// replicas sharing `redis` (its URL and the deployment's namespace) when it is given.
    pub async fn build(
        jwt: JwtKeys,
        clock: Arc<Clock>,
        sessions: Arc<SessionEpochs>,
        redis: Option<(&str, &str)>,
    ) -> Result<(SocketIoLayer<Adapter>, Realtime), String> {
        let namespace = redis.map_or("gerbang", |(_, namespace)| namespace);
        let driver = match redis {
            None => ReplicaDriver::Alone,
            Some((url, _)) => {
                // The adapter's driver reads pub/sub pushes, which need RESP3.
                let url = if url.contains("protocol=") {
                    url.to_owned()
                } else if url.contains('?') {
                    format!("{url}&protocol=resp3")
                } else {
                    format!("{url}?protocol=resp3")
                };
                let client = redis::Client::open(url).map_err(|e| e.to_string())?;
                ReplicaDriver::Redis(RedisDriver::new(&client).await.map_err(|e| e.to_string())?)
            }
        };
        let adapter = RedisAdapterCtr::new_with_driver(
            driver,
            RedisAdapterConfig::new().with_prefix(format!("{namespace}:socket.io")),
        );
        let (layer, io) = SocketIo::builder()
            .max_payload(64 * 1024)
            .with_adapter::<Adapter>(adapter)
            .build_layer();
        let hooks: Arc<RwLock<Vec<RoomHook>>> = Arc::default();
        for ns in NAMESPACES {
            let connect_hooks = hooks.clone();
            let jwt = jwt.clone();
            let expiry_clock = clock.clone();
            let clock = clock.clone();
            let sessions = sessions.clone();
            let authenticate = move |socket: Socket, TryData(auth): TryData<Value>| {
                let jwt = jwt.clone();
                let clock = clock.clone();
                let sessions = sessions.clone();
                async move {
                    let mut claims = handshake_token(&socket, auth.as_ref().ok())
                        .and_then(|token| jwt.verify(&clock, &token))
                        .ok_or(Refused)?;
                    if claims.dept.as_deref().is_none_or(str::is_empty) {
                        claims.dept = handshake_department(&socket, auth.as_ref().ok());
                    }
                    if !sessions.admits(&claims).await.unwrap_or(false) {
                        return Err(Refused);
                    }
                    socket.extensions.insert(claims);
                    Ok::<(), Refused>(())
                }
            };
            let on_connect = move |socket: Socket| {
                let clock = expiry_clock.clone();
                let hooks = connect_hooks.clone();
                async move {
                    let Some(claims) = socket.extensions.get::<Claims>() else {
                        return;
                    };
                    let mut rooms = rooms_for(&claims);
                    let hooks: Vec<RoomHook> = match hooks.read() {
                        Ok(hooks) => hooks.clone(),
                        Err(poisoned) => poisoned.into_inner().clone(),
                    };
                    for hook in hooks {
                        rooms.extend(hook(claims.clone()).await);
                    }
                    tracing::debug!(user = %claims.sub, ns = socket.ns(), ?rooms, "Socket joined rooms.");
                    socket.join(rooms);
                    // A socket lives no longer than its token: the client reconnects with a
                    // fresh one (after `/api/auth/refresh`).
                    let left = u64::try_from(claims.exp - clock.unix()).unwrap_or(0);
                    tokio::spawn(async move {
                        tokio::time::sleep(std::time::Duration::from_secs(left)).await;
                        let _ = socket.disconnect();
                    });
                }
            };
            let realtime = Realtime {
                io: io.clone(),
                hooks: hooks.clone(),
            };
            realtime.serve_namespace(ns, on_connect.with(authenticate));
        }
        Ok((layer, Realtime { io, hooks }))
    }

    /// Serves namespace `path` with `handler`; its subscriptions to the other replicas are
    /// made in the background (a failure is logged: the namespace then serves this
    /// replica's sockets only).
    pub fn serve_namespace<C, T>(&self, path: &'static str, handler: C)
    where
        C: ConnectHandler<Adapter, T>,
        T: Send + Sync + 'static,
    {
        let init = self.io.ns(path, handler);
        tokio::spawn(async move {
            if let Err(err) = init.await {
                tracing::error!(ns = path, error = %err, "Socket.IO namespace not shared with the other replicas.");
            }
        });
    }

    /// Adds rooms every socket that connects from now on joins (a domain calls this from
    /// its `Domain::spawn`).
    pub fn add_room_hook(&self, hook: RoomHook) {
        match self.hooks.write() {
            Ok(mut hooks) => hooks.push(hook),
            Err(poisoned) => poisoned.into_inner().push(hook),
        }
    }

    /// The Socket.IO server, for a domain that serves a namespace of its own (registered from
    /// its `Domain::spawn`, e.g. `/chatme`).
    pub fn io(&self) -> &Io {
        &self.io
    }

    /// Emits `event` to `rooms` on every namespace. Failures are logged, never raised.
    pub async fn emit<T: Serialize + ?Sized>(&self, rooms: Vec<String>, event: &str, data: &T) {
        for ns in NAMESPACES {
            let Some(operators) = self.io.of(ns) else {
                continue;
            };
            if let Err(err) = operators.to(rooms.clone()).emit(event, data).await {
                tracing::warn!(event, error = %err, "Realtime push failed.");
            }
        }
    }

    /// Emits to one user.
    pub async fn to_user<T: Serialize + ?Sized>(&self, user: uuid::Uuid, event: &str, data: &T) {
        self.emit(vec![format!("user:{user}")], event, data).await;
    }

    /// Emits to the access admins.
    pub async fn to_access_admins<T: Serialize + ?Sized>(&self, event: &str, data: &T) {
        self.emit(vec![ACCESS_ADMINS.to_owned()], event, data).await;
    }

    /// Disconnects every socket of `user` on every namespace (their sessions ended: disabled,
    /// removed or a new password). A reconnect is refused by the handshake's epoch check.
    pub async fn disconnect_user(&self, user: uuid::Uuid) {
        // Every namespace, the domains' own (`/chatme`) included: each joins `user:<id>`.
        for operators in self.io.nsps() {
            if let Err(err) = operators.to(format!("user:{user}")).disconnect().await {
                tracing::warn!(%user, error = %err, "Disconnecting a user's sockets failed.");
            }
        }
    }

    /// Closes every connection (shutdown).
    pub async fn close(&self) {
        self.io.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_follow_roles_and_department() {
        let claims = Claims {
            sub: uuid::Uuid::nil(),
            email: String::new(),
            roles: [("access", "admin"), ("meals", "dapur")]
                .map(|(d, r)| (d.to_owned(), r.to_owned()))
                .into(),
            dept: Some("7".into()),
            sep: 0,
            iat: 0,
            exp: 0,
        };
        let rooms = rooms_for(&claims);
        for room in [
            "user:00000000-0000-0000-0000-000000000000",
            "role:admin",
            "role:access:admin",
            "role:dapur",
            "role:meals:dapur",
            "dept:7",
            "dept:7:role:dapur",
            "dept:7:role:admin",
        ] {
            assert!(rooms.contains(&room.to_owned()), "{room} not in {rooms:?}");
        }
    }
}
