//! SeaORM entities of the camera tables (see `migration`).

/// `camera_records`: seed 000's `Camera_Records` (the bytes live in the object store).
pub mod camera_record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "camera_records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub device_id: String,
        /// Object store key, made by the cloud only (`snapshots/{device}/{id}.jpg`).
        pub object_key: String,
        pub filename: String,
        pub timestamp: TimeDateTimeWithTimeZone,
        /// `capture` (asked for by an admin) or `snapshot` (sent by the device).
        pub event_type: String,
        pub file_size: i64,
        pub command_id: Option<Uuid>,
        /// The person an access decision tied this snapshot to (the event's `person.id`),
        /// so that their erasure and export reach it.
        pub person_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `system_settings`: seed 000's `System_Settings` (door settings per device as JSON).
pub mod system_setting {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "system_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub value: String,
        pub updated_at: TimeDateTimeWithTimeZone,
        pub updated_by: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
