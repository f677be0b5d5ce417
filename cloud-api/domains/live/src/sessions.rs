//! Live sessions (seed 004): `POST /live-session/start` (hosts only; one open session per
//! host, enforced by a partial unique index; answers the `room_id`), `POST
//! /live-session/end` (duration, total income; `total_viewers` counts the distinct viewers
//! who joined its Socket.IO room), `GET /live-session/duration/today/:hostId`.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use platform::{
    http::{error::ApiError, extract::PathParams},
    i18n::Msg,
    identity::{self, AuthUser},
    sql::stmt,
    state::AppState,
};
use sea_orm::{ConnectionTrait, DbErr, SqlErr};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    accounts::live_role,
    error::{forbidden, user_not_found, LiveError},
    periods::{bounds, rfc3339, Period},
    LiveRuntime,
};

fn session_json(r: &sea_orm::QueryResult) -> Result<Value, LiveError> {
    let end: Option<i64> = r.try_get("", "end_time")?;
    Ok(json!({
        "id": r.try_get::<Uuid>("", "id")?,
        "host_id": r.try_get::<Uuid>("", "host_id")?,
        "room_id": r.try_get::<String>("", "room_id")?,
        "start_time": rfc3339(r.try_get::<i64>("", "start_time")?),
        "end_time": end.map(rfc3339),
        "duration_seconds": r.try_get::<Option<i64>>("", "duration_seconds")?,
        "total_income": r.try_get::<i64>("", "total_income")?,
        "total_viewers": r.try_get::<i64>("", "total_viewers")?,
    }))
}

const SESSION_COLUMNS: &str =
    "id, host_id, room_id, start_time, end_time, duration_seconds, total_income, total_viewers";

/// The host's open session, if any.
pub async fn open_session(
    db: &impl ConnectionTrait,
    host: Uuid,
) -> Result<Option<sea_orm::QueryResult>, LiveError> {
    Ok(db
        .query_one(stmt(
            db.get_database_backend(),
            &format!(
                "SELECT {SESSION_COLUMNS} FROM live_sessions WHERE host_id = ? AND end_time IS NULL"
            ),
            vec![host.into()],
        ))
        .await?)
}

/// Opens a session for `host` at `now`, the host present at `host_seen_ms` (the sweeper's
/// grace counts from it): `(session id, room id)`. A second open session of the same host
/// is a unique violation (the partial index).
pub async fn open_new(
    db: &impl ConnectionTrait,
    host: Uuid,
    now: i64,
    host_seen_ms: i64,
) -> Result<(Uuid, String), DbErr> {
    let id = Uuid::now_v7();
    let room_id = format!("live_{}", id.simple());
    db.execute(stmt(
        db.get_database_backend(),
        "INSERT INTO live_sessions (id, host_id, room_id, start_time, end_time, \
         duration_seconds, total_income, total_viewers, created_at, host_seen_ms) \
         VALUES (?, ?, ?, ?, NULL, NULL, 0, 0, ?, ?)",
        vec![
            id.into(),
            host.into(),
            room_id.as_str().into(),
            now.into(),
            now.into(),
            host_seen_ms.into(),
        ],
    ))
    .await?;
    Ok((id, room_id))
}

/// Starts the caller's live session (hosts only).
#[utoipa::path(post, path = "/chatme/api/live-session/start", tag = "live",
    responses((status = 201, description = "`{message, session: {id, room_id, …}, room_id}`"),
        (status = 403, description = "Not a host"), (status = 409, description = "A session is already open")),
    security(("bearer" = [])))]
pub(crate) async fn start_session(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> Result<Response, ApiError> {
    let found = identity::find_by_id(&state.db, claims.sub)
        .await?
        .ok_or_else(user_not_found)?;
    if live_role(&found.roles) != "host" {
        return Err(LiveError::Forbidden(Msg::new(
            "Hanya host yang bisa memulai live",
            "Only hosts can start a live session",
        ))
        .into());
    }
    let now = state.clock.unix();
    // Starting is the host's own act: present now.
    let inserted = open_new(&state.db, claims.sub, now, crate::unix_ms(&state.clock)).await;
    if let Err(err) = inserted {
        if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            let open = open_session(&state.db, claims.sub).await?;
            return Ok((
                StatusCode::CONFLICT,
                Json(json!({
                    "message": Msg::new(
                        "Anda masih punya sesi live yang berjalan",
                        "You already have an open live session",
                    ).localized(),
                    "session": open.as_ref().map(session_json).transpose()?,
                })),
            )
                .into_response());
        }
        return Err(LiveError::from(err).into());
    }
    let (_, room_id) = inserted.map_err(LiveError::from)?;
    let session = open_session(&state.db, claims.sub)
        .await?
        .ok_or_else(user_not_found)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "message": Msg::new("Sesi live dimulai", "Live session started").localized(),
            "room_id": room_id,
            "session": session_json(&session)?,
        })),
    )
        .into_response())
}

