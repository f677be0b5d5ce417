//! `users`: one row per person for every domain, with optional login identifiers (email,
//! phone, NIK, username, employee number, Google subject); roles per domain as a JSON object.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: Option<String>,
    pub name: String,
    pub password_hash: String,
    /// JSON object: domain → role, e.g. `{"access":"admin","attendance":"admin"}`.
    pub roles: String,
    pub disabled: bool,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
    /// Canonical `62…` digits (`identity::Phone`).
    pub phone: Option<String>,
    /// 16 digits (`identity::Nik`).
    pub nik: Option<String>,
    /// Google's `sub` for this person, once they signed in with Google.
    pub google_sub: Option<String>,
    /// Department, for `dept:…` realtime rooms.
    pub department: Option<String>,
    /// Bumped when the user is disabled or their password changes: access tokens issued
    /// under an older epoch stop working (`identity::epochs`).
    pub session_epoch: i64,
    /// Lower-case (`identity::Username`); SAKIP signs in with it.
    pub username: Option<String>,
    /// Upper-case (`identity::EmployeeNo`); the meals portal's NIK, e.g. `ADM001`.
    pub employee_no: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
