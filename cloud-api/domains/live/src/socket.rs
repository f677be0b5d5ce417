//! The ChatMe Socket.IO namespace `/chatme` (seed 004), registered on the platform's server.
//!
//! Handshake: a ChatMe or platform access token in `auth.token`, `Authorization: Bearer`,
//! the `token` cookie or `?token=`; without a valid one the connection is refused. Each
//! socket joins `user:<id>`.
//!
//! Events, to the letter of the seed: `user:join`; `live:join`, `live:leave`,
//! `live:message`, `live:gift` → `live:user-joined`, `live:user-left`, `live:viewer-count`,
//! `live:new-message`, `live:gift-received` to that live room only; `party:join`,
//! `party:leave`, `party:message` → `party:user-joined`, `party:user-left`,
//! `party:new-message`; `chat:send` → `chat:receive` to the recipient only. A room is named
//! by `{roomId}` (or a bare string); every answer goes to the event's acknowledgement
//! callback when the client gives one (`{ok: true, …}` or `{ok: false, status, message}`).
//! Added beyond the seed: `live:ended` to the room when its session ends.
//!
//! Limits per socket: messages of at most [`MAX_MESSAGE_CHARS`] characters and a token
//! bucket of events (`governor`). `live:gift` is `POST /gifts/send` (the same
//! [`wallet::send_gift`] transaction) with the room's host as receiver. Viewer counts are
//! distinct users other than the host and follow joins, leaves and dropped connections; each
//! viewer is recorded once per session (its `total_viewers`). A host with a socket
//! connected is present on their open session ([`crate::sweeper`] ends it once they have
//! been absent for `host_grace_ms`). When a session ends its room hears `live:ended` and
//! is emptied: its sockets leave it and a `live:message` into it is refused (404).

use std::{
    collections::HashSet,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use platform::{
    i18n::{Lang, Msg},
    identity::{self, Claims},
    realtime::{Adapter, Socket},
    sql::stmt,
    state::AppState,
};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use socketioxide::{
    extract::{AckSender, TryData},
    handler::ConnectHandler,
};
use uuid::Uuid;

use crate::{
    accounts::ensure_account,
    chat,
    error::LiveError,
    hub::LiveRoom,
    periods::rfc3339,
    sessions::{host_seen, open_by_room, open_room_of},
    wallet::{self, GiftRef, SendGift},
    LiveRuntime,
};

/// The namespace `io("https://host/chatme")` connects to.
pub const NAMESPACE: &str = "/chatme";

/// The longest chat, live or party message.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// What a connected socket carries: who it is and what it joined.
#[derive(Debug)]
struct Peer {
    user: Uuid,
    name: String,
    lang: Lang,
    limiter: DefaultDirectRateLimiter,
    /// Live and party rooms this socket is in (left on disconnect).
    rooms: Mutex<HashSet<String>>,
}

impl Peer {
    fn say(&self, msg: &Msg) -> String {
        match self.lang {
            Lang::Id => msg.id.to_string(),
            Lang::En => msg.en.to_string(),
        }
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An event refused: the acknowledgement says why.
struct Refusal {
    status: u16,
    msg: Msg,
}

impl Refusal {
    fn new(status: u16, id: &'static str, en: &'static str) -> Refusal {
        Refusal {
            status,
            msg: Msg::new(id, en),
        }
    }
}

impl From<LiveError> for Refusal {
    fn from(err: LiveError) -> Self {
        let status = match &err {
            LiveError::Invalid(_) => 400,
            LiveError::Forbidden(_) => 403,
            LiveError::NotFound(_) => 404,
            LiveError::Conflict(_) => 409,
            LiveError::Unprocessable(_) => 422,
            LiveError::InsufficientBalance => 402,
            LiveError::Service(_) | LiveError::Db(_) => 500,
        };
        let msg = match err {
            LiveError::Invalid(m)
            | LiveError::Forbidden(m)
            | LiveError::NotFound(m)
            | LiveError::Conflict(m)
            | LiveError::Unprocessable(m) => m,
            LiveError::InsufficientBalance => {
                Msg::new("Saldo koin tidak cukup", "Your coin balance is not enough")
            }
            other => {
                tracing::error!(error = %other, "ChatMe socket event failed.");
                Msg::new("Terjadi kesalahan server", "Internal server error")
            }
        };
        Refusal { status, msg }
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(err: sea_orm::DbErr) -> Self {
        LiveError::from(err).into()
    }
}

type Answer = Result<Value, Refusal>;

#[derive(Debug)]
struct Unauthorized;

impl std::fmt::Display for Unauthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unauthorized")
    }
}

async fn authenticate(
    state: &AppState,
    socket: &Socket,
    auth: Option<&Value>,
) -> Result<(), Unauthorized> {
    let claims: Claims = platform::realtime::handshake_token(socket, auth)
        .and_then(|token| state.jwt.verify(&state.clock, &token))
        .ok_or(Unauthorized)?;
    if !state.sessions.admits(&claims).await.unwrap_or(false) {
        return Err(Unauthorized);
    }
    let user = identity::find_by_id(&state.db, claims.sub)
        .await
        .ok()
        .flatten()
        .filter(|u| !u.disabled)
        .ok_or(Unauthorized)?;
    ensure_account(&state.db, user.id, state.clock.unix())
        .await
        .map_err(|_| Unauthorized)?;
    let runtime = state.domain::<LiveRuntime>();
    let lang = socket
        .req_parts()
        .headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::Id, Lang::from_header);
    socket.extensions.insert(Arc::new(Peer {
        user: user.id,
        name: user.name,
        lang,
        limiter: RateLimiter::direct(runtime.socket_quota),
        rooms: Mutex::default(),
    }));
    // A socket lives no longer than its token.
    let left = u64::try_from(claims.exp - state.clock.unix()).unwrap_or(0);
    let expiring = socket.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(left)).await;
        let _ = expiring.disconnect();
    });
    Ok(())
}

