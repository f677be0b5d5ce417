//! Private chat (seed 004): messages sent with the Socket.IO event `chat:send` are stored
//! here before they reach the recipient, and `GET /chat/:userId/messages` pages through the
//! conversation between the caller and that user, newest first.

use axum::{extract::State, Json};
use platform::{
    http::{
        error::ApiError,
        extract::{PathParams, QueryParams},
    },
    i18n::Msg,
    identity::{self, AuthUser},
    sql::stmt,
    state::AppState,
};
use sea_orm::{ConnectionTrait, QueryResult};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{error::LiveError, periods::rfc3339, routes::Page};

fn message_json(r: &QueryResult) -> Result<Value, LiveError> {
    Ok(json!({
        "id": r.try_get::<Uuid>("", "id")?,
        "senderId": r.try_get::<Uuid>("", "sender_id")?,
        "receiverId": r.try_get::<Uuid>("", "receiver_id")?,
        "message": r.try_get::<String>("", "body")?,
        "createdAt": rfc3339(r.try_get::<i64>("", "created_at")?),
    }))
}

/// Stores a private message from `from` to `to` (an existing, enabled user other than the
/// sender) and answers it as `chat:receive` carries it.
pub async fn store(state: &AppState, from: Uuid, to: Uuid, body: &str) -> Result<Value, LiveError> {
    if from == to {
        return Err(LiveError::Invalid(Msg::new(
            "Tidak bisa mengirim pesan ke diri sendiri",
            "You cannot message yourself",
        )));
    }
    if identity::find_by_id(&state.db, to)
        .await?
        .is_none_or(|u| u.disabled)
    {
        return Err(LiveError::NotFound(Msg::new(
            "Penerima tidak ditemukan",
            "Recipient not found",
        )));
    }
    let id = Uuid::now_v7();
    let now = state.clock.unix();
    state
        .db
        .execute(stmt(
            state.db.get_database_backend(),
            "INSERT INTO live_chat_messages (id, sender_id, receiver_id, body, created_at) \
             VALUES (?, ?, ?, ?, ?)",
            vec![id.into(), from.into(), to.into(), body.into(), now.into()],
        ))
        .await?;
    Ok(json!({
        "id": id,
        "senderId": from,
        "receiverId": to,
        "message": body,
        "createdAt": rfc3339(now),
    }))
}

/// The conversation between the caller and `userId`, newest first, paginated.
#[utoipa::path(get, path = "/chatme/api/chat/{userId}/messages", tag = "live",
    params(("userId" = Uuid, Path), Page),
    responses((status = 200, description = "`{userId, messages: [{id, senderId, receiverId, message, createdAt}], page, limit}`"), (status = 401)),
    security(("bearer" = [])))]
pub(crate) async fn history(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(other): PathParams<Uuid>,
    QueryParams(page): QueryParams<Page>,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = page.window();
    let me = claims.sub;
    let rows = state
        .db
        .query_all(stmt(
            state.db.get_database_backend(),
            "SELECT id, sender_id, receiver_id, body, created_at FROM live_chat_messages \
             WHERE (sender_id = ? AND receiver_id = ?) OR (sender_id = ? AND receiver_id = ?) \
             ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            vec![
                me.into(),
                other.into(),
                other.into(),
                me.into(),
                (limit as i64).into(),
                (offset as i64).into(),
            ],
        ))
        .await
        .map_err(LiveError::from)?;
    let messages = rows
        .iter()
        .map(message_json)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({
        "userId": other,
        "messages": messages,
        "page": offset / limit + 1,
        "limit": limit,
    })))
}