/// Which open sessions to end.
#[derive(Debug, Clone, Copy)]
pub enum Ending {
    /// The host's open session (`POST /live-session/end`).
    Host(Uuid),
    /// Every open session whose host was last present (`host_seen_ms`; its start for a
    /// session opened before m0302) before this unix time in milliseconds.
    AbandonedBefore(i64),
}

/// Ends the open sessions `which` names at `now`: their duration, and `total_viewers` = the
/// distinct viewers who joined their room. One conditional `UPDATE … WHERE end_time IS
/// NULL`, so of several replicas ending the same session exactly one gets it back.
pub async fn end_open_sessions(
    db: &impl ConnectionTrait,
    which: Ending,
    now: i64,
) -> Result<Vec<Value>, LiveError> {
    let (filter, arg): (&str, sea_orm::Value) = match which {
        Ending::Host(host) => ("host_id = ?", host.into()),
        Ending::AbandonedBefore(ms) => ("COALESCE(host_seen_ms, start_time * 1000) < ?", ms.into()),
    };
    let rows = db
        .query_all(stmt(
            db.get_database_backend(),
            &format!(
                "UPDATE live_sessions SET end_time = ?, duration_seconds = ? - start_time, \
                 total_viewers = (SELECT COUNT(*) FROM live_session_viewers v \
                 WHERE v.session_id = live_sessions.id) \
                 WHERE {filter} AND end_time IS NULL RETURNING {SESSION_COLUMNS}"
            ),
            vec![now.into(), now.into(), arg],
        ))
        .await?;
    rows.iter().map(session_json).collect()
}

/// Records that `host` is present now (`now_ms`) on their open session, if they have one.
pub async fn host_seen(db: &impl ConnectionTrait, host: Uuid, now_ms: i64) -> Result<(), DbErr> {
    db.execute(stmt(
        db.get_database_backend(),
        "UPDATE live_sessions SET host_seen_ms = ? WHERE host_id = ? AND end_time IS NULL",
        vec![now_ms.into(), host.into()],
    ))
    .await
    .map(|_| ())
}

/// The open sessions: `(session id, host id, room id)`.
pub async fn open_sessions(db: &impl ConnectionTrait) -> Result<Vec<(Uuid, Uuid, String)>, DbErr> {
    db.query_all(stmt(
        db.get_database_backend(),
        "SELECT id, host_id, room_id FROM live_sessions WHERE end_time IS NULL",
        vec![],
    ))
    .await?
    .iter()
    .map(|r| -> Result<(Uuid, Uuid, String), DbErr> {
        Ok((
            r.try_get("", "id")?,
            r.try_get("", "host_id")?,
            r.try_get("", "room_id")?,
        ))
    })
    .collect()
}

/// Records that the hosts of `sessions` are present now (`now_ms`).
pub async fn sessions_seen(
    db: &impl ConnectionTrait,
    sessions: &[Uuid],
    now_ms: i64,
) -> Result<(), DbErr> {
    if sessions.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; sessions.len()].join(", ");
    let mut values: Vec<sea_orm::Value> = vec![now_ms.into()];
    values.extend(sessions.iter().map(|id| sea_orm::Value::from(*id)));
    db.execute(stmt(
        db.get_database_backend(),
        &format!(
            "UPDATE live_sessions SET host_seen_ms = ? WHERE end_time IS NULL AND id IN ({marks})"
        ),
        values,
    ))
    .await
    .map(|_| ())
}

/// The open session whose room is `room_id`: `(session id, host id)`.
pub async fn open_by_room(
    db: &impl ConnectionTrait,
    room_id: &str,
) -> Result<Option<(Uuid, Uuid)>, DbErr> {
    let row = db
        .query_one(stmt(
            db.get_database_backend(),
            "SELECT id, host_id FROM live_sessions WHERE room_id = ? AND end_time IS NULL",
            vec![room_id.into()],
        ))
        .await?;
    row.map(|r| Ok((r.try_get("", "id")?, r.try_get("", "host_id")?)))
        .transpose()
}

