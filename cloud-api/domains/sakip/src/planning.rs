//! OPDs and the planning tree: renstra → tujuan → sasaran → program → kegiatan. The four
//! levels below a renstra share one shape, so one set of handlers serves them, told apart
//! by [`Level`]. A node belongs to its renstra's OPD and cannot be attached to another
//! OPD's parent; an `admin_opd` reads and writes its own OPD only.

use std::collections::HashMap;

use axum::extract::State;
use platform::{i18n::Msg, security::ClientIp, state::AppState};
use sea_orm::{
    sea_query::{Alias, Expr, Query as Sql},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::{
    auth::Caller,
    entities::{opd, renstra},
    error::{created, ok, Answer, Body, Path, Query, SakipError},
    performance, Page,
};

/// A planning level below a renstra.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Tujuan,
    Sasaran,
    Program,
    Kegiatan,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Tujuan,
        Level::Sasaran,
        Level::Program,
        Level::Kegiatan,
    ];

    pub fn parse(raw: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == raw)
    }

    /// The wire name (`parent_type`, the route).
    pub fn name(self) -> &'static str {
        match self {
            Level::Tujuan => "tujuan",
            Level::Sasaran => "sasaran",
            Level::Program => "program",
            Level::Kegiatan => "kegiatan",
        }
    }

    fn table(self) -> Alias {
        Alias::new(format!("sakip_{}", self.name()))
    }

    /// The column naming the parent (`renstra_id` for a tujuan).
    pub fn parent_column(self) -> &'static str {
        match self {
            Level::Tujuan => "renstra_id",
            Level::Sasaran => "tujuan_id",
            Level::Program => "sasaran_id",
            Level::Kegiatan => "program_id",
        }
    }

    /// The level above (`None`: the parent is a renstra).
    fn parent(self) -> Option<Level> {
        match self {
            Level::Tujuan => None,
            Level::Sasaran => Some(Level::Tujuan),
            Level::Program => Some(Level::Sasaran),
            Level::Kegiatan => Some(Level::Program),
        }
    }

    fn child(self) -> Option<Level> {
        match self {
            Level::Tujuan => Some(Level::Sasaran),
            Level::Sasaran => Some(Level::Program),
            Level::Program => Some(Level::Kegiatan),
            Level::Kegiatan => None,
        }
    }

    fn not_found(self) -> SakipError {
        SakipError::status(
            axum::http::StatusCode::NOT_FOUND,
            Msg::owned(
                format!("{} tidak ditemukan", self.name()),
                format!("{} not found", self.name()),
            ),
        )
    }
}

/// One node of a level.
#[derive(Debug, Clone, FromQueryResult)]
pub struct NodeRow {
    pub id: i32,
    pub parent_id: i32,
    pub code: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub sort_order: Option<i32>,
    pub created_at: OffsetDateTime,
}

fn node_json(level: Level, row: &NodeRow) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("id".into(), row.id.into());
    out.insert(level.parent_column().into(), row.parent_id.into());
    out.insert("code".into(), json!(row.code));
    out.insert("name".into(), json!(row.name));
    out.insert("description".into(), json!(row.description));
    out.insert("sort_order".into(), json!(row.sort_order));
    out.insert("created_at".into(), json!(rfc3339(row.created_at)));
    out
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The nodes of `level` whose id (`by_parent` false) or parent (true) is in `ids`.
pub(crate) async fn nodes(
    db: &impl ConnectionTrait,
    level: Level,
    ids: &[i32],
    by_parent: bool,
) -> Result<Vec<NodeRow>, SakipError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let key = if by_parent {
        level.parent_column()
    } else {
        "id"
    };
    let mut q = Sql::select();
    q.column(Alias::new("id"))
        .expr_as(
            Expr::col(Alias::new(level.parent_column())),
            Alias::new("parent_id"),
        )
        .columns(["code", "name", "description", "sort_order", "created_at"].map(Alias::new))
        .from(level.table())
        .and_where(Expr::col(Alias::new(key)).is_in(ids.iter().copied()))
        .order_by(Alias::new("sort_order"), sea_orm::Order::Asc)
        .order_by(Alias::new("id"), sea_orm::Order::Asc);
    Ok(
        NodeRow::find_by_statement(db.get_database_backend().build(&q))
            .all(db)
            .await?,
    )
}

