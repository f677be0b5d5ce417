//! The ChatMe REST routes under `/chatme/api` (seed 004 paths), the wallet and the gift
//! catalogue. Errors are `{"message"}`, Indonesian unless `Accept-Language: en`.

use axum::{
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use platform::{
    audit,
    http::{
        error::ApiError,
        extract::{PathParams, QueryParams},
        json::JsonBody,
    },
    i18n::Msg,
    identity::{AuthUser, Guarded},
    security::ClientIp,
    sql::stmt,
    state::AppState,
};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    accounts, agency, avatar, chat,
    error::LiveError,
    sessions, stats,
    wallet::{self, GiftRef, SendGift},
    LiveAdmin, LiveRuntime,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/chatme/api/register", post(accounts::register))
        .route("/chatme/api/login", post(accounts::login))
        .route("/chatme/api/profile", get(accounts::profile))
        .route("/chatme/api/profile/update", put(accounts::update_profile))
        .route(
            "/chatme/api/profile/avatar",
            post(avatar::upload).layer(DefaultBodyLimit::max(avatar::MAX_BODY)),
        )
        .route(
            "/chatme/uploads/avatars/{userId}/{file}",
            get(avatar::serve),
        )
        .route("/chatme/api/wallet", get(wallet))
        .route("/chatme/api/wallet/history", get(wallet_history))
        .route("/chatme/api/admin/coins/credit", post(admin_credit))
        .route("/chatme/api/admin/accounts", get(accounts::search))
        .route("/chatme/api/admin/agencies", get(agency::list_agencies))
        .route("/chatme/api/admin/live-sessions", get(sessions::on_air))
        .route("/chatme/api/gifts", get(list_gifts))
        .route("/chatme/api/admin/gifts", post(create_gift))
        .route(
            "/chatme/api/admin/gifts/{id}",
            put(update_gift).delete(delete_gift),
        )
        .route("/chatme/api/gifts/send", post(send_gift))
        .route("/chatme/api/ranking/fans/{hostId}", get(stats::fan_ranking))
        .route("/chatme/api/ranking/hosts", get(stats::host_ranking))
        .route(
            "/chatme/api/contributions/{hostId}",
            get(stats::contributions),
        )
        .route(
            "/chatme/api/host-income/today/{hostId}",
            get(stats::income_today),
        )
        .route(
            "/chatme/api/host-income/week/{hostId}",
            get(stats::income_week),
        )
        .route(
            "/chatme/api/host-income/month/{hostId}",
            get(stats::income_month),
        )
        .route(
            "/chatme/api/host-income/category/{hostId}",
            get(stats::income_category),
        )
        .route(
            "/chatme/api/host-income/history/{hostId}",
            get(stats::income_history),
        )
        .route(
            "/chatme/api/live-session/start",
            post(sessions::start_session),
        )
        .route("/chatme/api/live-session/end", post(sessions::end_session))
        .route(
            "/chatme/api/live-session/duration/today/{hostId}",
            get(sessions::duration_today),
        )
        .route("/chatme/api/chat/{userId}/messages", get(chat::history))
        .route("/chatme/api/agency/apply", post(agency::apply))
        .route(
            "/chatme/api/admin/agencies/{id}/approve",
            post(agency::approve_agency),
        )
        .route(
            "/chatme/api/admin/agencies/{id}/reject",
            post(agency::reject_agency),
        )
        .route("/chatme/api/agency/profile", get(agency::profile))
        .route(
            "/chatme/api/agency/{agencyId}/host-applications",
            post(agency::apply_host).get(agency::host_applications),
        )
        .route(
            "/chatme/api/agency/host-applications/{id}/approve",
            post(agency::approve_host),
        )
        .route(
            "/chatme/api/agency/host-applications/{id}/reject",
            post(agency::reject_host),
        )
        .route("/chatme/api/agency/{agencyId}/stats", get(agency::stats))
        .route("/chatme/api/agency/{agencyId}/hosts", get(agency::hosts))
        .route("/chatme/api/agency/{agencyId}/income", get(agency::income))
        .route(
            "/chatme/api/agency/{agencyId}/live-stats",
            get(agency::live_stats),
        )
        .route(
            "/chatme/api/agency/{agencyId}/salary-requests",
            get(agency::salary_requests),
        )
        .route(
            "/chatme/api/agency/salary-request/{requestId}/approve",
            post(agency::approve_salary),
        )
        .route(
            "/chatme/api/agency/salary-request/{requestId}/reject",
            post(agency::reject_salary),
        )
        .route("/chatme/api/salary-requests", post(agency::request_salary))
}

