//! `enrollment_codes`: single-use codes an admin hands to an installer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "enrollment_codes")]
pub struct Model {
    /// Hex SHA-256 of the code; the code itself is shown once and never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub code_hash: String,
    pub device_id: String,
    pub site: String,
    pub created_at: TimeDateTimeWithTimeZone,
    pub expires_at: TimeDateTimeWithTimeZone,
    pub used_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