async fn node(db: &impl ConnectionTrait, level: Level, id: i32) -> Result<NodeRow, SakipError> {
    nodes(db, level, &[id], false)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| level.not_found())
}

/// The OPD a node of `level` belongs to (through its renstra).
pub async fn opd_of_node(
    db: &impl ConnectionTrait,
    level: Level,
    id: i32,
) -> Result<i32, SakipError> {
    let mut current = (level, node(db, level, id).await?.parent_id);
    loop {
        match current.0.parent() {
            None => return Ok(find_renstra(db, current.1).await?.opd_id),
            Some(up) => current = (up, node(db, up, current.1).await?.parent_id),
        }
    }
}

/// The OPD a new node of `level` under `parent` belongs to; 404 for an unknown parent.
async fn opd_of_parent(
    db: &impl ConnectionTrait,
    level: Level,
    parent: i32,
) -> Result<i32, SakipError> {
    match level.parent() {
        None => Ok(find_renstra(db, parent).await?.opd_id),
        Some(up) => opd_of_node(db, up, parent).await,
    }
}

pub async fn find_opd(state: &AppState, id: i32) -> Result<opd::Model, SakipError> {
    opd::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| SakipError::not_found("OPD tidak ditemukan", "OPD not found"))
}

async fn find_renstra(db: &impl ConnectionTrait, id: i32) -> Result<renstra::Model, SakipError> {
    renstra::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| SakipError::not_found("Renstra tidak ditemukan", "Renstra not found"))
}

fn too_long(field: &str, max: usize) -> SakipError {
    SakipError::bad(Msg::owned(
        format!("{field} paling panjang {max} karakter"),
        format!("{field} may have at most {max} characters"),
    ))
}

fn missing(field: &str) -> SakipError {
    SakipError::bad(Msg::owned(
        format!("{field} harus diisi"),
        format!("{field} is required"),
    ))
}

/// A required, trimmed text of at most `max` characters.
pub fn text(field: &str, value: Option<&str>, max: usize) -> Result<String, SakipError> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing(field))?;
    if value.chars().count() > max {
        return Err(too_long(field, max));
    }
    Ok(value.to_owned())
}

/// An optional text of at most `max` characters (blank is none).
pub fn opt_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, SakipError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() > max => Err(too_long(field, max)),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

// ---------------------------------------------------------------- OPD

#[derive(Debug, Deserialize)]
pub struct OpdInput {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    head_name: Option<String>,
    #[serde(default)]
    contact: Option<Value>,
    #[serde(default)]
    is_active: Option<bool>,
}

pub fn opd_json(row: &opd::Model) -> Value {
    json!({
        "id": row.id,
        "code": row.code,
        "name": row.name,
        "head_name": row.head_name,
        "contact": row.contact.as_deref().and_then(|c| serde_json::from_str::<Value>(c).ok()),
        "is_active": row.is_active,
        "created_at": rfc3339(row.created_at),
    })
}

