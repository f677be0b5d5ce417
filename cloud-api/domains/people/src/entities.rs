//! SeaORM entities of the people tables (see `migration`).

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

/// A person's consent to face enrolment, and its withdrawal.
pub mod face_consent {
    use sea_orm::entity::prelude::*;
    use serde::Serialize;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, utoipa::ToSchema)]
    #[sea_orm(table_name = "face_consents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The person enrolled.
        pub user_id: Uuid,
        /// Who gave it: the person, or the admin acting for them.
        pub granted_by: Uuid,
        pub granted_by_email: Option<String>,
        #[schema(value_type = String, format = DateTime)]
        #[serde(with = "time::serde::rfc3339")]
        pub granted_at: TimeDateTimeWithTimeZone,
        /// The client address it was given from.
        pub granted_from: String,
        /// The version of the consent text shown.
        pub text_version: String,
        #[schema(value_type = Option<String>, format = DateTime)]
        #[serde(with = "time::serde::rfc3339::option")]
        pub withdrawn_at: Option<TimeDateTimeWithTimeZone>,
        pub withdrawn_by: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
