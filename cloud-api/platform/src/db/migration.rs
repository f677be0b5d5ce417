//! The migrator: the platform core's tables first, then each domain's own migrations.

use sea_orm_migration::{prelude::*, schema::*};

use crate::domain::DomainSet;

/// The platform core's own migrations, in order.
pub fn core_migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(M0001Platform),
        Box::new(super::identity_migration::M0003Identity),
        Box::new(super::identity_migration::M0012SessionEpoch),
        Box::new(super::identity_migration::M0014UsernameEmployeeNo),
        Box::new(super::identity_migration::M0020IdentityTotp),
        Box::new(M0021Privacy),
        Box::new(M0022ClockCorrection),
    ]
}

/// Runs the platform's migrations, then each domain's of the set `D`, in order. Migrations
/// are matched by name, so a database written before the domains became crates upgrades in
/// place.
#[derive(Debug)]
pub struct Migrator<D>(std::marker::PhantomData<D>);

#[async_trait::async_trait]
impl<D: DomainSet> MigratorTrait for Migrator<D> {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = core_migrations();
        for domain in D::domains() {
            all.extend(domain.migrations());
        }
        all
    }
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    Roles,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Devices {
    Table,
    Id,
    Site,
    Name,
    PublicKey,
    TokenHash,
    Firmware,
    CreatedAt,
    EnrolledAt,
    LastSeen,
    Online,
    LastSeq,
    ContiguousSeq,
    EventsStored,
}

#[derive(DeriveIden)]
enum EnrollmentCodes {
    Table,
    CodeHash,
    DeviceId,
    Site,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Events {
    Table,
    Id,
    DeviceId,
    Seq,
    Kind,
    Ts,
    MonoMs,
    ClockSynced,
    BootId,
    ReceivedAt,
    Body,
    DeviceTs,
}

#[derive(DeriveIden)]
pub(crate) enum DroppedRanges {
    Table,
    DeviceId,
    FirstSeq,
    LastSeq,
}

#[derive(DeriveIden)]
enum Commands {
    Table,
    Id,
    DeviceId,
    Command,
    IssuedAt,
    ExpiresAt,
    Status,
    AckedAt,
    Error,
}

#[derive(DeriveIden)]
enum CloudSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}

struct M0001Platform;

