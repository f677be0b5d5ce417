//! Migration 3: identity for every domain — optional login identifiers (email, phone, NIK,
//! Google subject) and a department on `users`, rotating refresh tokens, the audit trail,
//! and notifications.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

use super::migration::Users;

#[derive(DeriveIden)]
enum UsersV3 {
    Phone,
    Nik,
    GoogleSub,
    Department,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    Family,
    UserId,
    TokenHash,
    IssuedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorId,
    Actor,
    Action,
    Target,
    Detail,
    Ip,
    Success,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    Title,
    Message,
    DeviceId,
    EventId,
    Read,
    CreatedAt,
}

pub(crate) struct M0003Identity;

impl MigrationName for M0003Identity {
    fn name(&self) -> &str {
        "m0003_identity"
    }
}

/// The users table as of this migration (email optional).
fn users_table(name: impl IntoIden + 'static) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(pk_uuid(Users::Id))
        .col(string_null(Users::Email).unique_key())
        .col(string(Users::Name))
        .col(string(Users::PasswordHash))
        .col(text(Users::Roles))
        .col(boolean(Users::Disabled).default(false))
        .col(timestamp_with_time_zone(Users::CreatedAt))
        .col(timestamp_with_time_zone(Users::UpdatedAt))
        .col(string_null(UsersV3::Phone))
        .col(string_null(UsersV3::Nik))
        .col(string_null(UsersV3::GoogleSub))
        .col(string_null(UsersV3::Department))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0003Identity {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                // SQLite cannot drop NOT NULL in place: rebuild the table (inside the one
                // transaction every migration runs in, `db::migrate`).
                let create = DbBackend::Sqlite
                    .build(&users_table(Alias::new("users_v3")))
                    .to_string();
                db.execute_unprepared(&format!(
                    "{create}; \
                     INSERT INTO users_v3 (id, email, name, password_hash, roles, disabled, created_at, updated_at) \
                     SELECT id, email, name, password_hash, roles, disabled, created_at, updated_at FROM users; \
                     DROP TABLE users; \
                     ALTER TABLE users_v3 RENAME TO users;"
                ))
                .await?;
            }
            _ => {
                db.execute_unprepared("ALTER TABLE users ALTER COLUMN email DROP NOT NULL")
                    .await?;
                for col in [
                    UsersV3::Phone,
                    UsersV3::Nik,
                    UsersV3::GoogleSub,
                    UsersV3::Department,
                ] {
                    manager
                        .alter_table(
                            Table::alter()
                                .table(Users::Table)
                                .add_column(string_null(col))
                                .to_owned(),
                        )
                        .await?;
                }
            }
        }
        for (name, col) in [
            ("users_phone", UsersV3::Phone),
            ("users_nik", UsersV3::Nik),
            ("users_google_sub", UsersV3::GoogleSub),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Users::Table)
                        .col(col)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::Family))
                    .col(uuid(RefreshTokens::UserId))
                    .col(string_uniq(RefreshTokens::TokenHash))
                    .col(timestamp_with_time_zone(RefreshTokens::IssuedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::Family)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_uuid(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_null(AuditLog::Actor))
                    .col(string(AuditLog::Action))
                    .col(string_null(AuditLog::Target))
                    .col(text_null(AuditLog::Detail))
                    .col(string_null(AuditLog::Ip))
                    .col(boolean(AuditLog::Success))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::UserId))
                    .col(string(Notifications::Kind))
                    .col(string(Notifications::Title))
                    .col(text(Notifications::Message))
                    .col(string_null(Notifications::DeviceId))
                    .col(uuid_null(Notifications::EventId))
                    .col(boolean(Notifications::Read).default(false))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notifications_user")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum UsersV12 {
    SessionEpoch,
}

/// Migration 12: a session epoch per user. Access tokens carry the epoch they were issued
/// under; disabling a user or changing their password bumps it, which ends every token
/// issued before at once.
pub(crate) struct M0012SessionEpoch;

impl MigrationName for M0012SessionEpoch {
    fn name(&self) -> &str {
        "m0012_users_session_epoch"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0012SessionEpoch {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer(UsersV12::SessionEpoch).default(0))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum UsersV14 {
    Username,
    EmployeeNo,
}

/// Migration 14: two more optional login identifiers — a username (SAKIP signs in with one)
/// and an employee number (the meals portal's NIK, such as `ADM001`), each unique.
pub(crate) struct M0014UsernameEmployeeNo;

impl MigrationName for M0014UsernameEmployeeNo {
    fn name(&self) -> &str {
        "m0014_users_username_employee_no"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0014UsernameEmployeeNo {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, col) in [
            ("users_username", UsersV14::Username),
            ("users_employee_no", UsersV14::EmployeeNo),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(string_null(col))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Users::Table)
                        .col(col)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Migration 20: TOTP multi-factor sign-in — each user's sealed secret, hashed recovery codes
/// and last accepted time step, and the short-lived challenges between password and code.
pub struct M0020IdentityTotp;

impl MigrationName for M0020IdentityTotp {
    fn name(&self) -> &str {
        "m0020_identity_totp"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0020IdentityTotp {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("user_mfa"))
                    .col(uuid(Alias::new("user_id")).primary_key())
                    .col(text(Alias::new("secret_sealed")))
                    .col(text(Alias::new("recovery_codes")))
                    .col(big_integer(Alias::new("last_step")).default(0))
                    .col(timestamp_with_time_zone_null(Alias::new("confirmed_at")))
                    .col(timestamp_with_time_zone(Alias::new("created_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("mfa_challenges"))
                    .col(string_len(Alias::new("token_hash"), 64).primary_key())
                    .col(uuid(Alias::new("user_id")))
                    .col(integer(Alias::new("attempts")).default(0))
                    .col(timestamp_with_time_zone(Alias::new("expires_at")))
                    .to_owned(),
            )
            .await
    }
}
