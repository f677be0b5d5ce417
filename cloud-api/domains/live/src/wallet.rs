//! Coins: whole coins in `live_wallets.balance` (never negative: a CHECK constraint and a
//! guarded debit), and a ledger row for every change, written in the transaction that
//! changes the balance — so the sum of an account's ledger is always its balance. Gifts
//! move coins from the sender to the platform's account ([`PLATFORM_ACCOUNT`]) and record
//! the host's share as host income, in one transaction with the gift row and the live
//! session's totals; an `Idempotency-Key` row written in that transaction (with a hash of
//! the request) makes a retry return the first result, and the key reused for a different
//! request a 422.

use platform::{i18n::Msg, identity, sql::stmt};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, SqlErr, TransactionTrait, Value as DbValue,
};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{user_not_found, LiveError};

/// The platform's own ledger account: the part of each gift the host does not get.
pub const PLATFORM_ACCOUNT: Uuid = Uuid::nil();

/// The largest quantity of one gift in one send.
pub const MAX_QUANTITY: i64 = 9_999;

/// The largest coin credit in one call.
pub const MAX_CREDIT: i64 = 1_000_000_000;

/// Creates `user`'s wallet (balance 0) unless it exists.
pub async fn ensure_wallet(db: &impl ConnectionTrait, user: Uuid, now: i64) -> Result<(), DbErr> {
    db.execute(stmt(
        db.get_database_backend(),
        "INSERT INTO live_wallets (user_id, balance, updated_at) VALUES (?, 0, ?) \
         ON CONFLICT (user_id) DO NOTHING",
        vec![user.into(), now.into()],
    ))
    .await
    .map(|_| ())
}

/// `user`'s balance (0 without a wallet).
pub async fn balance(db: &impl ConnectionTrait, user: Uuid) -> Result<i64, DbErr> {
    let row = db
        .query_one(stmt(
            db.get_database_backend(),
            "SELECT balance FROM live_wallets WHERE user_id = ?",
            vec![user.into()],
        ))
        .await?;
    row.map(|r| r.try_get::<i64>("", "balance"))
        .transpose()
        .map(|b| b.unwrap_or(0))
}

async fn ledger(
    db: &impl ConnectionTrait,
    account: Uuid,
    delta: i64,
    balance_after: i64,
    kind: &str,
    reference: &str,
    now: i64,
) -> Result<(), DbErr> {
    db.execute(stmt(
        db.get_database_backend(),
        "INSERT INTO live_ledger (id, account, delta, balance_after, kind, reference, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            Uuid::now_v7().into(),
            account.into(),
            delta.into(),
            balance_after.into(),
            kind.into(),
            reference.into(),
            now.into(),
        ],
    ))
    .await
    .map(|_| ())
}

/// Adds `amount` (> 0) to `account` and writes its ledger row; the new balance.
pub async fn credit_in(
    db: &impl ConnectionTrait,
    account: Uuid,
    amount: i64,
    kind: &str,
    reference: &str,
    now: i64,
) -> Result<i64, DbErr> {
    ensure_wallet(db, account, now).await?;
    let row = db
        .query_one(stmt(
            db.get_database_backend(),
            "UPDATE live_wallets SET balance = balance + ?, updated_at = ? WHERE user_id = ? \
             RETURNING balance",
            vec![amount.into(), now.into(), account.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("live wallet".into()))?;
    let after: i64 = row.try_get("", "balance")?;
    ledger(db, account, amount, after, kind, reference, now).await?;
    Ok(after)
}

/// Takes `amount` (> 0) from `account` only if the balance covers it (the guarded update
/// matches no row otherwise) and writes its ledger row; the new balance.
pub async fn debit_in(
    db: &impl ConnectionTrait,
    account: Uuid,
    amount: i64,
    kind: &str,
    reference: &str,
    now: i64,
) -> Result<i64, LiveError> {
    let row = db
        .query_one(stmt(
            db.get_database_backend(),
            "UPDATE live_wallets SET balance = balance - ?, updated_at = ? \
             WHERE user_id = ? AND balance >= ? RETURNING balance",
            vec![amount.into(), now.into(), account.into(), amount.into()],
        ))
        .await?
        .ok_or(LiveError::InsufficientBalance)?;
    let after: i64 = row.try_get("", "balance")?;
    ledger(db, account, -amount, after, kind, reference, now).await?;
    Ok(after)
}

/// An admin's credit (a top-up confirmed by the payment provider): the new balance.
pub async fn admin_credit(
    db: &DatabaseConnection,
    user: Uuid,
    amount: i64,
    reference: &str,
    now: i64,
) -> Result<i64, LiveError> {
    if !(1..=MAX_CREDIT).contains(&amount) {
        return Err(LiveError::Invalid(Msg::new(
            "Jumlah koin harus antara 1 dan 1.000.000.000",
            "The amount must be between 1 and 1,000,000,000 coins",
        )));
    }
    let reference = reference.trim();
    if reference.is_empty() || reference.chars().count() > 200 {
        return Err(LiveError::Invalid(Msg::new(
            "Referensi pembayaran harus diisi (maks. 200 karakter)",
            "A payment reference is required (at most 200 characters)",
        )));
    }
    if user == PLATFORM_ACCOUNT || identity::find_by_id(db, user).await?.is_none() {
        return Err(user_not_found());
    }
    let txn = db.begin().await?;
    let after = credit_in(&txn, user, amount, "credit", reference, now).await?;
    txn.commit().await?;
    Ok(after)
}

/// One ledger row as the wallet history shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub id: Uuid,
    pub delta: i64,
    pub balance_after: i64,
    pub kind: String,
    pub reference: String,
    pub created_at: String,
}

/// `account`'s ledger, newest first, one page.
pub async fn history(
    db: &impl ConnectionTrait,
    account: Uuid,
    limit: u64,
    offset: u64,
) -> Result<Vec<LedgerEntry>, DbErr> {
    let rows = db
        .query_all(stmt(
            db.get_database_backend(),
            "SELECT id, delta, balance_after, kind, reference, created_at FROM live_ledger \
             WHERE account = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            vec![
                account.into(),
                (limit as i64).into(),
                (offset as i64).into(),
            ],
        ))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(LedgerEntry {
                id: r.try_get("", "id")?,
                delta: r.try_get("", "delta")?,
                balance_after: r.try_get("", "balance_after")?,
                kind: r.try_get("", "kind")?,
                reference: r.try_get("", "reference")?,
                created_at: crate::periods::rfc3339(r.try_get("", "created_at")?),
            })
        })
        .collect()
}

