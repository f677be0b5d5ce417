//! `commands`: every command sent to a device and what became of it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "commands")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub device_id: String,
    /// The `protocol::Command` as JSON.
    pub command: String,
    pub issued_at: TimeDateTimeWithTimeZone,
    pub expires_at: TimeDateTimeWithTimeZone,
    /// `pending`, `acked`, `failed` or `expired`.
    pub status: String,
    pub acked_at: Option<TimeDateTimeWithTimeZone>,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
