//! Pseudonymising the stored device events: an `access_decision` or `attendance` event
//! keeps what happened (door, time, result, reason) but loses the person (id and name) and
//! the snapshot reference — when the person is erased, and once the events are older than
//! the retention period (`platform_events`). An erased person's id is kept in
//! `erased_people` (the id alone), so that events a door recorded offline before it learned
//! of the erasure arrive without them too.

use std::collections::BTreeSet;

use protocol::{Event, EventKind, PersonRef};
use sea_orm::{ConnectionTrait, DbErr, Value};
use serde_json::Value as Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::VerifiedEvent;
use crate::sql::stmt;

/// Events rewritten per statement batch in the retention pass.
const BATCH: u64 = 500;

/// The event body without its person: an access decision loses `person` and `snapshot`;
/// an attendance (whose person is required) keeps an empty one. `None` when there is
/// nothing to remove.
fn without_person(kind: &str, body: &str) -> Option<String> {
    let mut value: Json = serde_json::from_str(body).ok()?;
    let object = value.as_object_mut()?;
    let had_person = match kind {
        "attendance" => {
            let named = object
                .get("person")
                .and_then(|p| p.get("id"))
                .and_then(Json::as_str)
                .is_some_and(|id| !id.is_empty());
            object.insert("person".into(), serde_json::json!({ "id": "", "name": "" }));
            named
        }
        _ => {
            let person = object.remove("person").is_some();
            let snapshot = object.remove("snapshot").is_some();
            person || snapshot
        }
    };
    had_person.then(|| value.to_string())
}

