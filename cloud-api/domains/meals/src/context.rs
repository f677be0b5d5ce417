//! Who is calling: the caller's meals role and profile (the `Member` and `Admin`
//! extractors), the Jakarta calendar, pagination, and the seed's user view.

use axum::{extract::FromRequestParts, http::request::Parts};
use platform::{
    db::entities::user,
    i18n::Msg,
    identity::{AuthUser, Claims},
    state::AppState,
};
use sea_orm::{sea_query::OnConflict, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use time::{macros::offset, Date, OffsetDateTime, UtcOffset};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    entities::{department, employee, position},
    error::MealsError,
    DOMAIN,
};

/// Asia/Jakarta (UTC+7, no daylight saving): the portal's calendar.
pub const JAKARTA: UtcOffset = offset!(+7);

/// Today in Asia/Jakarta.
pub fn today(now: OffsetDateTime) -> Date {
    now.to_offset(JAKARTA).date()
}

/// Parses `YYYY-MM-DD` (a longer ISO timestamp is cut to its date).
pub fn parse_date(raw: &str, field: &str) -> Result<Date, MealsError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let raw = raw.trim();
    raw.get(..10)
        .filter(|_| raw.len() == 10 || raw.as_bytes().get(10) == Some(&b'T'))
        .and_then(|d| Date::parse(d, &format).ok())
        .ok_or_else(|| {
            MealsError::Invalid(Msg::owned(
                format!("{field} harus berupa tanggal YYYY-MM-DD"),
                format!("{field} must be a date YYYY-MM-DD"),
            ))
        })
}

/// A meals role (seed 003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Administrator,
    Employee,
    Dapur,
    Delivery,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "administrator" => Some(Role::Administrator),
            "employee" => Some(Role::Employee),
            "dapur" => Some(Role::Dapur),
            "delivery" => Some(Role::Delivery),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Employee => "employee",
            Role::Dapur => "dapur",
            Role::Delivery => "delivery",
        }
    }
}

/// The signed-in caller of a meals route: a meals role and a meals profile. A caller who
/// must change a reset password first is refused everywhere except `auth/me`,
/// `auth/change-password` and `auth/logout`.
#[derive(Debug, Clone)]
pub struct Member {
    pub claims: Claims,
    pub role: Role,
    pub profile: employee::Model,
}

impl Member {
    pub fn user_id(&self) -> Uuid {
        self.claims.sub
    }

    /// 403 unless the caller holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), MealsError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(MealsError::Forbidden(Msg::new(
                "Anda tidak memiliki akses",
                "You do not have access",
            )))
        }
    }
}

/// A [`Member`] who is a meals administrator: the administrators' routes (users, master
/// data writes, reports, the audit trail) refuse a temporary password like every other
/// route does.
#[derive(Debug, Clone)]
pub struct Admin(pub Member);

/// Like [`Member`], also admitted while a reset password still has to be changed.
#[derive(Debug, Clone)]
pub struct AnyMember(pub Member);

fn no_access() -> MealsError {
    MealsError::Forbidden(Msg::new(
        "Anda tidak memiliki akses ke portal pesanan makan",
        "You have no access to the meal portal",
    ))
}

/// A signed-in caller with a meals role, before their profile is read: enough to look up
/// an answer kept in memory (`order_board`); [`Caller::member`] completes it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: Claims,
    pub role: Role,
}

impl Caller {
    /// The [`Member`] this caller is, refused while a temporary password must be changed.
    pub async fn member(self, state: &AppState) -> Result<Member, MealsError> {
        let member = self.profiled(state).await?;
        if member.profile.must_change_password {
            return Err(MealsError::Forbidden(Msg::new(
                "Silakan ganti password sementara Anda terlebih dahulu",
                "Please change your temporary password first",
            )));
        }
        Ok(member)
    }

    async fn profiled(self, state: &AppState) -> Result<Member, MealsError> {
        let profile = profile_of(&state.db, self.claims.sub).await?;
        Ok(Member {
            claims: self.claims,
            role: self.role,
            profile,
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = platform::http::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let AuthUser(claims) = AuthUser::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                MealsError::Unauthorized(Msg::new(
                    "Token tidak valid atau sudah kedaluwarsa",
                    "The token is invalid or has expired",
                ))
            })?;
        let role = claims
            .roles
            .get(DOMAIN)
            .and_then(|r| Role::parse(r))
            .ok_or_else(no_access)?;
        Ok(Caller { claims, role })
    }
}

impl FromRequestParts<AppState> for Member {
    type Rejection = platform::http::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(caller.member(state).await?)
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = platform::http::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let member = Member::from_request_parts(parts, state).await?;
        member.require(&[Role::Administrator])?;
        Ok(Admin(member))
    }
}

impl FromRequestParts<AppState> for AnyMember {
    type Rejection = platform::http::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(AnyMember(caller.profiled(state).await?))
    }
}

