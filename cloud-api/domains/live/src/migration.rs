//! The live domain's tables (all `live_…`): profiles, coin wallets (never negative: a CHECK
//! constraint), the ledger, the gift catalogue, sent gifts, host income, live sessions (one
//! open session per host: a partial unique index) and idempotency keys. Times are unix
//! seconds (BIGINT), so period queries compare integers on both backends.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum LiveProfiles {
    Table,
    UserId,
    Gender,
    Age,
    Signature,
    AvatarUrl,
    Level,
    VipLevel,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LiveWallets {
    Table,
    UserId,
    Balance,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LiveLedger {
    Table,
    Id,
    Account,
    Delta,
    BalanceAfter,
    Kind,
    Reference,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LiveGiftCatalog {
    Table,
    Id,
    Name,
    CoinValue,
    Category,
    Icon,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LiveGifts {
    Table,
    Id,
    SenderId,
    ReceiverId,
    GiftId,
    GiftName,
    CoinValue,
    Quantity,
    LiveSessionId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LiveHostIncome {
    Table,
    Id,
    HostId,
    GiftId,
    SenderId,
    Income,
    Type,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LiveSessions {
    Table,
    Id,
    HostId,
    RoomId,
    StartTime,
    EndTime,
    DurationSeconds,
    TotalIncome,
    TotalViewers,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LiveIdempotency {
    Table,
    SenderId,
    Key,
    Response,
    CreatedAt,
}

/// Migration m0300 (live): every table of the domain.
pub struct M0300LiveCore;

impl MigrationName for M0300LiveCore {
    fn name(&self) -> &str {
        "m0300_live_core"
    }
}

fn index(
    name: &str,
    table: impl IntoIden + 'static,
    cols: &[&'static str],
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.if_not_exists().name(name).table(table);
    for col in cols {
        index.col(Alias::new(*col));
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0300LiveCore {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LiveProfiles::Table)
                    .if_not_exists()
                    .col(pk_uuid(LiveProfiles::UserId))
                    .col(string_null(LiveProfiles::Gender))
                    .col(integer_null(LiveProfiles::Age))
                    .col(string_null(LiveProfiles::Signature))
                    .col(string_null(LiveProfiles::AvatarUrl))
                    .col(integer(LiveProfiles::Level).default(1))
                    .col(integer(LiveProfiles::VipLevel).default(0))
                    .col(big_integer(LiveProfiles::CreatedAt))
                    .col(big_integer(LiveProfiles::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LiveWallets::Table)
                    .if_not_exists()
                    .col(pk_uuid(LiveWallets::UserId))
                    .col(
                        big_integer(LiveWallets::Balance)
                            .default(0)
                            .check(Expr::col(LiveWallets::Balance).gte(0)),
                    )
                    .col(big_integer(LiveWallets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LiveLedger::Table)
                    .if_not_exists()
                    .col(pk_uuid(LiveLedger::Id))
                    .col(uuid(LiveLedger::Account))
                    .col(big_integer(LiveLedger::Delta))
                    .col(big_integer(LiveLedger::BalanceAfter))
                    .col(string(LiveLedger::Kind))
                    .col(string(LiveLedger::Reference))
                    .col(big_integer(LiveLedger::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_live_ledger_account",
                LiveLedger::Table,
                &["account", "created_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LiveGiftCatalog::Table)
                    .if_not_exists()
                    .col(pk_uuid(LiveGiftCatalog::Id))
                    .col(string(LiveGiftCatalog::Name))
                    .col(
                        big_integer(LiveGiftCatalog::CoinValue)
                            .check(Expr::col(LiveGiftCatalog::CoinValue).gt(0)),
                    )
                    .col(string(LiveGiftCatalog::Category))
                    .col(string_null(LiveGiftCatalog::Icon))
                    .col(boolean(LiveGiftCatalog::Active).default(true))
                    .col(big_integer(LiveGiftCatalog::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LiveGifts::Table)
                    .if_not_exists()
                    .col(pk_uuid(LiveGifts::Id))
                    .col(uuid(LiveGifts::SenderId))
                    .col(uuid(LiveGifts::ReceiverId))
                    .col(uuid(LiveGifts::GiftId))
                    .col(string(LiveGifts::GiftName))
                    .col(big_integer(LiveGifts::CoinValue))
                    .col(big_integer(LiveGifts::Quantity))
                    .col(uuid_null(LiveGifts::LiveSessionId))
                    .col(big_integer(LiveGifts::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_live_gifts_receiver",
                LiveGifts::Table,
                &["receiver_id", "created_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LiveHostIncome::Table)
                    .if_not_exists()
                    .col(pk_uuid(LiveHostIncome::Id))
                    .col(uuid(LiveHostIncome::HostId))
                    .col(uuid(LiveHostIncome::GiftId))
                    .col(uuid(LiveHostIncome::SenderId))
                    .col(big_integer(LiveHostIncome::Income))
                    .col(string(LiveHostIncome::Type))
                    .col(big_integer(LiveHostIncome::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_live_host_income_host",
                LiveHostIncome::Table,
                &["host_id", "created_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LiveSessions::Table)
                    .if_not_exists()
                    .col(pk_uuid(LiveSessions::Id))
                    .col(uuid(LiveSessions::HostId))
                    .col(string(LiveSessions::RoomId))
                    .col(big_integer(LiveSessions::StartTime))
                    .col(big_integer_null(LiveSessions::EndTime))
                    .col(big_integer_null(LiveSessions::DurationSeconds))
                    .col(big_integer(LiveSessions::TotalIncome).default(0))
                    .col(big_integer(LiveSessions::TotalViewers).default(0))
                    .col(big_integer(LiveSessions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One open session per host, enforced by the database on both backends.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS uq_live_sessions_open \
                 ON live_sessions (host_id) WHERE end_time IS NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LiveIdempotency::Table)
                    .if_not_exists()
                    .col(uuid(LiveIdempotency::SenderId))
                    .col(string(LiveIdempotency::Key))
                    .col(text_null(LiveIdempotency::Response))
                    .col(big_integer(LiveIdempotency::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(LiveIdempotency::SenderId)
                            .col(LiveIdempotency::Key),
                    )
                    .to_owned(),
            )
            .await
    }
}

/// Migration m0301 (live): private chat, the distinct viewers of each session, agencies,
/// host applications, agency membership and salary requests.
pub struct M0301LiveSocial;

impl MigrationName for M0301LiveSocial {
    fn name(&self) -> &str {
        "m0301_live_social"
    }
}

fn a(name: &'static str) -> Alias {
    Alias::new(name)
}

/// `CREATE TABLE IF NOT EXISTS name (columns…)` with `id` as the UUID primary key.
fn table_with_id(name: &'static str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(a(name)).if_not_exists().col(pk_uuid(a("id")));
    for column in columns {
        table.col(column);
    }
    table.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0301LiveSocial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(table_with_id(
                "live_chat_messages",
                vec![
                    uuid(a("sender_id")),
                    uuid(a("receiver_id")),
                    text(a("body")),
                    big_integer(a("created_at")),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_live_chat_pair",
                a("live_chat_messages"),
                &["sender_id", "receiver_id", "created_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(a("live_session_viewers"))
                    .if_not_exists()
                    .col(uuid(a("session_id")))
                    .col(uuid(a("user_id")))
                    .col(big_integer(a("joined_at")))
                    .primary_key(Index::create().col(a("session_id")).col(a("user_id")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(table_with_id(
                "live_agencies",
                vec![
                    uuid(a("owner_id")),
                    string(a("family_name")),
                    string(a("region")),
                    string(a("phone")),
                    string(a("status")),
                    big_integer(a("created_at")),
                    big_integer_null(a("approved_at")),
                ],
            ))
            .await?;
        manager
            .create_table(table_with_id(
                "live_host_applications",
                vec![
                    uuid(a("host_id")),
                    uuid(a("agency_id")),
                    string(a("name")),
                    string(a("gender")),
                    string(a("id_number")),
                    string(a("status")),
                    big_integer(a("created_at")),
                    big_integer_null(a("approved_at")),
                ],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(a("live_agency_hosts"))
                    .if_not_exists()
                    .col(pk_uuid(a("host_id")))
                    .col(uuid(a("agency_id")))
                    .col(big_integer(a("joined_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(table_with_id(
                "live_salary_requests",
                vec![
                    uuid(a("host_id")),
                    uuid(a("agency_id")),
                    integer(a("iso_year")),
                    integer(a("week_number")),
                    big_integer(a("week_start")),
                    big_integer(a("week_end")),
                    big_integer(a("salary_amount")),
                    big_integer(a("total_lives")),
                    string(a("status")),
                    big_integer(a("created_at")),
                    big_integer_null(a("approved_at")),
                    uuid_null(a("decided_by")),
                ],
            ))
            .await?;
        // The database keeps the one-per rules, so concurrent requests cannot break them:
        // one live (pending or approved) agency per owner, one pending application per
        // applicant and agency, one live salary request per host and week.
        for sql in [
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_live_agencies_owner \
             ON live_agencies (owner_id) WHERE status <> 'rejected'",
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_live_host_applications_pending \
             ON live_host_applications (host_id, agency_id) WHERE status = 'pending'",
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_live_salary_week \
             ON live_salary_requests (host_id, iso_year, week_number) WHERE status <> 'rejected'",
            "CREATE INDEX IF NOT EXISTS ix_live_agency_hosts_agency ON live_agency_hosts (agency_id)",
            "CREATE INDEX IF NOT EXISTS ix_live_sessions_room ON live_sessions (room_id)",
        ] {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

/// Migration m0302 (live): the host's last presence on each session (the abandoned-session
/// sweeper reads it), a decision time beside `approved_at` (now set on approval only), the
/// fingerprint of the request an idempotency key was first used with, and avatar URLs
/// relative to the app's base URL (`/uploads/…`, served under `/chatme/uploads/…`).
pub struct M0302LivePresence;

impl MigrationName for M0302LivePresence {
    fn name(&self) -> &str {
        "m0302_live_presence"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0302LivePresence {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // One column per statement: SQLite adds them one at a time.
        for sql in [
            "ALTER TABLE live_sessions ADD COLUMN host_seen_ms BIGINT",
            "ALTER TABLE live_idempotency ADD COLUMN request_hash TEXT",
            "ALTER TABLE live_agencies ADD COLUMN decided_at BIGINT",
            "ALTER TABLE live_host_applications ADD COLUMN decided_at BIGINT",
            "ALTER TABLE live_salary_requests ADD COLUMN decided_at BIGINT",
        ] {
            db.execute_unprepared(sql).await?;
        }
        for table in [
            "live_agencies",
            "live_host_applications",
            "live_salary_requests",
        ] {
            db.execute_unprepared(&format!(
                "UPDATE {table} SET decided_at = approved_at WHERE status <> 'pending'"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "UPDATE {table} SET approved_at = NULL WHERE status <> 'approved'"
            ))
            .await?;
        }
        db.execute_unprepared(
            "UPDATE live_profiles SET avatar_url = SUBSTR(avatar_url, 8) \
             WHERE avatar_url LIKE '/chatme/uploads/%'",
        )
        .await?;
        Ok(())
    }
}
