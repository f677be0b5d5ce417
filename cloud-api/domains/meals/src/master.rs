//! Master data the seed leaves implicit: departments (`/departments`), shifts (`/shifts`,
//! with start and end time `HH:MM`) and positions (`/positions`, jabatan). Every meals role
//! reads them; administrators create and change them. Names are unique (409).

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, patch},
    Json, Router,
};
use platform::{
    http::{error::ApiError, extract::PathParams},
    i18n::Msg,
    state::AppState,
};
use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, QueryOrder, Set, SqlErr};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    context::{text_between, Admin, Member},
    entities::{department, position, shift},
    error::{invalid, MealsError, MealsJson},
    PREFIX,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{PREFIX}/departments"),
            get(list_departments).post(create_department),
        )
        .route(
            &format!("{PREFIX}/departments/{{id}}"),
            patch(update_department),
        )
        .route(
            &format!("{PREFIX}/shifts"),
            get(list_shifts).post(create_shift),
        )
        .route(&format!("{PREFIX}/shifts/{{id}}"), patch(update_shift))
        .route(
            &format!("{PREFIX}/positions"),
            get(list_positions).post(create_position),
        )
        .route(
            &format!("{PREFIX}/positions/{{id}}"),
            patch(update_position),
        )
}

fn saved(err: DbErr) -> MealsError {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        MealsError::Conflict(Msg::new("Nama sudah dipakai", "The name is already taken"))
    } else {
        err.into()
    }
}

fn not_found() -> MealsError {
    MealsError::NotFound(Msg::new("Data tidak ditemukan", "Not found"))
}

fn note(raw: Option<&str>) -> Result<Option<String>, MealsError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => Ok(Some(text_between(Some(r), "keterangan", 1, 255)?)),
    }
}

/// A department.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentView {
    pub id: i32,
    pub nama_divisi: String,
    pub keterangan: Option<String>,
}

impl From<department::Model> for DepartmentView {
    fn from(d: department::Model) -> Self {
        Self {
            id: d.id,
            nama_divisi: d.name,
            keterangan: d.description,
        }
    }
}

/// A department to create or change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentBody {
    #[serde(alias = "name", alias = "nama")]
    nama_divisi: Option<String>,
    keterangan: Option<String>,
}

async fn list_departments(
    State(state): State<AppState>,
    _member: Member,
) -> Result<Json<Vec<DepartmentView>>, ApiError> {
    let rows = department::Entity::find()
        .order_by_asc(department::Column::Id)
        .all(&state.db)
        .await
        .map_err(MealsError::from)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

async fn create_department(
    State(state): State<AppState>,
    _admin: Admin,
    MealsJson(body): MealsJson<DepartmentBody>,
) -> Result<Response, ApiError> {
    let row = department::ActiveModel {
        name: Set(text_between(
            body.nama_divisi.as_deref(),
            "namaDivisi",
            1,
            100,
        )?),
        description: Set(note(body.keterangan.as_deref())?),
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map_err(saved)?;
    Ok((StatusCode::CREATED, Json(DepartmentView::from(row))).into_response())
}

async fn update_department(
    State(state): State<AppState>,
    _admin: Admin,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<DepartmentBody>,
) -> Result<Json<DepartmentView>, ApiError> {
    let found = department::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(MealsError::from)?
        .ok_or_else(not_found)?;
    let mut row: department::ActiveModel = found.into();
    if body.nama_divisi.is_some() {
        row.name = Set(text_between(
            body.nama_divisi.as_deref(),
            "namaDivisi",
            1,
            100,
        )?);
    }
    if body.keterangan.is_some() {
        row.description = Set(note(body.keterangan.as_deref())?);
    }
    Ok(Json(row.update(&state.db).await.map_err(saved)?.into()))
}

/// A shift.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShiftView {
    pub id: i32,
    pub nama_shift: String,
    /// `HH:MM`.
    pub jam_mulai: String,
    /// `HH:MM`.
    pub jam_selesai: String,
    pub keterangan: Option<String>,
}

impl From<shift::Model> for ShiftView {
    fn from(s: shift::Model) -> Self {
        Self {
            id: s.id,
            nama_shift: s.name,
            jam_mulai: s.start_time,
            jam_selesai: s.end_time,
            keterangan: s.description,
        }
    }
}

/// A shift to create or change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShiftBody {
    #[serde(alias = "name", alias = "nama")]
    nama_shift: Option<String>,
    jam_mulai: Option<String>,
    jam_selesai: Option<String>,
    keterangan: Option<String>,
}

/// `HH:MM` (or `HH:MM:SS`), normalised to `HH:MM`.
fn clock_time(raw: Option<&str>, field: &'static str) -> Result<String, MealsError> {
    let raw = raw.map(str::trim).unwrap_or_default();
    let short = time::macros::format_description!("[hour]:[minute]");
    let long = time::macros::format_description!("[hour]:[minute]:[second]");
    time::Time::parse(raw, &short)
        .or_else(|_| time::Time::parse(raw, &long))
        .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
        .map_err(|_| {
            MealsError::Invalid(Msg::owned(
                format!("{field} harus berformat HH:MM"),
                format!("{field} must be HH:MM"),
            ))
        })
}

