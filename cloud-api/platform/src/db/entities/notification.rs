//! `notifications` (seed 000 `Notifications`): one row per recipient.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// `forced_open`, `held_open`, `battery_low`, `battery_critical`, `unknown_face`,
    /// `device_offline`, or what an admin chose.
    pub kind: String,
    pub title: String,
    pub message: String,
    pub device_id: Option<String>,
    /// The device event that caused it, if any.
    pub event_id: Option<Uuid>,
    pub read: bool,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