/// The token bucket of a socket's events: `per_second` sustained, `burst` at once.
pub fn quota(per_second: u32, burst: u32) -> Quota {
    let per_second = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_second).allow_burst(burst)
}

/// Registers `/chatme` on the platform's Socket.IO server.
pub fn register(state: &AppState) {
    let auth_state = state.clone();
    // The handlers are wired in the middleware: socketioxide sends the client its `connect`
    // before it runs the connect handler, and an event emitted right after `connect` must
    // find them.
    let authenticate = move |socket: Socket, TryData(auth): TryData<Value>| {
        let state = auth_state.clone();
        async move {
            authenticate(&state, &socket, auth.as_ref().ok()).await?;
            connected(state, socket);
            Ok::<(), Unauthorized>(())
        }
    };
    let on_connect = |socket: Socket| async move {
        tracing::debug!(sid = %socket.id, "ChatMe socket connected.");
    };
    state
        .realtime
        .serve_namespace(NAMESPACE, on_connect.with(authenticate));
}

fn peer(socket: &Socket) -> Option<Arc<Peer>> {
    socket.extensions.get::<Arc<Peer>>()
}

/// Wires one event: rate limit, then `handle`, then the acknowledgement.
fn on<F, Fut>(socket: &Socket, state: &AppState, event: &'static str, handle: F)
where
    F: Fn(AppState, Socket, Arc<Peer>, Value) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Answer> + Send + 'static,
{
    let state = state.clone();
    socket.on(
        event,
        move |socket: Socket, TryData(data): TryData<Value>, ack: AckSender<Adapter>| {
            let state = state.clone();
            let handle = handle.clone();
            async move {
                let Some(peer) = peer(&socket) else {
                    return;
                };
                let answer = if peer.limiter.check().is_err() {
                    Err(Refusal::new(
                        429,
                        "Terlalu banyak pesan, coba lagi sebentar",
                        "Too many events, slow down",
                    ))
                } else {
                    handle(state, socket.clone(), peer.clone(), data.unwrap_or(Value::Null)).await
                };
                let body = match answer {
                    Ok(mut value) => {
                        if let Some(map) = value.as_object_mut() {
                            map.insert("ok".into(), Value::Bool(true));
                        }
                        value
                    }
                    Err(refusal) => {
                        json!({"ok": false, "status": refusal.status, "message": peer.say(&refusal.msg)})
                    }
                };
                let _ = ack.send(&body);
            }
        },
    );
}

fn connected(state: AppState, socket: Socket) {
    let Some(me) = peer(&socket) else {
        return;
    };
    socket.join(format!("user:{}", me.user));
    state.domain::<LiveRuntime>().hub.connect(me.user);
    mark_present(&state, me.user);
    on(&socket, &state, "user:join", |_, _, peer, _| async move {
        Ok(json!({ "userId": peer.user, "name": peer.name }))
    });
    on(&socket, &state, "live:join", live_join);
    on(
        &socket,
        &state,
        "live:leave",
        |state, socket, peer, data| async move {
            let room = live_room_name(&data)?;
            leave(&state, &socket, &peer, &room).await;
            Ok(json!({ "roomId": room }))
        },
    );
    on(
        &socket,
        &state,
        "live:message",
        |state, socket, peer, data| async move {
            let room = live_room_name(&data)?;
            if !peer.rooms().contains(&room) && open_by_room(&state.db, &room).await?.is_none() {
                // Never joined or emptied when its session ended: say it is over.
                return Err(live_not_found());
            }
            let message = message_text(&data)?;
            let event = json!({
                "roomId": room,
                "userId": peer.user,
                "name": peer.name,
                "message": message,
                "createdAt": rfc3339(unix_now()),
            });
            broadcast_from(&socket, &peer, &room, "live:new-message", &event).await?;
            Ok(json!({ "roomId": room }))
        },
    );
    on(&socket, &state, "live:gift", live_gift);
    on(
        &socket,
        &state,
        "party:join",
        |state, socket, peer, data| async move {
            let room = party_room(&data)?;
            join(&state, &socket, &peer, &room, None).await;
            Ok(json!({ "roomId": room_id_of(&room) }))
        },
    );
    on(
        &socket,
        &state,
        "party:leave",
        |state, socket, peer, data| async move {
            let room = party_room(&data)?;
            leave(&state, &socket, &peer, &room).await;
            Ok(json!({ "roomId": room_id_of(&room) }))
        },
    );
    on(
        &socket,
        &state,
        "party:message",
        |_, socket, peer, data| async move {
            let room = party_room(&data)?;
            let message = message_text(&data)?;
            let event = json!({
                "roomId": room_id_of(&room),
                "userId": peer.user,
                "name": peer.name,
                "message": message,
                "createdAt": rfc3339(unix_now()),
            });
            broadcast_from(&socket, &peer, &room, "party:new-message", &event).await?;
            Ok(json!({ "roomId": room_id_of(&room) }))
        },
    );
    on(
        &socket,
        &state,
        "chat:send",
        |state, socket, peer, data| async move {
            let to = ["to", "receiverId", "receiver_id", "toUserId", "userId"]
                .iter()
                .find_map(|k| data.get(*k).and_then(Value::as_str))
                .and_then(|s| s.parse::<Uuid>().ok())
                .ok_or_else(|| {
                    Refusal::new(
                        400,
                        "Penerima (to) harus diisi",
                        "A recipient (to) is required",
                    )
                })?;
            let message = message_text(&data)?;
            let stored = chat::store(&state, peer.user, to, &message).await?;
            let mut event = stored.clone();
            if let Some(map) = event.as_object_mut() {
                map.insert("senderName".into(), Value::String(peer.name.clone()));
            }
            // To the recipient's sockets only (not to the sender's other tabs).
            let _ = socket
                .within(format!("user:{to}"))
                .emit("chat:receive", &event)
                .await;
            Ok(json!({ "message": stored }))
        },
    );
    socket.on_disconnect(move |socket: Socket| {
        let state = state.clone();
        async move {
            let Some(peer) = peer(&socket) else {
                return;
            };
            let rooms: Vec<String> = peer.rooms().drain().collect();
            for room in rooms {
                left_room(&state, &socket, &peer, &room).await;
            }
            if state.domain::<LiveRuntime>().hub.disconnect(peer.user) {
                // The grace period of a host's open session counts from now.
                mark_present(&state, peer.user);
            }
        }
    });
}

/// Records (in the background) that `user`, if they host an open session, is present now.
fn mark_present(state: &AppState, user: Uuid) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(err) = host_seen(&state.db, user, crate::unix_ms(&state.clock)).await {
            tracing::warn!(%user, error = %err, "Recording a host's presence failed.");
        }
    });
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The `roomId` of an event: `{roomId}`, `{room_id}` or a bare string; letters, digits,
/// `_` and `-` only.
fn room_arg(data: &Value) -> Result<String, Refusal> {
    let raw = match data {
        Value::String(s) => Some(s.as_str()),
        other => ["roomId", "room_id", "partyId"]
            .iter()
            .find_map(|k| other.get(*k).and_then(Value::as_str)),
    };
    raw.map(str::trim)
        .filter(|r| {
            !r.is_empty()
                && r.len() <= 64
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .map(str::to_owned)
        .ok_or_else(|| {
            Refusal::new(
                400,
                "roomId harus diisi (huruf, angka, _ atau -)",
                "A roomId (letters, digits, _ or -) is required",
            )
        })
}

/// A live room's Socket.IO room is its session's `room_id` (`live_…`).
fn live_room_name(data: &Value) -> Result<String, Refusal> {
    room_arg(data)
}

/// A party room is `party:<roomId>`.
fn party_room(data: &Value) -> Result<String, Refusal> {
    room_arg(data).map(|r| format!("party:{r}"))
}

fn room_id_of(room: &str) -> &str {
    room.strip_prefix("party:").unwrap_or(room)
}

fn message_text(data: &Value) -> Result<String, Refusal> {
    let text = ["message", "text", "content"]
        .iter()
        .find_map(|k| data.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .unwrap_or_default();
    if text.is_empty() || text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Refusal::new(
            400,
            "Pesan harus diisi (maks. 500 karakter)",
            "A message is required (at most 500 characters)",
        ));
    }
    Ok(text.to_owned())
}

fn live_not_found() -> Refusal {
    Refusal::new(
        404,
        "Live tidak ditemukan atau sudah berakhir",
        "This live session does not exist or has ended",
    )
}

fn not_in_room() -> Refusal {
    Refusal::new(
        403,
        "Anda belum bergabung ke room ini",
        "You have not joined this room",
    )
}

/// Emits to everyone in `room` (the sender too) if the sender is in it.
async fn broadcast_from(
    socket: &Socket,
    peer: &Peer,
    room: &str,
    event: &'static str,
    data: &Value,
) -> Result<(), Refusal> {
    if !peer.rooms().contains(room) {
        return Err(not_in_room());
    }
    if let Err(err) = socket.within(room.to_owned()).emit(event, data).await {
        tracing::warn!(event, %room, error = %err, "ChatMe push failed.");
    }
    Ok(())
}

async fn emit_to_room(state: &AppState, room: &str, event: &str, data: &Value) {
    if let Some(ns) = state.realtime.io().of(NAMESPACE) {
        if let Err(err) = ns.to(room.to_owned()).emit(event, data).await {
            tracing::warn!(event, %room, error = %err, "ChatMe push failed.");
        }
    }
}

async fn live_join(state: AppState, socket: Socket, peer: Arc<Peer>, data: Value) -> Answer {
    let room = live_room_name(&data)?;
    let (session, host) = open_by_room(&state.db, &room)
        .await?
        .ok_or_else(live_not_found)?;
    let viewers = join(
        &state,
        &socket,
        &peer,
        &room,
        Some(LiveRoom { session, host }),
    )
    .await;
    if peer.user != host {
        state
            .db
            .execute(stmt(
                state.db.get_database_backend(),
                "INSERT INTO live_session_viewers (session_id, user_id, joined_at) \
                 VALUES (?, ?, ?) ON CONFLICT (session_id, user_id) DO NOTHING",
                vec![session.into(), peer.user.into(), state.clock.unix().into()],
            ))
            .await?;
    }
    Ok(json!({ "roomId": room, "sessionId": session, "hostId": host, "viewers": viewers }))
}

/// Joins `room` (once per socket); announces a new user and the viewer count. Answers
/// the count.
async fn join(
    state: &AppState,
    socket: &Socket,
    peer: &Peer,
    room: &str,
    live: Option<LiveRoom>,
) -> usize {
    let hub = &state.domain::<LiveRuntime>().hub;
    if !peer.rooms().insert(room.to_owned()) {
        return hub.viewers(room);
    }
    socket.join(room.to_owned());
    let joined = hub.join(room, live, peer.user);
    let (joined_event, count_event, id) = match live {
        Some(_) => ("live:user-joined", Some("live:viewer-count"), room),
        None => ("party:user-joined", None, room_id_of(room)),
    };
    if joined.first {
        let event = json!({
            "roomId": id,
            "userId": peer.user,
            "name": peer.name,
            "isHost": live.is_some_and(|l| l.host == peer.user),
        });
        emit_to_room(state, room, joined_event, &event).await;
    }
    if let Some(count_event) = count_event {
        let event = json!({ "roomId": id, "count": joined.viewers, "viewers": joined.viewers });
        emit_to_room(state, room, count_event, &event).await;
    }
    joined.viewers
}

/// Leaves `room` on request.
async fn leave(state: &AppState, socket: &Socket, peer: &Peer, room: &str) {
    if !peer.rooms().remove(room) {
        return;
    }
    socket.leave(room.to_owned());
    left_room(state, socket, peer, room).await;
}

/// After a socket left `room` (on request or by disconnecting): the announcements.
async fn left_room(state: &AppState, _socket: &Socket, peer: &Peer, room: &str) {
    let runtime = state.domain::<LiveRuntime>();
    let Some(left) = runtime.hub.leave(room, peer.user) else {
        return;
    };
    let live = !room.starts_with("party:");
    let id = room_id_of(room);
    if left.last {
        let event = json!({ "roomId": id, "userId": peer.user, "name": peer.name });
        let name = if live {
            "live:user-left"
        } else {
            "party:user-left"
        };
        emit_to_room(state, room, name, &event).await;
    }
    if live {
        let event = json!({ "roomId": id, "count": left.viewers, "viewers": left.viewers });
        emit_to_room(state, room, "live:viewer-count", &event).await;
    }
}

async fn live_gift(state: AppState, _socket: Socket, peer: Arc<Peer>, data: Value) -> Answer {
    let room = live_room_name(&data)?;
    if !peer.rooms().contains(&room) {
        return Err(not_in_room());
    }
    let (session, host) = open_by_room(&state.db, &room)
        .await?
        .ok_or_else(live_not_found)?;
    let gift = match (
        ["gift_id", "giftId"]
            .iter()
            .find_map(|k| data.get(*k).and_then(Value::as_str)),
        ["gift_name", "giftName"]
            .iter()
            .find_map(|k| data.get(*k).and_then(Value::as_str)),
    ) {
        (Some(id), _) => GiftRef::Id(
            id.parse()
                .map_err(|_| Refusal::new(400, "gift_id tidak valid", "Invalid gift_id"))?,
        ),
        (None, Some(name)) if !name.trim().is_empty() => GiftRef::Name(name.to_owned()),
        _ => {
            return Err(Refusal::new(
                400,
                "gift_id atau gift_name harus diisi",
                "gift_id or gift_name is required",
            ))
        }
    };
    let quantity = match data.get("quantity") {
        None | Some(Value::Null) => 1,
        Some(q) => q.as_i64().ok_or_else(|| {
            Refusal::new(
                400,
                "quantity harus bilangan bulat",
                "quantity must be a whole number",
            )
        })?,
    };
    let idempotency_key = ["idempotencyKey", "idempotency_key"]
        .iter()
        .find_map(|k| data.get(*k).and_then(Value::as_str))
        .map(|k| k.trim().to_owned());
    let sent = wallet::send_gift(
        &state.db,
        state.domain::<LiveRuntime>().host_share_bp,
        SendGift {
            sender: peer.user,
            receiver: host,
            gift,
            quantity,
            live_session_id: Some(session),
            idempotency_key,
        },
        state.clock.unix(),
    )
    .await?;
    if !sent.replayed {
        announce_gift(&state, &sent.receipt, Some((&room, &peer.name))).await;
    }
    Ok(sent.receipt)
}

/// Tells a gift's live room about it (`live:gift-received`), when it was sent into an open
/// session. `known` is the room and the sender's name when the caller has them.
pub async fn announce_gift(state: &AppState, receipt: &Value, known: Option<(&str, &str)>) {
    let gift = &receipt["gift"];
    let (room, name) = match known {
        Some((room, name)) => (room.to_owned(), name.to_owned()),
        None => {
            let Some(session) = gift["live_session_id"]
                .as_str()
                .and_then(|s| s.parse::<Uuid>().ok())
            else {
                return;
            };
            let Ok(Some(room)) = open_room_of(&state.db, session).await else {
                return;
            };
            let sender = gift["sender_id"].as_str().and_then(|s| s.parse().ok());
            let name = match sender {
                Some(id) => identity::find_by_id(&state.db, id)
                    .await
                    .ok()
                    .flatten()
                    .map(|u| u.name)
                    .unwrap_or_default(),
                None => String::new(),
            };
            (room, name)
        }
    };
    let event = json!({
        "roomId": room,
        "sender": { "id": gift["sender_id"], "name": name },
        "gift": gift,
        "income": receipt["income"],
    });
    emit_to_room(state, &room, "live:gift-received", &event).await;
}

/// Tells a live room its session ended (`live:ended`) and empties it ([`close_room`]).
pub async fn announce_end(state: &AppState, session: &Value, reason: &str) {
    let Some(room) = session["room_id"].as_str() else {
        return;
    };
    emit_to_room(
        state,
        room,
        "live:ended",
        &json!({ "roomId": room, "reason": reason, "session": session }),
    )
    .await;
    close_room(state, room).await;
}

/// Empties the room of an ended session: this process's sockets leave it and forget it,
/// the other replicas' sockets leave it through the adapter (their own records of it go at
/// their next sweep), and the hub forgets it.
pub async fn close_room(state: &AppState, room: &str) {
    let io = state.realtime.io();
    if let Some(ns) = io.of(NAMESPACE) {
        for socket in ns.to(room.to_owned()).local().sockets() {
            if let Some(peer) = peer(&socket) {
                peer.rooms().remove(room);
            }
            socket.leave(room.to_owned());
        }
    }
    if let Some(ns) = io.of(NAMESPACE) {
        if let Err(err) = ns.to(room.to_owned()).leave(room.to_owned()).await {
            tracing::warn!(%room, error = %err, "Emptying an ended live room failed.");
        }
    }
    state.domain::<LiveRuntime>().hub.close(room);
}
