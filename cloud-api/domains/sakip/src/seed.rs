//! Demo data for the all-in-one demo (never the plain cloud): the seed's test user
//! `testuser` / `testpass` (super_admin) and one OPD (`DEMO-DINKES`) with a whole planning
//! tree, an indicator of each polarity with targets and monthly achievements, a budget with
//! realisations and one completed evaluation. Runs once: an existing demo OPD is left alone.

use platform::{
    error::ServiceError,
    identity::{self, Email, Roles, Username},
    state::AppState,
};
use rust_decimal::Decimal;
use sea_orm::{
    sea_query::{Alias, Query as Sql},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    budget, calc,
    calc::Polarity,
    entities::{achievement, allocation, evaluation, indicator, opd, realization, renstra, target},
    planning::Level,
    DOMAIN,
};

const DEMO_OPD: &str = "DEMO-DINKES";
const YEAR: i32 = 2025;

fn db_err(context: &'static str) -> impl Fn(sea_orm::DbErr) -> ServiceError {
    move |e| ServiceError::internal(context, e)
}

/// Creates `testuser` / `testpass` (super_admin) and the demo OPD, each unless it exists.
pub async fn seed_demo(state: &AppState) -> Result<(), ServiceError> {
    let Ok(username) = Username::parse("testuser") else {
        return Ok(());
    };
    let user =
        match identity::find_by_login(&state.db, &identity::LoginId::Username(username.clone()))
            .await?
        {
            Some(found) => found.id,
            None => {
                identity::create_user(
                    &state.db,
                    &state.roles,
                    identity::NewUser {
                        username: Some(username),
                        email: Email::parse("testuser@sakip.demo").ok(),
                        name: "Test User".into(),
                        password: "testpass".into(),
                        roles: Roles::from([(DOMAIN.to_owned(), "super_admin".to_owned())]),
                        ..identity::NewUser::default()
                    },
                )
                .await?
                .id
            }
        };
    let exists = opd::Entity::find()
        .filter(opd::Column::Code.eq(DEMO_OPD))
        .one(&state.db)
        .await
        .map_err(db_err("finding the demo OPD"))?;
    if exists.is_some() {
        return Ok(());
    }
    let txn = state.db.begin().await.map_err(db_err("seeding SAKIP"))?;
    demo_opd(state, &txn, user)
        .await
        .map_err(db_err("seeding SAKIP"))?;
    txn.commit().await.map_err(db_err("seeding SAKIP"))
}

async fn node(
    txn: &DatabaseTransaction,
    level: Level,
    parent: i32,
    code: &str,
    name: &str,
    now: time::OffsetDateTime,
) -> Result<i32, sea_orm::DbErr> {
    let mut q = Sql::insert();
    q.into_table(Alias::new(format!("sakip_{}", level.name())))
        .columns(
            [
                level.parent_column(),
                "code",
                "name",
                "sort_order",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            parent.into(),
            code.into(),
            name.into(),
            1.into(),
            now.into(),
        ])
        .returning_col(Alias::new("id"));
    let row = txn
        .query_one(txn.get_database_backend().build(&q))
        .await?
        .ok_or(sea_orm::DbErr::RecordNotInserted)?;
    row.try_get("", "id")
}