async fn rewrite(
    db: &impl ConnectionTrait,
    rows: Vec<(Uuid, String, String)>,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut changed = 0;
    for (id, kind, body) in rows {
        if let Some(body) = without_person(&kind, &body) {
            db.execute(stmt(
                backend,
                "UPDATE events SET body = ? WHERE id = ?",
                vec![body.into(), id.into()],
            ))
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

fn rows_of(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<(Uuid, String, String)>, DbErr> {
    rows.into_iter()
        .map(|row| {
            Ok((
                row.try_get("", "id")?,
                row.try_get("", "kind")?,
                row.try_get("", "body")?,
            ))
        })
        .collect()
}

/// Remembers that person `person` was erased (inside the erasure's transaction): their id
/// alone, so that late events never bring them back.
pub async fn remember_erasure(
    db: &impl ConnectionTrait,
    person: Uuid,
    at: OffsetDateTime,
) -> Result<(), DbErr> {
    db.execute(stmt(
        db.get_database_backend(),
        "INSERT INTO erased_people (id, erased_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
        vec![person.to_string().into(), at.into()],
    ))
    .await?;
    Ok(())
}

fn person_of(event: &Event) -> Option<&PersonRef> {
    match event {
        Event::AccessDecision { person, .. } => person.as_ref(),
        Event::Attendance { person, .. } => Some(person),
        _ => None,
    }
}

/// A snapshot reference taken out of an erased person's late access decision: the image,
/// whenever it arrives (or if it already did), is theirs and must not be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasedSnapshot {
    pub device: protocol::DeviceId,
    /// The event's `snapshot` as the device sent it.
    pub key: String,
}

/// Takes erased people out of `events` before they are stored; returns the snapshot
/// references it took with them.
pub async fn strip_erased(
    db: &impl ConnectionTrait,
    events: &mut [VerifiedEvent],
) -> Result<Vec<ErasedSnapshot>, DbErr> {
    let named: BTreeSet<String> = events
        .iter()
        .filter_map(|e| person_of(&e.envelope.event))
        .filter(|p| !p.id.is_empty())
        .map(|p| p.id.clone())
        .collect();
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let named: Vec<String> = named.into_iter().collect();
    let mut erased = BTreeSet::new();
    for chunk in named.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let rows = db
            .query_all(stmt(
                db.get_database_backend(),
                &format!("SELECT id FROM erased_people WHERE id IN ({marks})"),
                chunk.iter().cloned().map(Value::from).collect(),
            ))
            .await?;
        for row in rows {
            erased.insert(row.try_get::<String>("", "id")?);
        }
    }
    let mut changed = 0;
    let mut snapshots = Vec::new();
    for event in events.iter_mut() {
        match &mut event.envelope.event {
            Event::AccessDecision {
                person, snapshot, ..
            } if person.as_ref().is_some_and(|p| erased.contains(&p.id)) => {
                *person = None;
                if let Some(key) = snapshot.take() {
                    snapshots.push(ErasedSnapshot {
                        device: event.envelope.device.clone(),
                        key,
                    });
                }
            }
            Event::Attendance { person, .. } if erased.contains(&person.id) => {
                *person = PersonRef {
                    id: String::new(),
                    name: String::new(),
                };
            }
            _ => continue,
        }
        changed += 1;
    }
    if changed > 0 {
        tracing::info!(changed, "Late events of erased people stored without them.");
    }
    Ok(snapshots)
}

/// Takes person `person` out of every stored event of `kinds` (access decisions,
/// attendances) that names them, inside the caller's transaction; returns how many events
/// changed.
pub async fn pseudonymise_person(
    db: &impl ConnectionTrait,
    person: Uuid,
    kinds: &[EventKind],
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let kinds: Vec<&str> = kinds
        .iter()
        .map(|k| k.as_str())
        .filter(|k| ["access_decision", "attendance"].contains(k))
        .collect();
    if kinds.is_empty() {
        return Ok(0);
    }
    let marks = vec!["?"; kinds.len()].join(", ");
    // Bodies are compact JSON (`serde_json::to_string`): the id appears exactly so.
    let mut values: Vec<Value> = kinds.into_iter().map(Value::from).collect();
    values.push(format!("%\"id\":\"{person}\"%").into());
    let rows = db
        .query_all(stmt(
            backend,
            &format!("SELECT id, kind, body FROM events WHERE kind IN ({marks}) AND body LIKE ?"),
            values,
        ))
        .await?;
    let rows = rows_of(rows)?
        .into_iter()
        .filter(|(_, _, body)| names(body, person))
        .collect();
    rewrite(db, rows).await
}

/// True when the body's person is `person` (the LIKE above may match an id elsewhere).
fn names(body: &str, person: Uuid) -> bool {
    serde_json::from_str::<Json>(body)
        .ok()
        .and_then(|v| v.get("person")?.get("id")?.as_str().map(str::to_owned))
        .is_some_and(|id| id == person.to_string())
}

/// Takes the person out of every event received before `cutoff` (the cloud's clock: a
/// device's may be wrong); returns how many events changed.
pub async fn pseudonymise_before(
    db: &impl ConnectionTrait,
    cutoff: OffsetDateTime,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut changed = 0;
    // Keyset over ids so that events already without a person are read once.
    let mut after = Uuid::nil();
    loop {
        let rows = db
            .query_all(stmt(
                backend,
                &format!(
                    "SELECT id, kind, body FROM events \
                     WHERE kind IN ('access_decision', 'attendance') AND received_at < ? \
                     AND id > ? AND (body LIKE '%\"person\"%' OR body LIKE '%\"snapshot\"%') \
                     AND body NOT LIKE '%\"person\":{{\"id\":\"\",\"name\":\"\"}}%' \
                     ORDER BY id LIMIT {BATCH}"
                ),
                vec![cutoff.into(), after.into()],
            ))
            .await?;
        let rows = rows_of(rows)?;
        let Some(last) = rows.last().map(|r| r.0) else {
            return Ok(changed);
        };
        let full = rows.len() as u64 == BATCH;
        changed += rewrite(db, rows).await?;
        if !full {
            return Ok(changed);
        }
        after = last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_decision_loses_person_and_snapshot_an_attendance_its_person() {
        let decision = r#"{"result":"denied","method":"face","person":{"id":"u1","name":"Ana"},"reason":"outside_schedule","snapshot":"k"}"#;
        let out: Json =
            serde_json::from_str(&without_person("access_decision", decision).unwrap()).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"result":"denied","method":"face","reason":"outside_schedule"})
        );
        assert_eq!(
            without_person(
                "access_decision",
                r#"{"result":"granted","method":"button"}"#
            ),
            None
        );
        let attendance = r#"{"person":{"id":"u1","name":"Ana"},"direction":"in","local_date":"2026-01-02","late":false}"#;
        let out: Json =
            serde_json::from_str(&without_person("attendance", attendance).unwrap()).unwrap();
        assert_eq!(out["person"], serde_json::json!({"id":"","name":""}));
        assert_eq!(out["direction"], "in");
        assert_eq!(without_person("attendance", &out.to_string()), None);
    }
}
