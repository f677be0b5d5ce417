//! `devices`: every door or kiosk, its credentials and its sync progress.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub site: String,
    pub name: String,
    /// Base64 Ed25519 key that verifies the device's frames; set at enrolment.
    pub public_key: Option<String>,
    /// Hex SHA-256 of the device token; the token itself is never stored.
    pub token_hash: Option<String>,
    pub firmware: Option<String>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub enrolled_at: Option<TimeDateTimeWithTimeZone>,
    pub last_seen: Option<TimeDateTimeWithTimeZone>,
    pub online: bool,
    pub last_seq: i64,
    pub contiguous_seq: i64,
    pub events_stored: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