async fn demo_opd(
    state: &AppState,
    txn: &DatabaseTransaction,
    user: Uuid,
) -> Result<(), sea_orm::DbErr> {
    let now = state.clock.now();
    let o = opd::ActiveModel {
        code: Set(DEMO_OPD.into()),
        name: Set("Dinas Kesehatan (demo)".into()),
        head_name: Set(Some("dr. Sari Wulandari".into())),
        contact: Set(Some(json!({"phone": "021-555-0101"}).to_string())),
        is_active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let r = renstra::ActiveModel {
        opd_id: Set(o.id),
        period: Set("2021-2026".into()),
        vision: Set(Some("Masyarakat sehat dan mandiri".into())),
        mission: Set(json!(["Meningkatkan layanan kesehatan", "Mencegah penyakit"]).to_string()),
        is_active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let t = node(
        txn,
        Level::Tujuan,
        r.id,
        "T1",
        "Meningkatkan derajat kesehatan",
        now,
    )
    .await?;
    let s = node(
        txn,
        Level::Sasaran,
        t,
        "S1",
        "Meningkatnya cakupan layanan kesehatan",
        now,
    )
    .await?;
    let p = node(
        txn,
        Level::Program,
        s,
        "P1",
        "Program pemenuhan upaya kesehatan",
        now,
    )
    .await?;
    let k = node(
        txn,
        Level::Kegiatan,
        p,
        "K1",
        "Imunisasi dasar lengkap",
        now,
    )
    .await?;
    // (level, parent, name, unit, polarity, frequency, yearly target, monthly targets from, monthly step)
    let plan = [
        (
            Level::Sasaran,
            s,
            "Cakupan imunisasi dasar lengkap",
            "%",
            Polarity::HigherBetter,
            "95",
            70,
            2,
        ),
        (
            Level::Program,
            p,
            "Angka kematian bayi",
            "per 1000",
            Polarity::LowerBetter,
            "12",
            14,
            0,
        ),
        (
            Level::Kegiatan,
            k,
            "Rasio dokter per 100.000 penduduk",
            "rasio",
            Polarity::TargetBased,
            "45",
            45,
            0,
        ),
    ];
    let polarity_name = |p: Polarity| match p {
        Polarity::HigherBetter => "higher_better",
        Polarity::LowerBetter => "lower_better",
        Polarity::TargetBased => "target_based",
    };
    for (level, parent, name, unit, polarity, yearly, start, step) in plan {
        let ind = indicator::ActiveModel {
            opd_id: Set(o.id),
            parent_type: Set(level.name().into()),
            parent_id: Set(parent),
            name: Set(name.into()),
            definition: Set(None),
            formula: Set(None),
            unit: Set(Some(unit.into())),
            data_source: Set(Some("Dinas Kesehatan".into())),
            frequency: Set(Some("monthly".into())),
            polarity: Set(polarity_name(polarity).into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let mut targets = vec![(0, 0, yearly.parse::<Decimal>().unwrap_or_default())];
        for month in 1..=12 {
            targets.push((
                (month - 1) / 3 + 1,
                month,
                Decimal::from(start + step * month),
            ));
        }
        for (quarter, month, value) in targets {
            target::ActiveModel {
                indicator_id: Set(ind.id),
                year: Set(YEAR),
                quarter: Set(quarter),
                month: Set(month),
                target_value: Set(value.to_string()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            if month == 0 {
                continue;
            }
            // Achievements a little off target, month by month.
            let real = value + Decimal::from((month % 3) - 1);
            let (percentage, note) = match calc::percentage(polarity, Some(value), real) {
                Ok(p) => (Some(p.to_string()), None),
                Err(why) => (None, Some(why.as_str().to_owned())),
            };
            achievement::ActiveModel {
                indicator_id: Set(ind.id),
                year: Set(YEAR),
                quarter: Set(quarter),
                month: Set(month),
                achievement_value: Set(real.to_string()),
                percentage: Set(percentage),
                percentage_note: Set(note),
                notes: Set(None),
                supporting_documents: Set(None),
                input_by: Set(user),
                verified_by: Set(None),
                verified_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    for (category, amount, code) in [
        ("belanja_pegawai", "1200000000.00", "DEMO-SIPD-1"),
        ("belanja_barang", "850000000.00", "DEMO-SIPD-2"),
        ("belanja_modal", "400000000.00", "DEMO-SIPD-3"),
    ] {
        let total: Decimal = amount.parse().unwrap_or_default();
        let alloc = allocation::ActiveModel {
            opd_id: Set(o.id),
            year: Set(YEAR),
            category: Set(category.into()),
            program_id: Set(Some(p)),
            kegiatan_id: Set(None),
            allocation_amount: Set(amount.into()),
            sipd_code: Set(code.into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let monthly = calc::two_places(total / Decimal::from(14));
        let mut running = Decimal::ZERO;
        for month in 1..=9 {
            running += monthly;
            realization::ActiveModel {
                allocation_id: Set(alloc.id),
                month: Set(month),
                realization_amount: Set(monthly.to_string()),
                cumulative_amount: Set(running.to_string()),
                percentage: Set(budget::share(running, total).map(|p| p.to_string())),
                notes: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    let scores = [80, 75, 70, 72].map(Decimal::from);
    let overall = calc::overall_score(&scores);
    let components: serde_json::Map<String, serde_json::Value> = calc::COMPONENTS
        .iter()
        .zip(scores)
        .map(|((name, _), s)| ((*name).to_owned(), json!(calc::two_places(s))))
        .collect();
    evaluation::ActiveModel {
        opd_id: Set(o.id),
        year: Set(YEAR - 1),
        kind: Set("internal".into()),
        evaluator: Set(Some("Inspektorat Daerah".into())),
        evaluation_date: Set(Some("2025-03-15".into())),
        overall_score: Set(Some(overall.to_string())),
        grade: Set(Some(calc::grade(overall).into())),
        status: Set("completed".into()),
        components: Set(serde_json::Value::Object(components).to_string()),
        findings: Set(json!(["Cascading kinerja belum sampai eselon IV"]).to_string()),
        recommendations: Set(json!(["Selaraskan indikator kegiatan dengan sasaran"]).to_string()),
        created_by: Set(user),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}
