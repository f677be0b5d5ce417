//! SAKIP's tables (seed 002), prefixed `sakip_` so they never clash with another domain's.
//! Ids are integers as in the seed; users are the platform's (UUID). Decimals are stored as
//! TEXT on both databases and handled as `rust_decimal::Decimal`. A period's absent quarter
//! or month is stored as 0 so that unique indexes hold on both databases (NULLs are distinct
//! there); the API shows it as `null`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum SakipOpd {
    Table,
    Id,
    Code,
    Name,
    HeadName,
    Contact,
    IsActive,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SakipUserOpd {
    Table,
    UserId,
    OpdId,
}

#[derive(DeriveIden)]
enum SakipRenstra {
    Table,
    Id,
    OpdId,
    Period,
    Vision,
    Mission,
    IsActive,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Node {
    Id,
    Code,
    Name,
    Description,
    SortOrder,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SakipIndicators {
    Table,
    Id,
    OpdId,
    ParentType,
    ParentId,
    Name,
    Definition,
    Formula,
    Unit,
    DataSource,
    Frequency,
    Polarity,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SakipPerformanceTargets {
    Table,
    Id,
    IndicatorId,
    Year,
    Quarter,
    Month,
    TargetValue,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SakipPerformanceAchievements {
    Table,
    Id,
    IndicatorId,
    Year,
    Quarter,
    Month,
    AchievementValue,
    Percentage,
    PercentageNote,
    Notes,
    SupportingDocuments,
    InputBy,
    VerifiedBy,
    VerifiedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SakipBudgetAllocations {
    Table,
    Id,
    OpdId,
    Year,
    Category,
    ProgramId,
    KegiatanId,
    AllocationAmount,
    SipdCode,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SakipBudgetRealizations {
    Table,
    Id,
    AllocationId,
    Month,
    RealizationAmount,
    CumulativeAmount,
    Percentage,
    Notes,
    CreatedAt,
}

/// The planning levels below a renstra: (table, parent column, parent table).
const LEVELS: [(&str, &str, &str); 4] = [
    ("sakip_tujuan", "renstra_id", "sakip_renstra"),
    ("sakip_sasaran", "tujuan_id", "sakip_tujuan"),
    ("sakip_program", "sasaran_id", "sakip_sasaran"),
    ("sakip_kegiatan", "program_id", "sakip_program"),
];

/// Migration 200 (sakip): OPDs, users' OPDs, the planning tree, indicators, targets,
/// achievements, budget allocations and realisations.
pub struct M0200SakipCore;

impl MigrationName for M0200SakipCore {
    fn name(&self) -> &str {
        "m0200_sakip_core"
    }
}

fn created_at<T: IntoIden>(col: T) -> ColumnDef {
    timestamp_with_time_zone(col)
}

#[async_trait::async_trait]
impl MigrationTrait for M0200SakipCore {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SakipOpd::Table)
                    .col(pk_auto(SakipOpd::Id))
                    .col(string_len_uniq(SakipOpd::Code, 20))
                    .col(string_len(SakipOpd::Name, 255))
                    .col(string_len_null(SakipOpd::HeadName, 255))
                    .col(text_null(SakipOpd::Contact))
                    .col(boolean(SakipOpd::IsActive).default(true))
                    .col(created_at(SakipOpd::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SakipUserOpd::Table)
                    .col(uuid(SakipUserOpd::UserId).primary_key())
                    .col(integer(SakipUserOpd::OpdId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SakipUserOpd::Table, SakipUserOpd::OpdId)
                            .to(SakipOpd::Table, SakipOpd::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SakipRenstra::Table)
                    .col(pk_auto(SakipRenstra::Id))
                    .col(integer(SakipRenstra::OpdId))
                    .col(string_len(SakipRenstra::Period, 20))
                    .col(text_null(SakipRenstra::Vision))
                    .col(text(SakipRenstra::Mission))
                    .col(boolean(SakipRenstra::IsActive).default(true))
                    .col(created_at(SakipRenstra::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SakipRenstra::Table, SakipRenstra::OpdId)
                            .to(SakipOpd::Table, SakipOpd::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (table, parent, parent_table) in LEVELS {
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new(table))
                        .col(pk_auto(Node::Id))
                        .col(integer(Alias::new(parent)))
                        .col(string_len_null(Node::Code, 20))
                        .col(text(Node::Name))
                        .col(text_null(Node::Description))
                        .col(integer_null(Node::SortOrder))
                        .col(created_at(Node::CreatedAt))
                        .foreign_key(
                            ForeignKey::create()
                                .from(Alias::new(table), Alias::new(parent))
                                .to(Alias::new(parent_table), Node::Id),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("ux_{table}_code"))
                        .table(Alias::new(table))
                        .col(Alias::new(parent))
                        .col(Node::Code)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(SakipIndicators::Table)
                    .col(pk_auto(SakipIndicators::Id))
                    .col(integer(SakipIndicators::OpdId))
                    .col(string_len(SakipIndicators::ParentType, 20))
                    .col(integer(SakipIndicators::ParentId))
                    .col(text(SakipIndicators::Name))
                    .col(text_null(SakipIndicators::Definition))
                    .col(text_null(SakipIndicators::Formula))
                    .col(string_len_null(SakipIndicators::Unit, 50))
                    .col(text_null(SakipIndicators::DataSource))
                    .col(string_len_null(SakipIndicators::Frequency, 20))
                    .col(string_len(SakipIndicators::Polarity, 20))
                    .col(created_at(SakipIndicators::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sakip_indicators_parent")
                    .table(SakipIndicators::Table)
                    .col(SakipIndicators::ParentType)
                    .col(SakipIndicators::ParentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sakip_indicators_opd")
                    .table(SakipIndicators::Table)
                    .col(SakipIndicators::OpdId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SakipPerformanceTargets::Table)
                    .col(pk_auto(SakipPerformanceTargets::Id))
                    .col(integer(SakipPerformanceTargets::IndicatorId))
                    .col(integer(SakipPerformanceTargets::Year))
                    .col(integer(SakipPerformanceTargets::Quarter).default(0))
                    .col(integer(SakipPerformanceTargets::Month).default(0))
                    .col(text(SakipPerformanceTargets::TargetValue))
                    .col(created_at(SakipPerformanceTargets::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                SakipPerformanceTargets::Table,
                                SakipPerformanceTargets::IndicatorId,
                            )
                            .to(SakipIndicators::Table, SakipIndicators::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sakip_targets_period")
                    .table(SakipPerformanceTargets::Table)
                    .col(SakipPerformanceTargets::IndicatorId)
                    .col(SakipPerformanceTargets::Year)
                    .col(SakipPerformanceTargets::Quarter)
                    .col(SakipPerformanceTargets::Month)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SakipPerformanceAchievements::Table)
                    .col(pk_auto(SakipPerformanceAchievements::Id))
                    .col(integer(SakipPerformanceAchievements::IndicatorId))
                    .col(integer(SakipPerformanceAchievements::Year))
                    .col(integer(SakipPerformanceAchievements::Quarter).default(0))
                    .col(integer(SakipPerformanceAchievements::Month).default(0))
                    .col(text(SakipPerformanceAchievements::AchievementValue))
                    .col(text_null(SakipPerformanceAchievements::Percentage))
                    .col(string_len_null(
                        SakipPerformanceAchievements::PercentageNote,
                        20,
                    ))
                    .col(text_null(SakipPerformanceAchievements::Notes))
                    .col(text_null(SakipPerformanceAchievements::SupportingDocuments))
                    .col(uuid(SakipPerformanceAchievements::InputBy))
                    .col(uuid_null(SakipPerformanceAchievements::VerifiedBy))
                    .col(timestamp_with_time_zone_null(
                        SakipPerformanceAchievements::VerifiedAt,
                    ))
                    .col(created_at(SakipPerformanceAchievements::CreatedAt))
                    .col(timestamp_with_time_zone(
                        SakipPerformanceAchievements::UpdatedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                SakipPerformanceAchievements::Table,
                                SakipPerformanceAchievements::IndicatorId,
                            )
                            .to(SakipIndicators::Table, SakipIndicators::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sakip_achievements_period")
                    .table(SakipPerformanceAchievements::Table)
                    .col(SakipPerformanceAchievements::IndicatorId)
                    .col(SakipPerformanceAchievements::Year)
                    .col(SakipPerformanceAchievements::Quarter)
                    .col(SakipPerformanceAchievements::Month)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sakip_achievements_year")
                    .table(SakipPerformanceAchievements::Table)
                    .col(SakipPerformanceAchievements::Year)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SakipBudgetAllocations::Table)
                    .col(pk_auto(SakipBudgetAllocations::Id))
                    .col(integer(SakipBudgetAllocations::OpdId))
                    .col(integer(SakipBudgetAllocations::Year))
                    .col(string_len(SakipBudgetAllocations::Category, 30))
                    .col(integer_null(SakipBudgetAllocations::ProgramId))
                    .col(integer_null(SakipBudgetAllocations::KegiatanId))
                    .col(text(SakipBudgetAllocations::AllocationAmount))
                    .col(string_len_uniq(SakipBudgetAllocations::SipdCode, 50))
                    .col(created_at(SakipBudgetAllocations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SakipBudgetAllocations::Table, SakipBudgetAllocations::OpdId)
                            .to(SakipOpd::Table, SakipOpd::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sakip_budget_opd_year")
                    .table(SakipBudgetAllocations::Table)
                    .col(SakipBudgetAllocations::OpdId)
                    .col(SakipBudgetAllocations::Year)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SakipBudgetRealizations::Table)
                    .col(pk_auto(SakipBudgetRealizations::Id))
                    .col(integer(SakipBudgetRealizations::AllocationId))
                    .col(integer(SakipBudgetRealizations::Month))
                    .col(text(SakipBudgetRealizations::RealizationAmount))
                    .col(text(SakipBudgetRealizations::CumulativeAmount))
                    .col(text_null(SakipBudgetRealizations::Percentage))
                    .col(text_null(SakipBudgetRealizations::Notes))
                    .col(created_at(SakipBudgetRealizations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                SakipBudgetRealizations::Table,
                                SakipBudgetRealizations::AllocationId,
                            )
                            .to(SakipBudgetAllocations::Table, SakipBudgetAllocations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_sakip_realizations_month")
                    .table(SakipBudgetRealizations::Table)
                    .col(SakipBudgetRealizations::AllocationId)
                    .col(SakipBudgetRealizations::Month)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

/// Migration 201 (sakip): evaluations, integrations, sync logs and the durable job queue.
pub struct M0201SakipEvaluationsAndSync;

impl MigrationName for M0201SakipEvaluationsAndSync {
    fn name(&self) -> &str {
        "m0201_sakip_evaluations_and_sync"
    }
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for M0201SakipEvaluationsAndSync {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(a("sakip_evaluations"))
                    .col(pk_auto(a("id")))
                    .col(integer(a("opd_id")))
                    .col(integer(a("year")))
                    .col(string_len(a("type"), 20))
                    .col(string_len_null(a("evaluator"), 255))
                    .col(string_len_null(a("evaluation_date"), 10))
                    .col(text_null(a("overall_score")))
                    .col(string_len_null(a("grade"), 5))
                    .col(string_len(a("status"), 20))
                    .col(text(a("components")))
                    .col(text(a("findings")))
                    .col(text(a("recommendations")))
                    .col(uuid(a("created_by")))
                    .col(timestamp_with_time_zone(a("created_at")))
                    .col(timestamp_with_time_zone(a("updated_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .from(a("sakip_evaluations"), a("opd_id"))
                            .to(SakipOpd::Table, SakipOpd::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sakip_evaluations_opd_year")
                    .table(a("sakip_evaluations"))
                    .col(a("opd_id"))
                    .col(a("year"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(a("sakip_integrations"))
                    .col(pk_auto(a("id")))
                    .col(string_len(a("system_name"), 100))
                    .col(string_len_null(a("system_type"), 50))
                    .col(text_null(a("endpoint_url")))
                    .col(text_null(a("secrets")))
                    .col(string_len(a("status"), 20))
                    .col(timestamp_with_time_zone_null(a("last_sync")))
                    .col(string_len_null(a("sync_frequency"), 20))
                    .col(integer(a("health_score")).default(0))
                    .col(text_null(a("config")))
                    .col(timestamp_with_time_zone(a("created_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(a("sakip_sync_logs"))
                    .col(pk_auto(a("id")))
                    .col(integer(a("integration_id")))
                    .col(integer_null(a("job_id")))
                    .col(string_len(a("sync_type"), 50))
                    .col(string_len(a("status"), 20))
                    .col(integer(a("records_processed")).default(0))
                    .col(integer(a("records_success")).default(0))
                    .col(integer(a("records_failed")).default(0))
                    .col(text_null(a("error_message")))
                    .col(timestamp_with_time_zone_null(a("started_at")))
                    .col(timestamp_with_time_zone_null(a("completed_at")))
                    .col(timestamp_with_time_zone(a("created_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .from(a("sakip_sync_logs"), a("integration_id"))
                            .to(a("sakip_integrations"), a("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sakip_sync_logs_integration")
                    .table(a("sakip_sync_logs"))
                    .col(a("integration_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(a("sakip_jobs"))
                    .col(pk_auto(a("id")))
                    .col(string_len(a("kind"), 50))
                    .col(text(a("payload")))
                    .col(string_len(a("status"), 20))
                    .col(integer(a("attempts")).default(0))
                    .col(integer(a("max_attempts")))
                    .col(timestamp_with_time_zone(a("run_at")))
                    .col(string_len_null(a("locked_by"), 64))
                    .col(timestamp_with_time_zone_null(a("locked_until")))
                    .col(text_null(a("last_error")))
                    .col(text_null(a("result")))
                    .col(string_len_null(a("dedupe_key"), 200).unique_key())
                    .col(timestamp_with_time_zone(a("created_at")))
                    .col(timestamp_with_time_zone(a("updated_at")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sakip_jobs_due")
                    .table(a("sakip_jobs"))
                    .col(a("status"))
                    .col(a("run_at"))
                    .to_owned(),
            )
            .await
    }
}

/// Migration 202 (sakip): API keys of external systems (only their SHA-256 is stored).
pub struct M0202SakipApiKeys;

impl MigrationName for M0202SakipApiKeys {
    fn name(&self) -> &str {
        "m0202_sakip_api_keys"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0202SakipApiKeys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(a("sakip_api_keys"))
                    .col(pk_auto(a("id")))
                    .col(string_len(a("name"), 100))
                    .col(integer(a("opd_id")))
                    .col(text(a("scopes")))
                    .col(string_len(a("key_hash"), 64).unique_key())
                    .col(string_len(a("prefix"), 16))
                    .col(uuid(a("actor")))
                    .col(uuid(a("created_by")))
                    .col(timestamp_with_time_zone(a("created_at")))
                    .col(timestamp_with_time_zone_null(a("last_used_at")))
                    .col(timestamp_with_time_zone_null(a("revoked_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .from(a("sakip_api_keys"), a("opd_id"))
                            .to(SakipOpd::Table, SakipOpd::Id),
                    )
                    .to_owned(),
            )
            .await
    }
}

/// Migration 203 (sakip): a month always carries its quarter. Rows stored before as
/// `(quarter 0, month m)` move to `(⌈m/3⌉, m)`; where both forms of one period exist (one
/// indicator and year), the newest row stays (achievements by `updated_at`, targets by
/// `created_at`, then the higher id) and the other goes.
pub struct M0203SakipMonthQuarter;

impl MigrationName for M0203SakipMonthQuarter {
    fn name(&self) -> &str {
        "m0203_sakip_month_quarter"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0203SakipMonthQuarter {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, newest) in [
            ("sakip_performance_achievements", "updated_at"),
            ("sakip_performance_targets", "created_at"),
        ] {
            // `old` is the row without its quarter, `new` the one with it; the loser of each
            // pair goes (first the old rows that lost, then the new rows that lost to an old
            // row still there). Integer division is the same on both databases.
            let pair = format!(
                "FROM {table} o JOIN {table} n ON n.indicator_id = o.indicator_id \
                 AND n.year = o.year AND n.month = o.month AND n.quarter = (o.month + 2) / 3 \
                 WHERE o.quarter = 0 AND o.month > 0"
            );
            let older = |a: &str, b: &str| {
                format!("({a}.{newest} < {b}.{newest} OR ({a}.{newest} = {b}.{newest} AND {a}.id < {b}.id))")
            };
            db.execute_unprepared(&format!(
                "DELETE FROM {table} WHERE id IN (SELECT o.id {pair} AND {})",
                older("o", "n")
            ))
            .await?;
            db.execute_unprepared(&format!(
                "DELETE FROM {table} WHERE id IN (SELECT n.id {pair} AND {})",
                older("n", "o")
            ))
            .await?;
            db.execute_unprepared(&format!(
                "UPDATE {table} SET quarter = (month + 2) / 3 WHERE quarter = 0 AND month > 0"
            ))
            .await?;
        }
        Ok(())
    }
}