/// `GET /opd`.
pub async fn list_opd(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Answer {
    let (page_no, limit) = page.checked()?;
    let mut q = opd::Entity::find();
    if let Some(scope) = caller.scope(None)? {
        q = q.filter(opd::Column::Id.eq(scope));
    }
    let total = q.clone().count(&state.db).await?;
    let rows = q
        .order_by_asc(opd::Column::Code)
        .offset((page_no - 1) * limit)
        .limit(limit)
        .all(&state.db)
        .await?;
    ok(page.answer(rows.iter().map(opd_json).collect(), total))
}

/// `POST /opd` (super_admin).
pub async fn create_opd(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<OpdInput>,
) -> Answer {
    caller.super_admin()?;
    let row = opd::ActiveModel {
        code: Set(text("code", body.code.as_deref(), 20)?),
        name: Set(text("name", body.name.as_deref(), 255)?),
        head_name: Set(opt_text("head_name", body.head_name.as_deref(), 255)?),
        contact: Set(body.contact.as_ref().map(Value::to_string)),
        is_active: Set(body.is_active.unwrap_or(true)),
        created_at: Set(state.clock.now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    crate::audit(&state, &caller, ip, "sakip_opd_create", row.id.to_string()).await;
    created(opd_json(&row))
}

/// `GET /opd/:id`.
pub async fn get_opd(State(state): State<AppState>, caller: Caller, Path(id): Path<i32>) -> Answer {
    caller.read(id)?;
    ok(opd_json(&find_opd(&state, id).await?))
}

/// `PUT /opd/:id`: a super_admin, or the OPD's own admin_opd.
pub async fn update_opd(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
    Body(body): Body<OpdInput>,
) -> Answer {
    caller.write(id)?;
    let found = find_opd(&state, id).await?;
    let mut row: opd::ActiveModel = found.into();
    if body.code.is_some() {
        caller.super_admin()?;
        row.code = Set(text("code", body.code.as_deref(), 20)?);
    }
    if body.name.is_some() {
        row.name = Set(text("name", body.name.as_deref(), 255)?);
    }
    if body.head_name.is_some() {
        row.head_name = Set(opt_text("head_name", body.head_name.as_deref(), 255)?);
    }
    if let Some(contact) = &body.contact {
        row.contact = Set(Some(contact.to_string()));
    }
    if let Some(active) = body.is_active {
        caller.super_admin()?;
        row.is_active = Set(active);
    }
    let saved = row.update(&state.db).await?;
    crate::audit(&state, &caller, ip, "sakip_opd_update", id.to_string()).await;
    ok(opd_json(&saved))
}

fn in_use(what: &str) -> SakipError {
    SakipError::conflict(Msg::owned(
        format!("Masih dipakai oleh {what}; hapus itu dahulu"),
        format!("Still used by {what}; remove those first"),
    ))
}

/// `DELETE /opd/:id` (super_admin): only an OPD without plans, budget or users.
pub async fn delete_opd(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
) -> Answer {
    caller.super_admin()?;
    find_opd(&state, id).await?;
    let plans = renstra::Entity::find()
        .filter(renstra::Column::OpdId.eq(id))
        .count(&state.db)
        .await?;
    if plans > 0 {
        return Err(in_use("renstra"));
    }
    if crate::auth::users_of_opd(&state, id).await? > 0 {
        return Err(in_use("users"));
    }
    if crate::budget::allocations_of_opd(&state, id).await? > 0 {
        return Err(in_use("budget_allocations"));
    }
    opd::Entity::delete_by_id(id).exec(&state.db).await?;
    crate::audit(&state, &caller, ip, "sakip_opd_delete", id.to_string()).await;
    ok(json!({ "id": id, "deleted": true }))
}

// ---------------------------------------------------------------- renstra

#[derive(Debug, Deserialize)]
pub struct RenstraInput {
    #[serde(default)]
    opd_id: Option<i32>,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    vision: Option<String>,
    #[serde(default)]
    mission: Option<Vec<String>>,
    #[serde(default)]
    is_active: Option<bool>,
}

/// A period `YYYY-YYYY` whose end is not before its start.
fn period(raw: Option<&str>) -> Result<String, SakipError> {
    let raw = text("period", raw, 20)?;
    let bad = || {
        SakipError::bad(Msg::new(
            "period harus berbentuk TAHUN-TAHUN, mis. 2021-2026",
            "period must look like YEAR-YEAR, e.g. 2021-2026",
        ))
    };
    let (from, to) = raw.split_once('-').ok_or_else(bad)?;
    let (from, to) = (
        from.parse::<u16>().map_err(|_| bad())?,
        to.parse::<u16>().map_err(|_| bad())?,
    );
    if from < 1900 || to < from || to > 2200 {
        return Err(bad());
    }
    Ok(raw)
}

fn renstra_json(row: &renstra::Model) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("id".into(), row.id.into());
    out.insert("opd_id".into(), row.opd_id.into());
    out.insert("period".into(), json!(row.period));
    out.insert("vision".into(), json!(row.vision));
    out.insert(
        "mission".into(),
        serde_json::from_str(&row.mission).unwrap_or_else(|_| json!([])),
    );
    out.insert("is_active".into(), json!(row.is_active));
    out.insert("created_at".into(), json!(rfc3339(row.created_at)));
    out
}

#[derive(Debug, Deserialize)]
pub struct RenstraFilter {
    #[serde(default)]
    opd_id: Option<i32>,
}

/// `GET /renstra?opd_id=&page=&limit=` (the page is read on its own: serde's `flatten`
/// would hand the numbers over as strings).
pub async fn list_renstra(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<RenstraFilter>,
    Query(page): Query<Page>,
) -> Answer {
    let (page_no, limit) = page.checked()?;
    let mut q = renstra::Entity::find();
    if let Some(scope) = caller.scope(filter.opd_id)? {
        q = q.filter(renstra::Column::OpdId.eq(scope));
    }
    let total = q.clone().count(&state.db).await?;
    let rows = q
        .order_by_asc(renstra::Column::Id)
        .offset((page_no - 1) * limit)
        .limit(limit)
        .all(&state.db)
        .await?;
    ok(page.answer(
        rows.iter()
            .map(|r| Value::Object(renstra_json(r)))
            .collect(),
        total,
    ))
}

/// `POST /renstra`.
pub async fn create_renstra(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<RenstraInput>,
) -> Answer {
    let opd_id = body.opd_id.ok_or_else(|| missing("opd_id"))?;
    caller.write(opd_id)?;
    find_opd(&state, opd_id).await?;
    let row = renstra::ActiveModel {
        opd_id: Set(opd_id),
        period: Set(period(body.period.as_deref())?),
        vision: Set(opt_text("vision", body.vision.as_deref(), 10_000)?),
        mission: Set(json!(body.mission.unwrap_or_default()).to_string()),
        is_active: Set(body.is_active.unwrap_or(true)),
        created_at: Set(state.clock.now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_renstra_create",
        row.id.to_string(),
    )
    .await;
    created(renstra_json(&row))
}

/// `GET /renstra/:id`.
pub async fn get_renstra(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i32>,
) -> Answer {
    let row = find_renstra(&state.db, id).await?;
    caller.read(row.opd_id)?;
    ok(renstra_json(&row))
}

/// `PUT /renstra/:id` (its OPD stays).
pub async fn update_renstra(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
    Body(body): Body<RenstraInput>,
) -> Answer {
    let found = find_renstra(&state.db, id).await?;
    caller.write(found.opd_id)?;
    if body.opd_id.is_some_and(|o| o != found.opd_id) {
        return Err(SakipError::bad(Msg::new(
            "OPD sebuah renstra tidak dapat diubah",
            "A renstra's OPD cannot change",
        )));
    }
    let mut row: renstra::ActiveModel = found.into();
    if body.period.is_some() {
        row.period = Set(period(body.period.as_deref())?);
    }
    if body.vision.is_some() {
        row.vision = Set(opt_text("vision", body.vision.as_deref(), 10_000)?);
    }
    if let Some(mission) = body.mission {
        row.mission = Set(json!(mission).to_string());
    }
    if let Some(active) = body.is_active {
        row.is_active = Set(active);
    }
    let saved = row.update(&state.db).await?;
    crate::audit(&state, &caller, ip, "sakip_renstra_update", id.to_string()).await;
    ok(renstra_json(&saved))
}

/// `DELETE /renstra/:id`: only a renstra without tujuan.
pub async fn delete_renstra(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
) -> Answer {
    let found = find_renstra(&state.db, id).await?;
    caller.write(found.opd_id)?;
    if !nodes(&state.db, Level::Tujuan, &[id], true)
        .await?
        .is_empty()
    {
        return Err(in_use("tujuan"));
    }
    renstra::Entity::delete_by_id(id).exec(&state.db).await?;
    crate::audit(&state, &caller, ip, "sakip_renstra_delete", id.to_string()).await;
    ok(json!({ "id": id, "deleted": true }))
}

/// `GET /renstra/:id/tree`: the renstra with its tujuan, each with its sasaran, … down to
/// kegiatan, every node with its `indicators`.
pub async fn tree(State(state): State<AppState>, caller: Caller, Path(id): Path<i32>) -> Answer {
    let root = find_renstra(&state.db, id).await?;
    caller.read(root.opd_id)?;
    // Load level by level, then nest bottom-up.
    let mut levels: Vec<(Level, Vec<NodeRow>)> = Vec::new();
    let mut parents = vec![id];
    for level in Level::ALL {
        let rows = nodes(&state.db, level, &parents, true).await?;
        parents = rows.iter().map(|r| r.id).collect();
        levels.push((level, rows));
    }
    let mut below: HashMap<i32, Vec<Value>> = HashMap::new();
    for (level, rows) in levels.into_iter().rev() {
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        let mut indicators = performance::indicators_of(&state.db, level, &ids).await?;
        let mut next: HashMap<i32, Vec<Value>> = HashMap::new();
        for row in &rows {
            let mut out = node_json(level, row);
            out.insert(
                "indicators".into(),
                Value::Array(indicators.remove(&row.id).unwrap_or_default()),
            );
            if let Some(child) = level.child() {
                out.insert(
                    child.name().into(),
                    Value::Array(below.remove(&row.id).unwrap_or_default()),
                );
            }
            next.entry(row.parent_id)
                .or_default()
                .push(Value::Object(out));
        }
        below = next;
    }
    let mut out = renstra_json(&root);
    out.insert(
        Level::Tujuan.name().into(),
        Value::Array(below.remove(&id).unwrap_or_default()),
    );
    ok(out)
}

// ---------------------------------------------------------------- the four levels

#[derive(Debug, Deserialize)]
pub struct NodeInput {
    #[serde(default)]
    renstra_id: Option<i32>,
    #[serde(default)]
    tujuan_id: Option<i32>,
    #[serde(default)]
    sasaran_id: Option<i32>,
    #[serde(default)]
    program_id: Option<i32>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    sort_order: Option<i32>,
}

impl NodeInput {
    fn parent(&self, level: Level) -> Option<i32> {
        match level {
            Level::Tujuan => self.renstra_id,
            Level::Sasaran => self.tujuan_id,
            Level::Program => self.sasaran_id,
            Level::Kegiatan => self.program_id,
        }
    }
}

/// `POST /<level>`.
pub async fn create_node(
    level: Level,
    state: AppState,
    caller: Caller,
    ip: ClientIp,
    body: NodeInput,
) -> Answer {
    let parent = body
        .parent(level)
        .ok_or_else(|| missing(level.parent_column()))?;
    let opd = opd_of_parent(&state.db, level, parent).await?;
    caller.write(opd)?;
    let code = opt_text("code", body.code.as_deref(), 20)?;
    let name = text("name", body.name.as_deref(), 10_000)?;
    let description = opt_text("description", body.description.as_deref(), 10_000)?;
    let insert = Sql::insert()
        .into_table(level.table())
        .columns(
            [
                level.parent_column(),
                "code",
                "name",
                "description",
                "sort_order",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values([
            parent.into(),
            code.into(),
            name.into(),
            description.into(),
            body.sort_order.into(),
            state.clock.now().into(),
        ])
        .map_err(|e| SakipError::from(sea_orm::DbErr::Custom(e.to_string())))?
        .returning_col(Alias::new("id"))
        .to_owned();
    let backend = state.db.get_database_backend();
    let id: i32 = state
        .db
        .query_one(backend.build(&insert))
        .await?
        .ok_or_else(|| SakipError::from(sea_orm::DbErr::RecordNotInserted))?
        .try_get("", "id")?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_node_create",
        format!("{}:{id}", level.name()),
    )
    .await;
    created(node_json(level, &node(&state.db, level, id).await?))
}

/// `GET /<level>/:id`: the node with its indicators.
pub async fn get_node(level: Level, state: AppState, caller: Caller, id: i32) -> Answer {
    let row = node(&state.db, level, id).await?;
    caller.read(opd_of_node(&state.db, level, id).await?)?;
    let mut out = node_json(level, &row);
    let mut indicators = performance::indicators_of(&state.db, level, &[id]).await?;
    out.insert(
        "indicators".into(),
        Value::Array(indicators.remove(&id).unwrap_or_default()),
    );
    ok(out)
}

/// `PUT /<level>/:id`: code, name, description, sort order (a node keeps its parent).
pub async fn update_node(
    level: Level,
    state: AppState,
    caller: Caller,
    ip: ClientIp,
    id: i32,
    body: NodeInput,
) -> Answer {
    let found = node(&state.db, level, id).await?;
    caller.write(opd_of_node(&state.db, level, id).await?)?;
    if body.parent(level).is_some_and(|p| p != found.parent_id) {
        return Err(SakipError::bad(Msg::new(
            "Induk sebuah node tidak dapat diubah",
            "A node's parent cannot change",
        )));
    }
    let mut update = Sql::update();
    update
        .table(level.table())
        .and_where(Expr::col(Alias::new("id")).eq(id));
    if body.code.is_some() {
        update.value(
            Alias::new("code"),
            opt_text("code", body.code.as_deref(), 20)?,
        );
    }
    if body.name.is_some() {
        update.value(
            Alias::new("name"),
            text("name", body.name.as_deref(), 10_000)?,
        );
    }
    if body.description.is_some() {
        update.value(
            Alias::new("description"),
            opt_text("description", body.description.as_deref(), 10_000)?,
        );
    }
    if let Some(order) = body.sort_order {
        update.value(Alias::new("sort_order"), order);
    }
    if !update.get_values().is_empty() {
        let backend = state.db.get_database_backend();
        state.db.execute(backend.build(&update)).await?;
    }
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_node_update",
        format!("{}:{id}", level.name()),
    )
    .await;
    ok(node_json(level, &node(&state.db, level, id).await?))
}

/// `DELETE /<level>/:id`: only a node without children and indicators.
pub async fn delete_node(
    level: Level,
    state: AppState,
    caller: Caller,
    ip: ClientIp,
    id: i32,
) -> Answer {
    node(&state.db, level, id).await?;
    caller.write(opd_of_node(&state.db, level, id).await?)?;
    if let Some(child) = level.child() {
        if !nodes(&state.db, child, &[id], true).await?.is_empty() {
            return Err(in_use(child.name()));
        }
    }
    if !performance::indicators_of(&state.db, level, &[id])
        .await?
        .is_empty()
    {
        return Err(in_use("indicators"));
    }
    let delete = Sql::delete()
        .from_table(level.table())
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let backend = state.db.get_database_backend();
    state.db.execute(backend.build(&delete)).await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_node_delete",
        format!("{}:{id}", level.name()),
    )
    .await;
    ok(json!({ "id": id, "deleted": true }))
}

/// Checks that `parent` of `level` exists and answers its OPD (for indicators).
pub async fn parent_opd(
    db: &impl ConnectionTrait,
    level: Level,
    parent: i32,
) -> Result<i32, SakipError> {
    opd_of_node(db, level, parent).await
}
