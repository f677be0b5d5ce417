//! People as seed 000's door admin and seed 001's attendance admin see them: the user list
//! (with `total_users` and each user's `attendance_count`), creation, partial updates,
//! enabled/disabled, weekly access windows, removal, and face registration. Every change the
//! device gallery depends on bumps the gallery version in the same transaction and publishes
//! a notice after the commit. Handlers (and the admin UI) call these functions.

use crate::PeopleRuntime;
use std::collections::HashMap;

use models::Embedding;
use protocol::{sync::AccessWindow, EventKind};
use sea_orm::{
    sea_query::OnConflict, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    entities::{face_template, profile},
    faces::{self, Probe},
    gallery,
    runtime::parse_hhmm,
};
use platform::identity::parse_roles;
use platform::{
    db::entities::{notification, refresh_token, user},
    error::{DbContext, ServiceError},
    i18n::Msg,
    identity::{self, epochs, Email, LoginId, Nik, Phone, Roles},
    secrets::random_bytes,
    state::Platform,
};

/// Most access windows per person.
const MAX_WINDOWS: usize = 28;
/// Most face templates per person (several photos match better than one); registering
/// another drops the oldest.
pub const MAX_TEMPLATES: u64 = 5;
/// Longest name accepted.
const MAX_NAME_CHARS: usize = 100;

pub fn user_not_found() -> ServiceError {
    ServiceError::NotFound(Msg::new("User tidak ditemukan", "User not found"))
}

/// The seed-001 `role`: the attendance role when the user has one, else the access role.
pub fn display_role(roles: &Roles) -> String {
    roles
        .get("attendance")
        .or_else(|| roles.get("access"))
        .cloned()
        .unwrap_or_else(|| "mahasiswa".into())
}

/// A person in `GET /api/users`: seed 001's fields, plus seed 000's door fields.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The national id number, masked (`3201********0001`).
    pub nik: Option<String>,
    pub name: String,
    /// Seed 001's role: the attendance role (`admin`/`mahasiswa`) when set, else the
    /// access role (`admin`/`member`).
    pub role: String,
    /// Every domain's role.
    #[schema(value_type = Object)]
    pub roles: Roles,
    pub department: Option<String>,
    /// A disabled person can neither sign in nor open a door (devices deny them).
    pub enabled: bool,
    /// Weekly access windows in the site's time zone; empty = at any time.
    #[schema(value_type = Vec<Object>)]
    pub windows: Vec<AccessWindow>,
    /// Whether a face template is enrolled (the template itself is never returned).
    pub face_registered: bool,
    /// How many face templates are enrolled (at most [`MAX_TEMPLATES`]).
    pub faces_enrolled: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub face_registered_at: Option<OffsetDateTime>,
    /// Attendance records (days attended).
    pub attendance_count: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// `{total_users, users}` (seed 001's shape).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeopleList {
    pub total_users: u64,
    pub users: Vec<PersonView>,
}

struct Extras {
    windows: HashMap<Uuid, Vec<AccessWindow>>,
    /// The newest template's time and how many there are.
    faces: HashMap<Uuid, (OffsetDateTime, u32)>,
    attendance: HashMap<Uuid, u64>,
}

/// Weekly access windows by person: of `ids`, or of everyone.
pub async fn access_windows(
    db: &impl ConnectionTrait,
    ids: Option<Vec<Uuid>>,
) -> Result<HashMap<Uuid, Vec<AccessWindow>>, ServiceError> {
    let mut profiles = profile::Entity::find();
    if let Some(ids) = ids {
        profiles = profiles.filter(profile::Column::UserId.is_in(ids));
    }
    Ok(profiles
        .all(db)
        .await
        .db("loading access windows")?
        .into_iter()
        .map(|p| {
            (
                p.user_id,
                serde_json::from_str(&p.windows).unwrap_or_default(),
            )
        })
        .collect())
}

async fn extras(platform: &Platform, ids: Option<Vec<Uuid>>) -> Result<Extras, ServiceError> {
    let db = &platform.db;
    let windows = access_windows(db, ids.clone()).await?;
    let mut templates = face_template::Entity::find()
        .select_only()
        .column(face_template::Column::UserId)
        .column(face_template::Column::CreatedAt);
    if let Some(ids) = &ids {
        templates = templates.filter(face_template::Column::UserId.is_in(ids.clone()));
    }
    let mut faces: HashMap<Uuid, (OffsetDateTime, u32)> = HashMap::new();
    for (user_id, at) in templates
        .into_tuple::<(Uuid, OffsetDateTime)>()
        .all(db)
        .await
        .db("loading face registrations")?
    {
        let entry = faces.entry(user_id).or_insert((at, 0));
        *entry = (entry.0.max(at), entry.1 + 1);
    }
    // Seed 001's `attendance_count`, from the attendance domain when it runs.
    let attendance = match platform.personal_data_of("attendance") {
        Some(records) => records
            .count(db, ids.as_deref())
            .await
            .db("counting attendance")?,
        None => HashMap::new(),
    };
    Ok(Extras {
        windows,
        faces,
        attendance,
    })
}