async fn list_shifts(
    State(state): State<AppState>,
    _member: Member,
) -> Result<Json<Vec<ShiftView>>, ApiError> {
    let rows = shift::Entity::find()
        .order_by_asc(shift::Column::Id)
        .all(&state.db)
        .await
        .map_err(MealsError::from)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

async fn create_shift(
    State(state): State<AppState>,
    _admin: Admin,
    MealsJson(body): MealsJson<ShiftBody>,
) -> Result<Response, ApiError> {
    let row = shift::ActiveModel {
        name: Set(text_between(
            body.nama_shift.as_deref(),
            "namaShift",
            1,
            100,
        )?),
        start_time: Set(clock_time(body.jam_mulai.as_deref(), "jamMulai")?),
        end_time: Set(clock_time(body.jam_selesai.as_deref(), "jamSelesai")?),
        description: Set(note(body.keterangan.as_deref())?),
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map_err(saved)?;
    Ok((StatusCode::CREATED, Json(ShiftView::from(row))).into_response())
}

async fn update_shift(
    State(state): State<AppState>,
    _admin: Admin,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<ShiftBody>,
) -> Result<Json<ShiftView>, ApiError> {
    let found = shift::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(MealsError::from)?
        .ok_or_else(not_found)?;
    let mut row: shift::ActiveModel = found.into();
    if body.nama_shift.is_some() {
        row.name = Set(text_between(
            body.nama_shift.as_deref(),
            "namaShift",
            1,
            100,
        )?);
    }
    if body.jam_mulai.is_some() {
        row.start_time = Set(clock_time(body.jam_mulai.as_deref(), "jamMulai")?);
    }
    if body.jam_selesai.is_some() {
        row.end_time = Set(clock_time(body.jam_selesai.as_deref(), "jamSelesai")?);
    }
    if body.keterangan.is_some() {
        row.description = Set(note(body.keterangan.as_deref())?);
    }
    Ok(Json(row.update(&state.db).await.map_err(saved)?.into()))
}

/// A position (jabatan).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionView {
    pub id: i32,
    pub nama_jabatan: String,
    pub department_id: Option<i32>,
    pub keterangan: Option<String>,
}

impl From<position::Model> for PositionView {
    fn from(p: position::Model) -> Self {
        Self {
            id: p.id,
            nama_jabatan: p.name,
            department_id: p.department_id,
            keterangan: p.description,
        }
    }
}

/// A position to create or change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionBody {
    #[serde(alias = "name", alias = "nama")]
    nama_jabatan: Option<String>,
    department_id: Option<i32>,
    keterangan: Option<String>,
}

async fn position_department(state: &AppState, id: Option<i32>) -> Result<Option<i32>, MealsError> {
    match id {
        None => Ok(None),
        Some(id) => department::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .map(|d| Some(d.id))
            .ok_or_else(|| invalid("Departemen tidak ditemukan", "Department not found")),
    }
}

async fn list_positions(
    State(state): State<AppState>,
    _member: Member,
) -> Result<Json<Vec<PositionView>>, ApiError> {
    let rows = position::Entity::find()
        .order_by_asc(position::Column::Id)
        .all(&state.db)
        .await
        .map_err(MealsError::from)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

async fn create_position(
    State(state): State<AppState>,
    _admin: Admin,
    MealsJson(body): MealsJson<PositionBody>,
) -> Result<Response, ApiError> {
    let row = position::ActiveModel {
        name: Set(text_between(
            body.nama_jabatan.as_deref(),
            "namaJabatan",
            1,
            100,
        )?),
        department_id: Set(position_department(&state, body.department_id).await?),
        description: Set(note(body.keterangan.as_deref())?),
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map_err(saved)?;
    Ok((StatusCode::CREATED, Json(PositionView::from(row))).into_response())
}

async fn update_position(
    State(state): State<AppState>,
    _admin: Admin,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<PositionBody>,
) -> Result<Json<PositionView>, ApiError> {
    let found = position::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(MealsError::from)?
        .ok_or_else(not_found)?;
    let mut row: position::ActiveModel = found.into();
    if body.nama_jabatan.is_some() {
        row.name = Set(text_between(
            body.nama_jabatan.as_deref(),
            "namaJabatan",
            1,
            100,
        )?);
    }
    if body.department_id.is_some() {
        row.department_id = Set(position_department(&state, body.department_id).await?);
    }
    if body.keterangan.is_some() {
        row.description = Set(note(body.keterangan.as_deref())?);
    }
    Ok(Json(row.update(&state.db).await.map_err(saved)?.into()))
}
