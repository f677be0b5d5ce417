//! `audit_log`: privileged and security-relevant actions — who, what, when, from where.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: TimeDateTimeWithTimeZone,
    pub actor_id: Option<Uuid>,
    /// What identified the actor (an email, `phone:…`, `nik:…`), when known.
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    /// JSON with details; never secrets.
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub success: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
