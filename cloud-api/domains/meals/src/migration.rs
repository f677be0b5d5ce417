//! The meals tables (seed 003): departments, shifts, positions, the meals profile of a user
//! (department, position, must-change-password), orders, the per-day order counter and the
//! meals audit trail.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum MealsDepartments {
    Table,
    Id,
    Name,
    Description,
}

#[derive(DeriveIden)]
enum MealsShifts {
    Table,
    Id,
    Name,
    StartTime,
    EndTime,
    Description,
}

#[derive(DeriveIden)]
enum MealsPositions {
    Table,
    Id,
    Name,
    DepartmentId,
    Description,
}

#[derive(DeriveIden)]
enum MealsEmployees {
    Table,
    Id,
    UserId,
    DepartmentId,
    PositionId,
    MustChangePassword,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MealsOrders {
    Table,
    Id,
    Code,
    EmployeeId,
    DepartmentId,
    ShiftId,
    Quantity,
    OriginalQuantity,
    RequestedQuantity,
    OrderDate,
    Status,
    RequiresApproval,
    ApprovalStatus,
    RequestType,
    RequestedBy,
    KitchenNote,
    AdminNote,
    CreatedAt,
    ProcessingAt,
    ReadyAt,
    DeliveringAt,
    DoneAt,
}

#[derive(DeriveIden)]
enum MealsOrderCounters {
    Table,
    Day,
    N,
}

#[derive(DeriveIden)]
enum MealsAudit {
    Table,
    Id,
    UserId,
    Action,
    Detail,
    OrderCode,
    Timestamp,
}

/// Migration m0100 (meals): every meals table.
pub struct M0100Meals;

impl MigrationName for M0100Meals {
    fn name(&self) -> &str {
        "m0100_meals_tables"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0100Meals {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MealsDepartments::Table)
                    .col(pk_auto(MealsDepartments::Id))
                    .col(string(MealsDepartments::Name).unique_key())
                    .col(string_null(MealsDepartments::Description))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MealsShifts::Table)
                    .col(pk_auto(MealsShifts::Id))
                    .col(string(MealsShifts::Name).unique_key())
                    .col(string(MealsShifts::StartTime))
                    .col(string(MealsShifts::EndTime))
                    .col(string_null(MealsShifts::Description))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MealsPositions::Table)
                    .col(pk_auto(MealsPositions::Id))
                    .col(string(MealsPositions::Name).unique_key())
                    .col(integer_null(MealsPositions::DepartmentId))
                    .col(string_null(MealsPositions::Description))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MealsEmployees::Table)
                    .col(pk_auto(MealsEmployees::Id))
                    .col(uuid(MealsEmployees::UserId).unique_key())
                    .col(integer_null(MealsEmployees::DepartmentId))
                    .col(integer_null(MealsEmployees::PositionId))
                    .col(boolean(MealsEmployees::MustChangePassword).default(false))
                    .col(timestamp_with_time_zone(MealsEmployees::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MealsOrders::Table)
                    .col(pk_auto(MealsOrders::Id))
                    .col(string(MealsOrders::Code).unique_key())
                    .col(integer(MealsOrders::EmployeeId))
                    .col(integer(MealsOrders::DepartmentId))
                    .col(integer(MealsOrders::ShiftId))
                    .col(integer(MealsOrders::Quantity))
                    .col(integer_null(MealsOrders::OriginalQuantity))
                    .col(integer_null(MealsOrders::RequestedQuantity))
                    .col(string(MealsOrders::OrderDate))
                    .col(string(MealsOrders::Status))
                    .col(boolean(MealsOrders::RequiresApproval).default(false))
                    .col(string_null(MealsOrders::ApprovalStatus))
                    .col(string_null(MealsOrders::RequestType))
                    .col(integer_null(MealsOrders::RequestedBy))
                    .col(string_null(MealsOrders::KitchenNote))
                    .col(string_null(MealsOrders::AdminNote))
                    .col(timestamp_with_time_zone(MealsOrders::CreatedAt))
                    .col(timestamp_with_time_zone_null(MealsOrders::ProcessingAt))
                    .col(timestamp_with_time_zone_null(MealsOrders::ReadyAt))
                    .col(timestamp_with_time_zone_null(MealsOrders::DeliveringAt))
                    .col(timestamp_with_time_zone_null(MealsOrders::DoneAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_meals_orders_status", MealsOrders::Status),
            ("ix_meals_orders_date", MealsOrders::OrderDate),
            ("ix_meals_orders_employee", MealsOrders::EmployeeId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(MealsOrders::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(MealsOrderCounters::Table)
                    .col(string(MealsOrderCounters::Day).primary_key())
                    .col(big_integer(MealsOrderCounters::N))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MealsAudit::Table)
                    .col(pk_auto(MealsAudit::Id))
                    .col(uuid_null(MealsAudit::UserId))
                    .col(string(MealsAudit::Action))
                    .col(text(MealsAudit::Detail))
                    .col(string_null(MealsAudit::OrderCode))
                    .col(timestamp_with_time_zone(MealsAudit::Timestamp))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_meals_audit_order")
                    .table(MealsAudit::Table)
                    .col(MealsAudit::OrderCode)
                    .to_owned(),
            )
            .await
    }
}

/// The order list's read path: an index in its order (newest first), so a page is read
/// without sorting every order; and on PostgreSQL, statement triggers that `NOTIFY`
/// [`crate::order_board::CHANNEL`] on every change to what an order list shows (orders,
/// profiles, departments, shifts, and the platform's users for names and employee
/// numbers), so every replica's [`crate::order_board::OrderBoard`] hears of it on commit.
pub(crate) struct M0101OrderList;

impl MigrationName for M0101OrderList {
    fn name(&self) -> &str {
        "m0101_meals_order_list"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0101OrderList {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_meals_orders_newest")
                    .table(MealsOrders::Table)
                    .col(MealsOrders::CreatedAt)
                    .col(MealsOrders::Id)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let channel = crate::order_board::CHANNEL;
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "CREATE OR REPLACE FUNCTION gerbang_meals_changed() RETURNS trigger AS $$ \
             BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$ LANGUAGE plpgsql"
        ))
        .await?;
        for table in [
            "meals_orders",
            "meals_employees",
            "meals_departments",
            "meals_shifts",
            "users",
        ] {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_meals_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE \
                 ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gerbang_meals_changed()"
            ))
            .await?;
        }
        Ok(())
    }
}
