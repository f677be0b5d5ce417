//! SeaORM entities of the people, attendance and camera tables (see `migration`).

/// `people_profiles`: a person's weekly access windows (JSON list of `AccessWindow`).
pub mod profile {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "people_profiles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        pub windows: String,
        pub updated_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `face_templates`: one sealed (AEAD) embedding per row; never logged, never returned.
pub mod face_template {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "face_templates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        /// The embedder the template was made with (manifest sha256).
        pub embedder_sha256: String,
        /// `nonce || ciphertext` (XChaCha20-Poly1305, the user id as associated data).
        pub sealed: Vec<u8>,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("FaceTemplate")
                .field("id", &self.id)
                .field("user_id", &self.user_id)
                .finish_non_exhaustive()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `attendance`: seed 001's attendance table, plus where the record came from.
pub mod attendance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "attendance")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        /// Site-local day `YYYY-MM-DD`.
        pub local_date: String,
        pub timestamp: TimeDateTimeWithTimeZone,
        pub status: String,
        /// `web` (POST /api/attendance) or `device` (a kiosk's event).
        pub source: String,
        pub device_id: Option<String>,
        pub direction: String,
        pub late: bool,
        pub score: Option<f64>,
        pub created_at: TimeDateTimeWithTimeZone,
        /// The day's last check-out (kiosk events), if any.
        pub check_out: Option<TimeDateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

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