/// A page: `page` from 1, `limit` 1–100 (default 20).
#[derive(Debug, Deserialize, IntoParams)]
pub struct Page {
    pub page: Option<u64>,
    pub limit: Option<u64>,
}

impl Page {
    /// `(limit, offset)`, bounded.
    pub fn window(&self) -> (u64, u64) {
        let limit = self.limit.unwrap_or(20).clamp(1, 100);
        let page = self.page.unwrap_or(1).clamp(1, 100_000);
        (limit, (page - 1) * limit)
    }
}

/// The caller's balance.
#[utoipa::path(get, path = "/chatme/api/wallet", tag = "live",
    responses((status = 200, description = "`{balance}`"), (status = 401)), security(("bearer" = [])))]
pub(crate) async fn wallet(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> Result<Json<Value>, ApiError> {
    let balance = wallet::balance(&state.db, claims.sub)
        .await
        .map_err(LiveError::from)?;
    Ok(Json(json!({ "user_id": claims.sub, "balance": balance })))
}

/// The caller's ledger, newest first.
#[utoipa::path(get, path = "/chatme/api/wallet/history", tag = "live", params(Page),
    responses((status = 200, description = "`{entries: [{id, delta, balance_after, kind, reference, created_at}], page, limit}`"), (status = 401)),
    security(("bearer" = [])))]
pub(crate) async fn wallet_history(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    QueryParams(page): QueryParams<Page>,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = page.window();
    let entries = wallet::history(&state.db, claims.sub, limit, offset)
        .await
        .map_err(LiveError::from)?;
    Ok(Json(json!({
        "entries": entries,
        "page": offset / limit + 1,
        "limit": limit,
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct CreditRequest {
    user_id: Uuid,
    /// Coins, 1 to 1,000,000,000.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    amount: i64,
    /// The payment provider's reference (1–200 characters once trimmed).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    reference: String,
}

/// Credits coins after a top-up (admins; audited).
#[utoipa::path(post, path = "/chatme/api/admin/coins/credit", tag = "live", request_body = CreditRequest,
    responses((status = 200, description = "`{message, user_id, balance}`"), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub(crate) async fn admin_credit(
    State(state): State<AppState>,
    admin: Guarded<LiveAdmin>,
    ip: ClientIp,
    JsonBody(body): JsonBody<CreditRequest>,
) -> Result<Json<Value>, ApiError> {
    let balance = wallet::admin_credit(
        &state.db,
        body.user_id,
        body.amount,
        &body.reference,
        state.clock.unix(),
    )
    .await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("live_coins_credit", ip)
            .by(admin.claims.sub, admin.claims.email.clone())
            .target(body.user_id.to_string())
            .detail(json!({ "amount": body.amount, "reference": body.reference.trim() })),
    )
    .await;
    Ok(Json(json!({
        "message": Msg::new("Koin ditambahkan", "Coins credited").localized(),
        "user_id": body.user_id,
        "balance": balance,
    })))
}

/// The active gift catalogue, cheapest first.
#[utoipa::path(get, path = "/chatme/api/gifts", tag = "live",
    responses((status = 200, description = "`{gifts: [{id, name, coin_value, category, icon}]}`")))]
pub(crate) async fn list_gifts(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let rows = state
        .db
        .query_all(stmt(
            state.db.get_database_backend(),
            "SELECT id, name, coin_value, category, icon FROM live_gift_catalog \
             WHERE active = ? ORDER BY coin_value, name",
            vec![true.into()],
        ))
        .await
        .map_err(LiveError::from)?;
    let gifts = rows
        .iter()
        .map(wallet::catalog_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(LiveError::from)?;
    Ok(Json(json!({ "gifts": gifts })))
}

/// A catalogue gift, as an admin creates or changes it.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct GiftRequest {
    /// 1–60 characters once trimmed; unique among active gifts (any case).
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 60, pattern = "\\S")]
    name: Option<String>,
    /// The gift's price in coins.
    #[serde(default)]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 1_000_000)]
    coin_value: Option<i64>,
    /// `general` when absent or blank; at most 40 characters once trimmed.
    #[serde(default)]
    #[schema(max_length = 40)]
    category: Option<String>,
    /// At most 500 characters once trimmed.
    #[serde(default)]
    #[schema(max_length = 500)]
    icon: Option<String>,
}

/// A checked catalogue entry: `(name, coin_value, category, icon)`.
type GiftFields = (String, i64, String, Option<String>);

fn gift_fields(body: GiftRequest) -> Result<GiftFields, LiveError> {
    let bad = |id, en| LiveError::Invalid(Msg::new(id, en));
    let name = body.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(bad(
            "Nama hadiah harus diisi (maks. 60 karakter)",
            "A gift name is required (at most 60 characters)",
        ));
    }
    let coin_value = body.coin_value.unwrap_or(0);
    if !(1..=1_000_000).contains(&coin_value) {
        return Err(bad(
            "coin_value harus antara 1 dan 1.000.000",
            "coin_value must be between 1 and 1,000,000",
        ));
    }
    let category = body
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or("general");
    if category.chars().count() > 40 {
        return Err(bad(
            "Kategori paling panjang 40 karakter",
            "The category may have at most 40 characters",
        ));
    }
    let icon = body
        .icon
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty());
    if icon.as_ref().is_some_and(|i| i.chars().count() > 500) {
        return Err(bad(
            "Ikon paling panjang 500 karakter",
            "The icon may have at most 500 characters",
        ));
    }
    Ok((name.to_owned(), coin_value, category.to_owned(), icon))
}