impl MigrationName for M0001Platform {
    fn name(&self) -> &str {
        "m0001_platform"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Platform {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_uniq(Users::Email))
                    .col(string(Users::Name))
                    .col(string(Users::PasswordHash))
                    .col(text(Users::Roles))
                    .col(boolean(Users::Disabled).default(false))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Devices::Table)
                    .col(string(Devices::Id).primary_key())
                    .col(string(Devices::Site))
                    .col(string(Devices::Name))
                    .col(string_null(Devices::PublicKey))
                    .col(string_null(Devices::TokenHash))
                    .col(string_null(Devices::Firmware))
                    .col(timestamp_with_time_zone(Devices::CreatedAt))
                    .col(timestamp_with_time_zone_null(Devices::EnrolledAt))
                    .col(timestamp_with_time_zone_null(Devices::LastSeen))
                    .col(boolean(Devices::Online).default(false))
                    .col(big_integer(Devices::LastSeq).default(0))
                    .col(big_integer(Devices::ContiguousSeq).default(0))
                    .col(big_integer(Devices::EventsStored).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("devices_token_hash")
                    .table(Devices::Table)
                    .col(Devices::TokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EnrollmentCodes::Table)
                    .col(string(EnrollmentCodes::CodeHash).primary_key())
                    .col(string(EnrollmentCodes::DeviceId))
                    .col(string(EnrollmentCodes::Site))
                    .col(timestamp_with_time_zone(EnrollmentCodes::CreatedAt))
                    .col(timestamp_with_time_zone(EnrollmentCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(EnrollmentCodes::UsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(pk_uuid(Events::Id))
                    .col(string(Events::DeviceId))
                    .col(big_integer(Events::Seq))
                    .col(string(Events::Kind))
                    .col(timestamp_with_time_zone(Events::Ts))
                    .col(big_integer(Events::MonoMs))
                    .col(boolean(Events::ClockSynced))
                    .col(uuid(Events::BootId))
                    .col(timestamp_with_time_zone(Events::ReceivedAt))
                    .col(text(Events::Body))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("events_device_seq")
                    .table(Events::Table)
                    .col(Events::DeviceId)
                    .col(Events::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DroppedRanges::Table)
                    .col(string(DroppedRanges::DeviceId))
                    .col(big_integer(DroppedRanges::FirstSeq))
                    .col(big_integer(DroppedRanges::LastSeq))
                    .primary_key(
                        Index::create()
                            .col(DroppedRanges::DeviceId)
                            .col(DroppedRanges::FirstSeq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Commands::Table)
                    .col(pk_uuid(Commands::Id))
                    .col(string(Commands::DeviceId))
                    .col(text(Commands::Command))
                    .col(timestamp_with_time_zone(Commands::IssuedAt))
                    .col(timestamp_with_time_zone(Commands::ExpiresAt))
                    .col(string(Commands::Status))
                    .col(timestamp_with_time_zone_null(Commands::AckedAt))
                    .col(text_null(Commands::Error))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CloudSecrets::Table)
                    .col(string(CloudSecrets::Name).primary_key())
                    .col(text(CloudSecrets::Value))
                    .col(timestamp_with_time_zone(CloudSecrets::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Name,
    LastRunUnix,
    Runs,
}

#[derive(DeriveIden)]
enum ErasedPeople {
    Table,
    Id,
    ErasedAt,
}

/// Migration 21: `job_runs`, where a job run once across replicas (the daily retention
/// job) claims its run, and `erased_people`, the ids (only) of erased people, so that late
/// device events are stored without them.
struct M0021Privacy;

impl MigrationName for M0021Privacy {
    fn name(&self) -> &str {
        "m0021_privacy"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0021Privacy {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JobRuns::Table)
                    .col(string(JobRuns::Name).primary_key())
                    .col(big_integer_null(JobRuns::LastRunUnix))
                    .col(big_integer(JobRuns::Runs).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ErasedPeople::Table)
                    .col(string(ErasedPeople::Id).primary_key())
                    .col(timestamp_with_time_zone(ErasedPeople::ErasedAt))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum BootClocks {
    Table,
    DeviceId,
    BootId,
    OffsetMs,
    LearnedAt,
}

/// Migration 22: dating events stamped before a device's clock was synchronised
/// (`ingest::clock`). `boot_clocks` keeps, per device and boot, the offset (wall clock −
/// monotonic milliseconds) its first synchronised event showed; `events.device_ts` keeps
/// the time the device stamped on an event whose `ts` the cloud corrected (NULL: not
/// corrected). The partial index finds a boot's events still waiting for their offset.
struct M0022ClockCorrection;

impl MigrationName for M0022ClockCorrection {
    fn name(&self) -> &str {
        "m0022_clock_correction"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0022ClockCorrection {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BootClocks::Table)
                    .col(string(BootClocks::DeviceId))
                    .col(uuid(BootClocks::BootId))
                    .col(big_integer(BootClocks::OffsetMs))
                    .col(timestamp_with_time_zone(BootClocks::LearnedAt))
                    .primary_key(
                        Index::create()
                            .col(BootClocks::DeviceId)
                            .col(BootClocks::BootId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(timestamp_with_time_zone_null(Events::DeviceTs))
                    .to_owned(),
            )
            .await?;
        // Both databases take a partial index; only unsynchronised, uncorrected events
        // (rare) are in it.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_events_unsynced_boot ON events (device_id, boot_id) \
                 WHERE clock_synced = false AND device_ts IS NULL",
            )
            .await
            .map(drop)
    }
}