/// The sum of `account`'s ledger (what its balance must equal).
pub async fn ledger_sum(db: &impl ConnectionTrait, account: Uuid) -> Result<i64, DbErr> {
    let row = db
        .query_one(stmt(
            db.get_database_backend(),
            "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) AS s FROM live_ledger \
             WHERE account = ?",
            vec![account.into()],
        ))
        .await?;
    row.map(|r| r.try_get::<i64>("", "s"))
        .transpose()
        .map(|s| s.unwrap_or(0))
}

/// A gift in the catalogue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogGift {
    pub id: Uuid,
    pub name: String,
    pub coin_value: i64,
    pub category: String,
    pub icon: Option<String>,
}

/// A catalogue entry to add.
#[derive(Debug, Clone, Copy)]
pub struct NewGift<'a> {
    pub name: &'a str,
    pub coin_value: i64,
    pub category: &'a str,
    pub icon: Option<&'a str>,
}

/// Adds `gift` to the catalogue (checked by the caller); its id.
pub async fn add_catalog_gift(
    db: &impl ConnectionTrait,
    gift: &NewGift<'_>,
    now: i64,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    db.execute(stmt(
        db.get_database_backend(),
        "INSERT INTO live_gift_catalog (id, name, coin_value, category, icon, active, \
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            id.into(),
            gift.name.into(),
            gift.coin_value.into(),
            gift.category.into(),
            gift.icon.into(),
            true.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(id)
}

/// Which gift a send names.
#[derive(Debug, Clone)]
pub enum GiftRef {
    Id(Uuid),
    Name(String),
}

/// The active catalogue gift `which` names.
pub async fn find_gift(
    db: &impl ConnectionTrait,
    which: &GiftRef,
) -> Result<Option<CatalogGift>, DbErr> {
    let (filter, value): (&str, DbValue) = match which {
        GiftRef::Id(id) => ("id = ?", (*id).into()),
        GiftRef::Name(name) => ("LOWER(name) = LOWER(?)", name.trim().into()),
    };
    let row = db
        .query_one(stmt(
            db.get_database_backend(),
            &format!(
                "SELECT id, name, coin_value, category, icon FROM live_gift_catalog \
                 WHERE active = ? AND {filter}"
            ),
            vec![true.into(), value],
        ))
        .await?;
    row.map(|r| catalog_row(&r)).transpose()
}

pub(crate) fn catalog_row(r: &sea_orm::QueryResult) -> Result<CatalogGift, DbErr> {
    Ok(CatalogGift {
        id: r.try_get("", "id")?,
        name: r.try_get("", "name")?,
        coin_value: r.try_get("", "coin_value")?,
        category: r.try_get("", "category")?,
        icon: r.try_get("", "icon")?,
    })
}

/// The host's share of a gift of `total` coins at `share_bp` basis points, in whole coins:
/// rounded to the nearest coin (halves up) per gift, so the demo's 1-coin Rose earns its
/// host 1 coin at 60 % instead of nothing. The platform keeps exactly the rest, so the
/// ledger stays exact: income + the platform's share = the coins sent, gift by gift.
pub fn host_income(total: i64, share_bp: i64) -> i64 {
    let exact = i128::from(total) * i128::from(share_bp.clamp(0, 10_000));
    i64::try_from((exact + 5_000) / 10_000)
        .unwrap_or(total)
        .clamp(0, total.max(0))
}

/// A gift to send, checked by [`send_gift`].
#[derive(Debug, Clone)]
pub struct SendGift {
    pub sender: Uuid,
    pub receiver: Uuid,
    pub gift: GiftRef,
    pub quantity: i64,
    pub live_session_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
}

impl SendGift {
    /// What makes two sends the same request, hashed (SHA-256, hex): the receiver, the
    /// catalogue gift `gift` it names (by id or name), the quantity and the session.
    fn fingerprint(&self, gift: Uuid) -> String {
        use sha2::Digest;
        let session = self
            .live_session_id
            .map_or_else(|| "-".to_owned(), |s| s.to_string());
        let canonical = format!("{}|{gift}|{}|{session}", self.receiver, self.quantity);
        hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
    }
}

fn invalid(id: &'static str, en: &'static str) -> LiveError {
    LiveError::Invalid(Msg::new(id, en))
}

/// A gift's receipt, and whether it is the stored receipt of an earlier send with the same
/// `Idempotency-Key` (nothing was charged or announced this time).
#[derive(Debug, Clone)]
pub struct Sent {
    pub receipt: Value,
    pub replayed: bool,
}

/// Sends a gift: in one transaction the idempotency key, the sender's guarded debit and
/// ledger row, the platform's share and its ledger row, the gift row, the host's income row
/// and the live session's total. Answers the receipt (the stored first receipt for a
/// repeated key); a short balance is [`LiveError::InsufficientBalance`] and changes nothing.
pub async fn send_gift(
    db: &DatabaseConnection,
    host_share_bp: i64,
    send: SendGift,
    now: i64,
) -> Result<Sent, LiveError> {
    if !(1..=MAX_QUANTITY).contains(&send.quantity) {
        return Err(invalid(
            "Jumlah hadiah harus antara 1 dan 9999",
            "The quantity must be between 1 and 9999",
        ));
    }
    if send.sender == send.receiver {
        return Err(invalid(
            "Tidak bisa mengirim hadiah ke diri sendiri",
            "You cannot send a gift to yourself",
        ));
    }
    if let Some(key) = &send.idempotency_key {
        if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(
                "Idempotency-Key tidak valid (1–128 karakter ASCII)",
                "Invalid Idempotency-Key (1–128 ASCII characters)",
            ));
        }
    }
    let receiver = identity::find_by_id(db, send.receiver).await?;
    if receiver.is_none_or(|r| r.disabled) || send.receiver == PLATFORM_ACCOUNT {
        return Err(LiveError::NotFound(Msg::new(
            "Penerima tidak ditemukan",
            "Receiver not found",
        )));
    }
    let gift = find_gift(db, &send.gift)
        .await?
        .ok_or_else(|| LiveError::NotFound(Msg::new("Hadiah tidak ditemukan", "Gift not found")))?;
    let total = gift
        .coin_value
        .checked_mul(send.quantity)
        .ok_or_else(|| invalid("Jumlah terlalu besar", "The amount is too large"))?;
    let income = host_income(total, host_share_bp);
    let house = total - income;
    let request_hash = send.fingerprint(gift.id);
    let gift_row = Uuid::now_v7();
    let reference = format!("gift:{gift_row}");
    let backend = db.get_database_backend();

    let txn = db.begin().await?;
    if let Some(key) = &send.idempotency_key {
        // Written first: a concurrent send with the same key waits here for this one.
        let inserted = txn
            .execute(stmt(
                backend,
                "INSERT INTO live_idempotency (sender_id, key, response, request_hash, \
                 created_at) VALUES (?, ?, NULL, ?, ?)",
                vec![
                    send.sender.into(),
                    key.as_str().into(),
                    request_hash.as_str().into(),
                    now.into(),
                ],
            ))
            .await;
        if let Err(err) = inserted {
            txn.rollback().await?;
            if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                return Ok(Sent {
                    receipt: stored_receipt(db, send.sender, key, &request_hash).await?,
                    replayed: true,
                });
            }
            return Err(err.into());
        }
    }
    let balance_after = match debit_in(&txn, send.sender, total, "gift", &reference, now).await {
        Ok(after) => after,
        Err(err) => {
            txn.rollback().await?;
            return Err(err);
        }
    };
    if house > 0 {
        credit_in(&txn, PLATFORM_ACCOUNT, house, "gift_share", &reference, now).await?;
    }
    txn.execute(stmt(
        backend,
        "INSERT INTO live_gifts (id, sender_id, receiver_id, gift_id, gift_name, coin_value, \
         quantity, live_session_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            gift_row.into(),
            send.sender.into(),
            send.receiver.into(),
            gift.id.into(),
            gift.name.as_str().into(),
            gift.coin_value.into(),
            send.quantity.into(),
            send.live_session_id.into(),
            now.into(),
        ],
    ))
    .await?;
    txn.execute(stmt(
        backend,
        "INSERT INTO live_host_income (id, host_id, gift_id, sender_id, income, type, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            Uuid::now_v7().into(),
            send.receiver.into(),
            gift_row.into(),
            send.sender.into(),
            income.into(),
            gift.category.as_str().into(),
            now.into(),
        ],
    ))
    .await?;
    if let Some(session) = send.live_session_id {
        let updated = txn
            .execute(stmt(
                backend,
                "UPDATE live_sessions SET total_income = total_income + ? \
                 WHERE id = ? AND host_id = ? AND end_time IS NULL",
                vec![income.into(), session.into(), send.receiver.into()],
            ))
            .await?;
        if updated.rows_affected() != 1 {
            txn.rollback().await?;
            return Err(LiveError::NotFound(Msg::new(
                "Sesi live penerima tidak ditemukan atau sudah berakhir",
                "The receiver's live session does not exist or has ended",
            )));
        }
    }
    let receipt = json!({
        "message": Msg::new("Hadiah terkirim", "Gift sent").localized(),
        "gift": {
            "id": gift_row,
            "sender_id": send.sender,
            "receiver_id": send.receiver,
            "gift_id": gift.id,
            "gift_name": gift.name,
            "category": gift.category,
            "coin_value": gift.coin_value,
            "quantity": send.quantity,
            "total_coins": total,
            "live_session_id": send.live_session_id,
            "created_at": crate::periods::rfc3339(now),
        },
        "income": income,
        "balance": balance_after,
    });
    if let Some(key) = &send.idempotency_key {
        txn.execute(stmt(
            backend,
            "UPDATE live_idempotency SET response = ? WHERE sender_id = ? AND key = ?",
            vec![
                receipt.to_string().into(),
                send.sender.into(),
                key.as_str().into(),
            ],
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(Sent {
        receipt,
        replayed: false,
    })
}

/// The first receipt of a key that was already used (committed before its row was seen),
/// when it was used for the same request (`request_hash`); the key used for another request
/// is refused (422).
async fn stored_receipt(
    db: &DatabaseConnection,
    sender: Uuid,
    key: &str,
    request_hash: &str,
) -> Result<Value, LiveError> {
    let row = db
        .query_one(stmt(
            db.get_database_backend(),
            "SELECT response, request_hash FROM live_idempotency WHERE sender_id = ? AND key = ?",
            vec![sender.into(), key.into()],
        ))
        .await?;
    let (stored, first_hash): (Option<String>, Option<String>) = match row {
        Some(r) => (r.try_get("", "response")?, r.try_get("", "request_hash")?),
        None => (None, None),
    };
    // Keys stored before m0302 have no hash: they replay as before.
    if first_hash.is_some_and(|first| first != request_hash) {
        return Err(LiveError::Unprocessable(Msg::new(
            "Idempotency-Key ini sudah dipakai untuk hadiah lain (penerima, hadiah, jumlah \
             atau sesi berbeda); pakai kunci baru",
            "This Idempotency-Key was already used for a different gift (receiver, gift, \
             quantity or session); use a new key",
        )));
    }
    stored
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(|| {
            LiveError::Conflict(Msg::new(
                "Permintaan dengan Idempotency-Key ini sedang diproses",
                "A request with this Idempotency-Key is in progress",
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::host_income;

    #[test]
    fn the_host_share_rounds_to_the_nearest_coin() {
        // 60 % of 1, 2, 3, 4, 5 coins: 0.6, 1.2, 1.8, 2.4, 3.0.
        let shares: Vec<i64> = (1..=5).map(|t| host_income(t, 6_000)).collect();
        assert_eq!(shares, [1, 1, 2, 2, 3]);
        assert_eq!(host_income(20, 6_000), 12);
        // Halves go to the host; the extremes stay inside the gift.
        assert_eq!(host_income(5, 5_000), 3);
        assert_eq!(host_income(7, 0), 0);
        assert_eq!(host_income(7, 10_000), 7);
        assert_eq!(host_income(i64::MAX, 6_000), i64::MAX / 10 * 6 + 4);
    }
}