async fn name_taken(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<Uuid>,
) -> Result<bool, LiveError> {
    let row = db
        .query_one(stmt(
            db.get_database_backend(),
            "SELECT id FROM live_gift_catalog WHERE active = ? AND LOWER(name) = LOWER(?)",
            vec![true.into(), name.into()],
        ))
        .await?;
    Ok(match row {
        None => false,
        Some(r) => Some(r.try_get::<Uuid>("", "id")?) != except,
    })
}

fn gift_name_taken() -> LiveError {
    LiveError::Conflict(Msg::new(
        "Nama hadiah sudah dipakai",
        "A gift with this name exists",
    ))
}

fn gift_not_found() -> LiveError {
    LiveError::NotFound(Msg::new("Hadiah tidak ditemukan", "Gift not found"))
}

/// Adds a gift to the catalogue (admins).
#[utoipa::path(post, path = "/chatme/api/admin/gifts", tag = "live", request_body = GiftRequest,
    responses((status = 201, description = "`{gift: {id, name, coin_value, category, icon}}`", links(
            ("Update" = (operation_ref = "#/paths/~1chatme~1api~1admin~1gifts~1{id}/put",
                parameters(("id" = "$response.body#/gift/id")))),
            ("Delete" = (operation_ref = "#/paths/~1chatme~1api~1admin~1gifts~1{id}/delete",
                parameters(("id" = "$response.body#/gift/id")))))),
        (status = 400), (status = 403), (status = 409)),
    security(("bearer" = [])))]
pub(crate) async fn create_gift(
    State(state): State<AppState>,
    _admin: Guarded<LiveAdmin>,
    JsonBody(body): JsonBody<GiftRequest>,
) -> Result<Response, ApiError> {
    let (name, coin_value, category, icon) = gift_fields(body)?;
    if name_taken(&state.db, &name, None).await? {
        return Err(gift_name_taken().into());
    }
    let id = wallet::add_catalog_gift(
        &state.db,
        &wallet::NewGift {
            name: &name,
            coin_value,
            category: &category,
            icon: icon.as_deref(),
        },
        state.clock.unix(),
    )
    .await
    .map_err(LiveError::from)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "gift": wallet::CatalogGift { id, name, coin_value, category, icon } })),
    )
        .into_response())
}