/// The room of session `id` while it is open.
pub async fn open_room_of(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one(stmt(
            db.get_database_backend(),
            "SELECT room_id FROM live_sessions WHERE id = ? AND end_time IS NULL",
            vec![id.into()],
        ))
        .await?;
    row.map(|r| r.try_get("", "room_id")).transpose()
}

/// Ends the caller's open session.
#[utoipa::path(post, path = "/chatme/api/live-session/end", tag = "live",
    responses((status = 200, description = "`{message, session: {duration_seconds, total_income, total_viewers, …}}`"),
        (status = 404, description = "No open session")),
    security(("bearer" = [])))]
pub(crate) async fn end_session(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> Result<Json<Value>, ApiError> {
    let session = end_open_sessions(&state.db, Ending::Host(claims.sub), state.clock.unix())
        .await?
        .pop()
        .ok_or_else(|| {
            LiveError::NotFound(Msg::new(
                "Tidak ada sesi live yang berjalan",
                "No open live session",
            ))
        })?;
    crate::socket::announce_end(&state, &session, "ended").await;
    Ok(Json(json!({
        "message": Msg::new("Sesi live berakhir", "Live session ended").localized(),
        "session": session,
    })))
}

/// Seconds live today (Asia/Jakarta), counting only the part of each session inside today.
#[utoipa::path(get, path = "/chatme/api/live-session/duration/today/{hostId}", tag = "live",
    params(("hostId" = Uuid, Path)),
    responses((status = 200, description = "`{host_id, date_start, duration_seconds, sessions}`"), (status = 403)),
    security(("bearer" = [])))]
pub(crate) async fn duration_today(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(host): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    if !crate::stats::may_see_income(&state.db, &claims, host).await? {
        return Err(forbidden().into());
    }
    let now = state.clock.unix();
    let (start, end) = bounds(Period::Day, &state.domain::<LiveRuntime>().time_zone, now);
    let rows = state
        .db
        .query_all(stmt(
            state.db.get_database_backend(),
            "SELECT start_time, end_time FROM live_sessions WHERE host_id = ? \
             AND start_time < ? AND (end_time IS NULL OR end_time > ?)",
            vec![host.into(), end.into(), start.into()],
        ))
        .await
        .map_err(LiveError::from)?;
    let mut total = 0i64;
    for r in &rows {
        let from: i64 = r.try_get("", "start_time").map_err(LiveError::from)?;
        let to: Option<i64> = r.try_get("", "end_time").map_err(LiveError::from)?;
        let to = to.unwrap_or(now).min(end);
        total += (to - from.max(start)).max(0);
    }
    Ok(Json(json!({
        "host_id": host,
        "date_start": rfc3339(start),
        "duration_seconds": total,
        "sessions": rows.len(),
    })))
}

/// The sessions on air now with their hosts and current viewers (ChatMe admins). Viewers
/// are the distinct users in the room of this process (`hub`), other than the host.
#[utoipa::path(get, path = "/chatme/api/admin/live-sessions", tag = "live",
    responses((status = 200, description = "`{sessions: [{id, host_id, host_name, room_id, start_time, total_income, viewers}]}`"), (status = 403)),
    security(("bearer" = [])))]
pub(crate) async fn on_air(
    State(state): State<AppState>,
    _admin: identity::Guarded<crate::LiveAdmin>,
) -> Result<Json<Value>, ApiError> {
    let db = &state.db;
    let rows = db
        .query_all(stmt(
            db.get_database_backend(),
            "SELECT s.id, s.host_id, s.room_id, s.start_time, s.total_income, u.name \
             FROM live_sessions s JOIN users u ON u.id = s.host_id \
             WHERE s.end_time IS NULL ORDER BY s.start_time DESC LIMIT 500",
            vec![],
        ))
        .await
        .map_err(LiveError::from)?;
    let hub = &state.domain::<LiveRuntime>().hub;
    let sessions = rows
        .iter()
        .map(|r| {
            let room: String = r.try_get("", "room_id")?;
            Ok(json!({
                "id": r.try_get::<Uuid>("", "id")?,
                "host_id": r.try_get::<Uuid>("", "host_id")?,
                "host_name": r.try_get::<String>("", "name")?,
                "viewers": hub.viewers(&room),
                "room_id": room,
                "start_time": rfc3339(r.try_get::<i64>("", "start_time")?),
                "total_income": r.try_get::<i64>("", "total_income")?,
            }))
        })
        .collect::<Result<Vec<Value>, DbErr>>()
        .map_err(LiveError::from)?;
    Ok(Json(json!({ "sessions": sessions })))
}