fn view(u: user::Model, extras: &Extras) -> PersonView {
    let roles = parse_roles(&u.roles);
    PersonView {
        id: u.id,
        email: u.email,
        phone: u.phone,
        // Shown to admins, never in full (the holder sees theirs in /api/auth/me).
        nik: u.nik.as_deref().map(identity::ids::mask_national_id),
        name: u.name,
        role: display_role(&roles),
        roles,
        department: u.department,
        enabled: !u.disabled,
        windows: extras.windows.get(&u.id).cloned().unwrap_or_default(),
        face_registered: extras.faces.contains_key(&u.id),
        faces_enrolled: extras.faces.get(&u.id).map_or(0, |f| f.1),
        face_registered_at: extras.faces.get(&u.id).map(|f| f.0),
        attendance_count: extras.attendance.get(&u.id).copied().unwrap_or(0),
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

/// Every user, oldest first.
pub async fn list_people(platform: &Platform) -> Result<PeopleList, ServiceError> {
    let users = user::Entity::find()
        .order_by_asc(user::Column::CreatedAt)
        .order_by_asc(user::Column::Id)
        .all(&platform.db)
        .await
        .db("listing users")?;
    let extras = extras(platform, None).await?;
    let users: Vec<PersonView> = users.into_iter().map(|u| view(u, &extras)).collect();
    Ok(PeopleList {
        total_users: users.len() as u64,
        users,
    })
}

/// One person.
pub async fn get_person(platform: &Platform, id: Uuid) -> Result<PersonView, ServiceError> {
    let found = identity::find_by_id(&platform.db, id)
        .await?
        .ok_or_else(user_not_found)?;
    let extras = extras(platform, Some(vec![id])).await?;
    Ok(view(found, &extras))
}

/// Checks windows: ISO days 1–7, `HH:MM` bounds with start before end.
pub fn validate_windows(windows: &[AccessWindow]) -> Result<(), ServiceError> {
    let bad = |id: String, en: String| ServiceError::Invalid(Msg::owned(id, en));
    if windows.len() > MAX_WINDOWS {
        return Err(bad(
            format!("Paling banyak {MAX_WINDOWS} jendela akses"),
            format!("At most {MAX_WINDOWS} access windows"),
        ));
    }
    for w in windows {
        if w.days.is_empty() || w.days.iter().any(|d| !(1..=7).contains(d)) {
            return Err(bad(
                "Hari jendela akses harus 1 (Senin) sampai 7 (Minggu)".into(),
                "Access window days must be 1 (Monday) to 7 (Sunday)".into(),
            ));
        }
        match (parse_hhmm(&w.start, false), parse_hhmm(&w.end, true)) {
            (Some(s), Some(e)) if s < e => {}
            _ => {
                return Err(bad(
                    format!(
                        "Jendela akses {}–{} tidak valid (HH:MM, mulai sebelum selesai)",
                        w.start, w.end
                    ),
                    format!(
                        "Access window {}–{} is not valid (HH:MM, start before end)",
                        w.start, w.end
                    ),
                ))
            }
        }
    }
    Ok(())
}

fn validate_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::Invalid(Msg::new(
            "Nama harus diisi",
            "Name is required",
        )));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::Invalid(Msg::owned(
            format!("Nama paling panjang {MAX_NAME_CHARS} karakter"),
            format!("The name may have at most {MAX_NAME_CHARS} characters"),
        )));
    }
    Ok(name.to_owned())
}

fn access_role(role: Option<&str>) -> Result<Roles, ServiceError> {
    let role = role.unwrap_or("member");
    let attendance = match role {
        "admin" => "admin",
        "member" => "mahasiswa",
        _ => {
            return Err(ServiceError::Invalid(Msg::new(
                "role harus \"admin\" atau \"member\"",
                "role must be \"admin\" or \"member\"",
            )))
        }
    };
    Ok([("access", role), ("attendance", attendance)]
        .map(|(d, r)| (d.to_owned(), r.to_owned()))
        .into())
}