/// Changes a catalogue gift (admins). Gifts already sent keep their name and value.
#[utoipa::path(put, path = "/chatme/api/admin/gifts/{id}", tag = "live", request_body = GiftRequest,
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "`{gift}`"), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub(crate) async fn update_gift(
    State(state): State<AppState>,
    _admin: Guarded<LiveAdmin>,
    PathParams(id): PathParams<Uuid>,
    JsonBody(body): JsonBody<GiftRequest>,
) -> Result<Json<Value>, ApiError> {
    let (name, coin_value, category, icon) = gift_fields(body)?;
    if name_taken(&state.db, &name, Some(id)).await? {
        return Err(gift_name_taken().into());
    }
    let updated = state
        .db
        .execute(stmt(
            state.db.get_database_backend(),
            "UPDATE live_gift_catalog SET name = ?, coin_value = ?, category = ?, icon = ? \
             WHERE id = ? AND active = ?",
            vec![
                name.as_str().into(),
                coin_value.into(),
                category.as_str().into(),
                icon.clone().into(),
                id.into(),
                true.into(),
            ],
        ))
        .await
        .map_err(LiveError::from)?;
    if updated.rows_affected() == 0 {
        return Err(gift_not_found().into());
    }
    Ok(Json(
        json!({ "gift": wallet::CatalogGift { id, name, coin_value, category, icon } }),
    ))
}

/// Removes a gift from the catalogue (admins); sent gifts keep their history.
#[utoipa::path(delete, path = "/chatme/api/admin/gifts/{id}", tag = "live",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "`{message}`"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub(crate) async fn delete_gift(
    State(state): State<AppState>,
    _admin: Guarded<LiveAdmin>,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    let updated = state
        .db
        .execute(stmt(
            state.db.get_database_backend(),
            "UPDATE live_gift_catalog SET active = ? WHERE id = ? AND active = ?",
            vec![false.into(), id.into(), true.into()],
        ))
        .await
        .map_err(LiveError::from)?;
    if updated.rows_affected() == 0 {
        return Err(gift_not_found().into());
    }
    Ok(Json(json!({
        "message": Msg::new("Hadiah dihapus", "Gift removed").localized(),
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct SendRequest {
    receiver_id: Uuid,
    #[serde(default)]
    gift_id: Option<Uuid>,
    #[serde(default)]
    gift_name: Option<String>,
    /// 1 to 9,999 (default 1).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 9999)]
    quantity: i64,
    #[serde(default)]
    live_session_id: Option<Uuid>,
}

fn one() -> i64 {
    1
}

/// Sends a gift (seed 004), charged once per `Idempotency-Key`.
#[utoipa::path(post, path = "/chatme/api/gifts/send", tag = "live", request_body = SendRequest,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,128}$", description = "A retry with the same key returns the first result and charges once (1–128 visible ASCII characters)")),
    responses((status = 201, description = "`{message, gift, income, balance}`"),
        (status = 400, description = "Bad quantity, gift to oneself"), (status = 402, description = "Saldo koin tidak cukup"),
        (status = 404, description = "Unknown receiver, gift or session"), (status = 401)),
    security(("bearer" = [])))]
pub(crate) async fn send_gift(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SendRequest>,
) -> Result<Response, ApiError> {
    let gift = match (body.gift_id, body.gift_name) {
        (Some(id), _) => GiftRef::Id(id),
        (None, Some(name)) if !name.trim().is_empty() => GiftRef::Name(name),
        _ => {
            return Err(ApiError::bad_request(Msg::new(
                "gift_id atau gift_name harus diisi",
                "gift_id or gift_name is required",
            )))
        }
    };
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::bad_request(Msg::new(
                        "Idempotency-Key tidak valid",
                        "Invalid Idempotency-Key",
                    ))
                })?
                .trim()
                .to_owned(),
        ),
    };
    let sent = wallet::send_gift(
        &state.db,
        state.domain::<LiveRuntime>().host_share_bp,
        SendGift {
            sender: claims.sub,
            receiver: body.receiver_id,
            gift,
            quantity: body.quantity,
            live_session_id: body.live_session_id,
            idempotency_key,
        },
        state.clock.unix(),
    )
    .await?;
    if !sent.replayed {
        crate::socket::announce_gift(&state, &sent.receipt, None).await;
    }
    Ok((StatusCode::CREATED, Json(sent.receipt)).into_response())
}
