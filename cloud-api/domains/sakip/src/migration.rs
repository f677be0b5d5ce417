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