fn invalid_id(e: identity::ids::IdError) -> ServiceError {
    ServiceError::Invalid(e.0)
}

/// `POST /api/users`.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Siti Rahma", "email": "siti.rahma@example.com", "role": "member"}))]
pub struct NewPerson {
    /// 1–100 characters once trimmed.
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: String,
    /// At least one of email, phone, NIK.
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// An Indonesian number (`0812…`, `62812…`, `+62 812-…`); the pattern documents the
    /// mobile form.
    #[serde(default)]
    #[schema(pattern = "^08[1-35-9][0-9]{7,9}$")]
    pub phone: Option<String>,
    /// 16 digits.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{16}$")]
    pub nik: Option<String>,
    /// At least 8 characters; without one the person cannot sign in (door and kiosk only).
    #[serde(default)]
    #[schema(min_length = 8)]
    pub password: Option<String>,
    /// `admin` or `member` (default) in the access domain; admins are attendance admins too.
    #[serde(default)]
    #[schema(pattern = "^(admin|member)$")]
    pub role: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub windows: Option<Vec<AccessWindow>>,
}

fn some_trimmed(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Creates a person (and their access profile).
pub async fn create_person(
    platform: &Platform,
    new: NewPerson,
) -> Result<PersonView, ServiceError> {
    let name = validate_name(&new.name)?;
    let roles = access_role(new.role.as_deref())?;
    let windows = new.windows.unwrap_or_default();
    validate_windows(&windows)?;
    let password = match some_trimmed(&new.password) {
        Some(_) => new.password.clone().unwrap_or_default(),
        // No password: a random one nobody knows (the person uses doors and kiosks only).
        None => hex::encode(random_bytes::<24>()),
    };
    let created = identity::create_user(
        &platform.db,
        &platform.roles,
        identity::NewUser {
            email: some_trimmed(&new.email)
                .map(Email::parse)
                .transpose()
                .map_err(invalid_id)?,
            phone: some_trimmed(&new.phone)
                .map(Phone::parse)
                .transpose()
                .map_err(invalid_id)?,
            nik: some_trimmed(&new.nik)
                .map(Nik::parse)
                .transpose()
                .map_err(invalid_id)?,
            name,
            password,
            roles,
            department: some_trimmed(&new.department).map(str::to_owned),
            ..identity::NewUser::default()
        },
    )
    .await?;
    let now = OffsetDateTime::now_utc();
    if new.enabled == Some(false) {
        user::ActiveModel {
            id: Set(created.id),
            disabled: Set(true),
            ..Default::default()
        }
        .update(&platform.db)
        .await
        .db("disabling a new user")?;
    }
    upsert_windows(&platform.db, created.id, &windows, now).await?;
    get_person(platform, created.id).await
}

async fn upsert_windows(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    windows: &[AccessWindow],
    now: OffsetDateTime,
) -> Result<(), ServiceError> {
    profile::Entity::insert(profile::ActiveModel {
        user_id: Set(user_id),
        windows: Set(serde_json::to_string(windows).unwrap_or_else(|_| "[]".into())),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(profile::Column::UserId)
            .update_columns([profile::Column::Windows, profile::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .db("storing access windows")?;
    Ok(())
}

/// `PUT /api/users/{id}`: absent fields keep their value.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub nik: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// `admin` or `member`.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub windows: Option<Vec<AccessWindow>>,
}

async fn ensure_free(
    db: &impl ConnectionTrait,
    id: &LoginId,
    me: Uuid,
) -> Result<(), ServiceError> {
    if let Some(other) = identity::find_by_login(db, id).await? {
        if other.id != me {
            return Err(ServiceError::Conflict(id.taken()));
        }
    }
    Ok(())
}

/// Applies `patch` to person `id`. `actor` may not disable or demote themselves.
pub async fn update_person(
    platform: &Platform,
    id: Uuid,
    patch: PersonPatch,
    actor: Uuid,
) -> Result<PersonView, ServiceError> {
    let found = identity::find_by_id(&platform.db, id)
        .await?
        .ok_or_else(user_not_found)?;
    if actor == id && (patch.enabled == Some(false) || patch.role.as_deref() == Some("member")) {
        return Err(ServiceError::Invalid(Msg::new(
            "Anda tidak dapat menonaktifkan atau menurunkan peran akun sendiri",
            "You cannot disable or demote your own account",
        )));
    }
    if let Some(windows) = &patch.windows {
        validate_windows(windows)?;
    }
    let now = OffsetDateTime::now_utc();
    let mut row: user::ActiveModel = found.clone().into();
    let mut gallery_changed = patch.windows.is_some();
    if let Some(name) = &patch.name {
        let name = validate_name(name)?;
        gallery_changed |= name != found.name;
        row.name = Set(name);
    }
    if let Some(email) = some_trimmed(&patch.email) {
        let email = Email::parse(email).map_err(invalid_id)?;
        ensure_free(&platform.db, &LoginId::Email(email.clone()), id).await?;
        row.email = Set(Some(email.as_str().to_owned()));
    }
    if let Some(phone) = some_trimmed(&patch.phone) {
        let phone = Phone::parse(phone).map_err(invalid_id)?;
        ensure_free(&platform.db, &LoginId::Phone(phone.clone()), id).await?;
        row.phone = Set(Some(phone.as_str().to_owned()));
    }
    if let Some(nik) = some_trimmed(&patch.nik) {
        let nik = Nik::parse(nik).map_err(invalid_id)?;
        ensure_free(&platform.db, &LoginId::Nik(nik.clone()), id).await?;
        row.nik = Set(Some(nik.as_str().to_owned()));
    }
    if let Some(password) = &patch.password {
        row.password_hash = Set(identity::hash_new_password(password).await?);
    }
    if let Some(role) = patch.role.as_deref() {
        let mut roles = parse_roles(&found.roles);
        roles.extend(access_role(Some(role))?);
        row.roles = Set(serde_json::to_string(&roles).unwrap_or_default());
    }
    if let Some(department) = &patch.department {
        row.department = Set(Some(department.trim().to_owned()).filter(|d| !d.is_empty()));
    }
    if let Some(enabled) = patch.enabled {
        gallery_changed |= enabled == found.disabled;
        row.disabled = Set(!enabled);
    }
    row.updated_at = Set(now);
    let has_face = face_template::Entity::find()
        .filter(face_template::Column::UserId.eq(id))
        .one(&platform.db)
        .await
        .db("checking face templates")?
        .is_some();
    // Disabling (or re-enabling) someone or setting their password ends their sessions.
    let ends_sessions =
        patch.password.is_some() || patch.enabled.is_some_and(|e| e == found.disabled);
    let txn = platform.db.begin().await.db("starting a user update")?;
    row.update(&txn).await.db("updating a user")?;
    if let Some(windows) = &patch.windows {
        upsert_windows(&txn, id, windows, now).await?;
    }
    let version = if gallery_changed && has_face {
        Some(gallery::bump(&txn).await?)
    } else {
        None
    };
    let standing = if ends_sessions {
        Some(epochs::bump(&txn, id, now).await?)
    } else {
        None
    };
    txn.commit().await.db("committing a user update")?;
    if let Some(standing) = standing {
        platform.sessions_ended(id, standing).await;
    }
    if let Some(version) = version {
        gallery::notify(platform, version).await;
    }
    get_person(platform, id).await
}

/// Removes person `id` with their templates, access profile, sessions, notifications and
/// every domain's records of them (`PersonalData::erase`: attendance, snapshots, …); the
/// access log and the stored device events keep the events without them. `actor` may not
/// remove themselves.
pub async fn delete_person(platform: &Platform, id: Uuid, actor: Uuid) -> Result<(), ServiceError> {
    if actor == id {
        return Err(ServiceError::Invalid(Msg::new(
            "Anda tidak dapat menghapus akun sendiri",
            "You cannot delete your own account",
        )));
    }
    identity::find_by_id(&platform.db, id)
        .await?
        .ok_or_else(user_not_found)?;
    let txn = platform.db.begin().await.db("starting a user removal")?;
    let templates = face_template::Entity::delete_many()
        .filter(face_template::Column::UserId.eq(id))
        .exec(&txn)
        .await
        .db("removing face templates")?
        .rows_affected;
    profile::Entity::delete_by_id(id)
        .exec(&txn)
        .await
        .db("removing an access profile")?;
    // What the other domains keep about the person goes in the same transaction (the
    // access log keeps the events without them; their snapshots are deleted).
    for (_, data) in &platform.personal_data {
        data.erase(&txn, id)
            .await
            .db("removing a domain's records of the user")?;
    }
    platform::ingest::forget::pseudonymise_person(
        &txn,
        id,
        &[EventKind::AccessDecision, EventKind::Attendance],
    )
    .await
    .db("pseudonymising the user's device events")?;
    platform::ingest::forget::remember_erasure(&txn, id, OffsetDateTime::now_utc())
        .await
        .db("remembering an erasure")?;
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::UserId.eq(id))
        .exec(&txn)
        .await
        .db("removing sessions")?;
    notification::Entity::delete_many()
        .filter(notification::Column::UserId.eq(id))
        .exec(&txn)
        .await
        .db("removing notifications")?;
    user::Entity::delete_by_id(id)
        .exec(&txn)
        .await
        .db("removing a user")?;
    let version = if templates > 0 {
        Some(gallery::bump(&txn).await?)
    } else {
        None
    };
    txn.commit().await.db("committing a user removal")?;
    platform.sessions_ended(id, epochs::REMOVED).await;
    if let Some(version) = version {
        gallery::notify(platform, version).await;
    }
    Ok(())
}

/// What a face registration did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FaceRegistered {
    pub user: PersonView,
    /// The gallery version devices are told to fetch.
    pub gallery_version: u64,
    pub detection_score: f32,
    /// Single-frame liveness score of the photo (0–1; a weak signal, see the models README).
    pub liveness: f32,
}

/// Enrols the single face in `photo` as one more of person `id`'s templates (at most
/// [`MAX_TEMPLATES`]: the oldest are dropped), or as their only one when `replace`; bumps
/// the gallery and tells the devices.
pub async fn register_face(
    platform: &Platform,
    id: Uuid,
    photo: Vec<u8>,
    replace: bool,
    consent: &crate::consent::GivenConsent,
) -> Result<FaceRegistered, ServiceError> {
    identity::find_by_id(&platform.db, id)
        .await?
        .ok_or_else(user_not_found)?;
    let runtime = platform.domain::<PeopleRuntime>();
    let embedder = runtime.embedder_sha256.clone().ok_or_else(|| {
        ServiceError::internal("registering a face", "the models manifest is not readable")
    })?;
    let Probe {
        embedding,
        detection_score,
        liveness,
    } = faces::single_face(runtime.models_dir.clone(), photo).await?;
    let sealed = runtime.cipher.seal(id, &embedding)?;
    let now = OffsetDateTime::now_utc();
    let txn = platform
        .db
        .begin()
        .await
        .db("starting a face registration")?;
    // The gallery row first: it serialises registrations, so the pruning below sees every
    // template committed before this one (PostgreSQL read committed).
    let version = gallery::bump(&txn).await?;
    crate::consent::record(&txn, &runtime.consent, id, consent, now).await?;
    if replace {
        face_template::Entity::delete_many()
            .filter(face_template::Column::UserId.eq(id))
            .exec(&txn)
            .await
            .db("replacing face templates")?;
    }
    face_template::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(id),
        embedder_sha256: Set(embedder),
        sealed: Set(sealed),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .db("storing a face template")?;
    // Ids are UUIDv7: newest first by id, also within one clock tick. A person has at most
    // MAX_TEMPLATES + 1 rows here, so the cut is made in memory (SQLite has no OFFSET
    // without LIMIT).
    let newest_first: Vec<Uuid> = face_template::Entity::find()
        .select_only()
        .column(face_template::Column::Id)
        .filter(face_template::Column::UserId.eq(id))
        .order_by_desc(face_template::Column::CreatedAt)
        .order_by_desc(face_template::Column::Id)
        .into_tuple()
        .all(&txn)
        .await
        .db("finding the oldest face templates")?;
    let oldest: Vec<Uuid> = newest_first
        .into_iter()
        .skip(MAX_TEMPLATES as usize)
        .collect();
    if !oldest.is_empty() {
        face_template::Entity::delete_many()
            .filter(face_template::Column::Id.is_in(oldest))
            .exec(&txn)
            .await
            .db("dropping the oldest face templates")?;
    }
    txn.commit().await.db("committing a face registration")?;
    gallery::notify(platform, version).await;
    tracing::info!(user = %id, version, replace, "Face registered.");
    Ok(FaceRegistered {
        user: get_person(platform, id).await?,
        gallery_version: version,
        detection_score,
        liveness,
    })
}

/// Person `id`'s templates of the current embedder, opened.
pub async fn templates_of(platform: &Platform, id: Uuid) -> Result<Vec<Embedding>, ServiceError> {
    let Some(embedder) = platform
        .domain::<PeopleRuntime>()
        .embedder_sha256
        .as_deref()
    else {
        return Ok(Vec::new());
    };
    let rows = face_template::Entity::find()
        .filter(face_template::Column::UserId.eq(id))
        .filter(face_template::Column::EmbedderSha256.eq(embedder))
        .all(&platform.db)
        .await
        .db("loading face templates")?;
    rows.iter()
        .map(|row| {
            platform
                .domain::<PeopleRuntime>()
                .cipher
                .open(id, &row.sealed)
        })
        .collect()
}
