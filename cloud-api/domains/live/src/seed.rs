//! The all-in-one demo's ChatMe data (`cargo run --release`; the plain `cloud-api` binary
//! seeds nothing): a gift catalogue, an approved agency with two hosts, one of them live,
//! and two viewers with 10,000 coins each. Everyone's password is [`DEMO_PASSWORD`].
//! Seeding twice changes nothing.

use platform::{
    error::ServiceError,
    identity::{self, LoginId, NewUser, Phone, Roles},
    sql::stmt,
    state::AppState,
};
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use crate::{
    accounts::ensure_account,
    sessions,
    wallet::{self, NewGift},
    DOMAIN,
};

/// The demo accounts' password.
pub const DEMO_PASSWORD: &str = "chatme123";

/// `(phone, name, role)` of the demo accounts, for the banner too.
pub const DEMO_ACCOUNTS: [(&str, &str, &str); 5] = [
    ("081211110000", "Agency Bintang", "agency"),
    ("081211110001", "Host Rina", "host"),
    ("081211110002", "Host Maya", "host"),
    ("081211110003", "Viewer Budi", "user"),
    ("081211110004", "Viewer Sari", "user"),
];

const GIFTS: [(&str, i64, &str, &str); 5] = [
    ("Rose", 1, "basic", "🌹"),
    ("Love", 10, "basic", "❤️"),
    ("Ice Cream", 50, "sweet", "🍦"),
    ("Sports Car", 1000, "luxury", "🏎️"),
    ("Castle", 5000, "luxury", "🏰"),
];

fn seed_error(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal("seeding the ChatMe demo", e)
}

/// Seeds the demo unless its agency owner exists.
pub async fn seed_demo(state: &AppState) -> Result<(), ServiceError> {
    let db = &state.db;
    let now = state.clock.unix();
    let phone = |raw: &str| Phone::parse(&format!("62{}", &raw[1..])).map_err(seed_error);
    if identity::find_by_login(db, &LoginId::Phone(phone(DEMO_ACCOUNTS[0].0)?))
        .await?
        .is_some()
    {
        return Ok(());
    }
    let mut ids = Vec::new();
    for (number, name, role) in DEMO_ACCOUNTS {
        let user = identity::create_user(
            db,
            &state.roles,
            NewUser {
                phone: Some(phone(number)?),
                name: name.to_owned(),
                password: DEMO_PASSWORD.to_owned(),
                roles: Roles::from([(DOMAIN.to_owned(), role.to_owned())]),
                ..NewUser::default()
            },
        )
        .await?;
        ensure_account(db, user.id, now).await.map_err(seed_error)?;
        ids.push(user.id);
    }
    for (name, coin_value, category, icon) in GIFTS {
        let gift = NewGift {
            name,
            coin_value,
            category,
            icon: Some(icon),
        };
        wallet::add_catalog_gift(db, &gift, now)
            .await
            .map_err(seed_error)?;
    }
    let agency = Uuid::now_v7();
    let sql = [
        (
            "INSERT INTO live_agencies (id, owner_id, family_name, region, phone, status, \
             created_at, approved_at, decided_at) VALUES (?, ?, 'Keluarga Bintang', 'Jakarta', ?, \
             'approved', ?, ?, ?)",
            vec![
                agency.into(),
                ids[0].into(),
                phone(DEMO_ACCOUNTS[0].0)?.as_str().into(),
                now.into(),
                now.into(),
                now.into(),
            ],
        ),
        (
            "INSERT INTO live_agency_hosts (host_id, agency_id, joined_at) VALUES (?, ?, ?)",
            vec![ids[1].into(), agency.into(), now.into()],
        ),
        (
            "INSERT INTO live_agency_hosts (host_id, agency_id, joined_at) VALUES (?, ?, ?)",
            vec![ids[2].into(), agency.into(), now.into()],
        ),
    ];
    for (sql, values) in sql {
        db.execute(stmt(db.get_database_backend(), sql, values))
            .await
            .map_err(seed_error)?;
    }
    // Nobody's app holds the demo host's socket: her session is stamped present for good,
    // so the sweeper leaves it on air, until her app connects and the usual grace applies.
    sessions::open_new(db, ids[1], now, i64::MAX)
        .await
        .map_err(seed_error)?;
    // Each balance change with its ledger row, as everywhere.
    let txn = db.begin().await.map_err(seed_error)?;
    for viewer in &ids[3..] {
        wallet::credit_in(&txn, *viewer, 10_000, "credit", "demo-topup", now)
            .await
            .map_err(seed_error)?;
    }
    txn.commit().await.map_err(seed_error)?;
    tracing::info!("ChatMe demo seeded.");
    Ok(())
}