/// The meals profile of `user`, made (without department or position) on first use: the
/// platform's bootstrap administrator has none until then.
pub async fn profile_of(
    db: &impl ConnectionTrait,
    user: Uuid,
) -> Result<employee::Model, MealsError> {
    if let Some(found) = employee::Entity::find()
        .filter(employee::Column::UserId.eq(user))
        .one(db)
        .await?
    {
        return Ok(found);
    }
    employee::Entity::insert(employee::ActiveModel {
        user_id: Set(user),
        department_id: Set(None),
        position_id: Set(None),
        must_change_password: Set(false),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(employee::Column::UserId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    employee::Entity::find()
        .filter(employee::Column::UserId.eq(user))
        .one(db)
        .await?
        .ok_or_else(crate::error::user_not_found)
}

/// `page` and `limit` (1-based; limit 1…100, 50 by default as in the seed).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: u64,
    pub limit: u64,
}

impl Page {
    pub fn parse(page: Option<&str>, limit: Option<&str>) -> Result<Page, MealsError> {
        let number = |raw: Option<&str>, default: u64, max: u64, name: &'static str| match raw
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    MealsError::Invalid(Msg::owned(
                        format!("{name} harus angka 1–{max}"),
                        format!("{name} must be a number 1–{max}"),
                    ))
                }),
        };
        Ok(Page {
            page: number(page, 1, 1_000_000, "page")?,
            limit: number(limit, 50, 100, "limit")?,
        })
    }

    pub fn offset(self) -> u64 {
        (self.page - 1) * self.limit
    }

    /// `{data, total, page, limit, totalPages}`.
    pub fn wrap<T: Serialize>(self, data: Vec<T>, total: u64) -> serde_json::Value {
        serde_json::json!({
            "data": data,
            "total": total,
            "page": self.page,
            "limit": self.limit,
            "totalPages": total.div_ceil(self.limit),
        })
    }
}

/// Parses an optional numeric id from a query string (`departmentId=abc` is a 400).
pub fn optional_id(raw: Option<&str>, name: &str) -> Result<Option<i32>, MealsError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => raw
            .parse::<i32>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| {
                MealsError::Invalid(Msg::owned(
                    format!("{name} harus berupa angka positif"),
                    format!("{name} must be a positive number"),
                ))
            }),
    }
}

/// A user as the portal shows it (seed 003 `user`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MealsUser {
    /// The meals profile id (`karyawan:<id>` room, `karyawanPemesanId`).
    pub id: i32,
    /// The platform user id (`user:<id>` room).
    pub user_id: Uuid,
    pub nik: Option<String>,
    pub nomor_induk_karyawan: Option<String>,
    pub nama_lengkap: String,
    pub role: Option<String>,
    pub role_access: Option<String>,
    pub department_id: Option<i32>,
    pub department_name: Option<String>,
    pub jabatan_id: Option<i32>,
    pub jabatan_name: Option<String>,
    pub is_active: bool,
    pub must_change_password: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Builds the view of `user` with its profile (names of department and position looked up).
pub async fn user_view(
    db: &impl ConnectionTrait,
    user: &user::Model,
    profile: &employee::Model,
) -> Result<MealsUser, MealsError> {
    let role = serde_json::from_str::<platform::identity::Roles>(&user.roles)
        .unwrap_or_default()
        .get(DOMAIN)
        .cloned();
    let department_name = match profile.department_id {
        Some(id) => department::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|d| d.name),
        None => None,
    };
    let jabatan_name = match profile.position_id {
        Some(id) => position::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|p| p.name),
        None => None,
    };
    Ok(MealsUser {
        id: profile.id,
        user_id: user.id,
        nik: user.employee_no.clone(),
        nomor_induk_karyawan: user.employee_no.clone(),
        nama_lengkap: user.name.clone(),
        role: role.clone(),
        role_access: role,
        department_id: profile.department_id,
        department_name,
        jabatan_id: profile.position_id,
        jabatan_name,
        is_active: !user.disabled,
        must_change_password: profile.must_change_password,
        created_at: user.created_at,
    })
}

/// A string field that must be present and within `min..=max` characters once trimmed.
pub fn text_between(
    raw: Option<&str>,
    field: &'static str,
    min: usize,
    max: usize,
) -> Result<String, MealsError> {
    let value = raw.map(str::trim).unwrap_or_default();
    let n = value.chars().count();
    if n < min || n > max {
        return Err(MealsError::Invalid(Msg::owned(
            format!("{field} harus {min}–{max} karakter"),
            format!("{field} must have {min}–{max} characters"),
        )));
    }
    Ok(value.to_owned())
}

/// The 400 for a body that is not what the route expects.
pub fn required(field: &'static str) -> MealsError {
    MealsError::Invalid(Msg::owned(
        format!("{field} harus diisi"),
        format!("{field} is required"),
    ))
}
