//! The people tables: access profiles (weekly windows), encrypted face templates and the
//! gallery version. (`m0010_people` once created the attendance and camera tables too; those
//! domains now create them in their own migrations, where they are absent.)

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum PeopleProfiles {
    Table,
    UserId,
    Windows,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FaceTemplates {
    Table,
    Id,
    UserId,
    EmbedderSha256,
    Sealed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GalleryState {
    Table,
    Id,
    Version,
    UpdatedAt,
}

pub(crate) struct M0010People;

impl MigrationName for M0010People {
    fn name(&self) -> &str {
        "m0010_people"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0010People {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PeopleProfiles::Table)
                    .col(pk_uuid(PeopleProfiles::UserId))
                    .col(text(PeopleProfiles::Windows))
                    .col(timestamp_with_time_zone(PeopleProfiles::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FaceTemplates::Table)
                    .col(pk_uuid(FaceTemplates::Id))
                    .col(uuid(FaceTemplates::UserId))
                    .col(string(FaceTemplates::EmbedderSha256))
                    .col(blob(FaceTemplates::Sealed))
                    .col(timestamp_with_time_zone(FaceTemplates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_face_templates_user")
                    .table(FaceTemplates::Table)
                    .col(FaceTemplates::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GalleryState::Table)
                    .col(integer(GalleryState::Id).primary_key())
                    .col(big_integer(GalleryState::Version).default(0))
                    .col(timestamp_with_time_zone_null(GalleryState::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(GalleryState::Table)
            .columns([GalleryState::Id, GalleryState::Version])
            .values_panic([1.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(insert).await
    }
}

#[derive(DeriveIden)]
enum FaceConsents {
    Table,
    Id,
    UserId,
    GrantedBy,
    GrantedByEmail,
    GrantedAt,
    GrantedFrom,
    TextVersion,
    WithdrawnAt,
    WithdrawnBy,
}

/// Consent to face enrolment (UU PDP art. 20, GDPR art. 9(2)(a)): who gave it, when, from
/// where, under which version of the text; and its withdrawal.
pub(crate) struct M0015FaceConsents;

impl MigrationName for M0015FaceConsents {
    fn name(&self) -> &str {
        "m0015_face_consents"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0015FaceConsents {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FaceConsents::Table)
                    .col(pk_uuid(FaceConsents::Id))
                    .col(uuid(FaceConsents::UserId))
                    .col(uuid(FaceConsents::GrantedBy))
                    .col(string_null(FaceConsents::GrantedByEmail))
                    .col(timestamp_with_time_zone(FaceConsents::GrantedAt))
                    .col(string(FaceConsents::GrantedFrom))
                    .col(string(FaceConsents::TextVersion))
                    .col(timestamp_with_time_zone_null(FaceConsents::WithdrawnAt))
                    .col(uuid_null(FaceConsents::WithdrawnBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_face_consents_user")
                    .table(FaceConsents::Table)
                    .col(FaceConsents::UserId)
                    .to_owned(),
            )
            .await
    }
}
