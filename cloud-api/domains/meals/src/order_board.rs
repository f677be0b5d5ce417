//! The order board: `GET /meals/api/orders` answers kept in memory, already serialised, per
//! caller and query string, so a repeated list read costs no database round trip. Like the
//! door board it is used on PostgreSQL only, where statement triggers on the tables an
//! order list shows (orders, profiles, departments, shifts, users) `NOTIFY` on commit
//! (migration `m0101_meals_order_list`) and every replica follows them
//! ([`platform::db::notify`]). Any change moves one [`Generation`]: order lists depend on
//! too many rows for finer invalidation to pay, and the kitchen changes something every
//! few seconds at most.
//!
//! This replica's own writes move the generation as soon as their request is answered
//! (the `after_writes` layer on the meals router), so a client never reads back the list
//! from before its own write; other replicas hear of it within the notification's delay.

use std::sync::Arc;

use axum::{body::Bytes, extract::Request, http::Method, middleware::Next, response::Response};
use platform::db::notify::{ChangeSink, Generation};
use uuid::Uuid;

/// The channel the triggers notify (no payload).
pub const CHANNEL: &str = "gerbang_meals";

/// Most answers kept at once (a caller and a query string each); the least used go first.
const CAPACITY: usize = 10_000;

/// One caller's answer to one query string.
type Key = (Uuid, String);

/// The order lists of one cloud replica.
pub struct OrderBoard {
    generation: Generation,
    answers: quick_cache::sync::Cache<Key, (u64, Bytes)>,
}

impl std::fmt::Debug for OrderBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderBoard")
            .field("generation", &self.generation)
            .field("answers", &self.answers.len())
            .finish()
    }
}

impl Default for OrderBoard {
    fn default() -> Self {
        Self {
            generation: Generation::default(),
            answers: quick_cache::sync::Cache::new(CAPACITY),
        }
    }
}

/// A list being computed: where to store it once done, if nothing changed meanwhile.
#[derive(Debug)]
pub struct Pending {
    generation: Option<u64>,
    key: Key,
}

impl OrderBoard {
    /// The answer `caller` had for `query`, if it is still current; else what to store the
    /// fresh answer under.
    pub fn lookup(&self, caller: Uuid, query: &str) -> Result<Bytes, Pending> {
        let key = (caller, query.to_owned());
        let generation = self.generation.current();
        if let Some(now) = generation {
            if let Some((stored, body)) = self.answers.get(&key) {
                if stored == now {
                    return Ok(body);
                }
            }
        }
        Err(Pending { generation, key })
    }

    /// Keeps `body` for the next read, unless something changed since its lookup.
    pub fn store(&self, pending: Pending, body: Bytes) {
        let Some(generation) = pending.generation else {
            return;
        };
        if self.generation.current() == Some(generation) {
            self.answers.insert(pending.key, (generation, body));
        }
    }

    /// Something changed: every answer kept is out of date.
    pub fn changed(&self) {
        self.generation.bump();
    }

    /// The follower's sink (see [`platform::db::notify::follow`]).
    pub fn sink(&self) -> &dyn ChangeSink {
        &self.generation
    }
}

/// Middleware of the meals routes: a request that may write (anything but `GET`, `HEAD`
/// and `OPTIONS`) moves the generation once it is answered, before the caller sees it.
pub async fn after_writes(board: Arc<OrderBoard>, request: Request, next: Next) -> Response {
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let response = next.run(request).await;
    if writes {
        board.changed();
    }
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn live() -> OrderBoard {
        let board = OrderBoard::default();
        board.sink().set_live(true);
        board
    }

    #[test]
    fn nothing_is_kept_while_changes_may_go_unheard() {
        let board = OrderBoard::default();
        let caller = Uuid::new_v4();
        let pending = board.lookup(caller, "page=1").unwrap_err();
        board.store(pending, Bytes::from_static(b"[]"));
        assert!(board.lookup(caller, "page=1").is_err());
    }

    #[test]
    fn an_answer_is_served_to_its_caller_and_query_until_a_change() {
        let board = live();
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let pending = board.lookup(alice, "page=1").unwrap_err();
        board.store(pending, Bytes::from_static(b"alice"));
        assert_eq!(board.lookup(alice, "page=1").unwrap(), "alice");
        assert!(board.lookup(alice, "page=2").is_err());
        assert!(board.lookup(bob, "page=1").is_err());
        board.changed();
        assert!(board.lookup(alice, "page=1").is_err());
    }

    #[test]
    fn an_answer_computed_across_a_change_is_not_kept() {
        let board = live();
        let caller = Uuid::new_v4();
        let pending = board.lookup(caller, "").unwrap_err();
        board.sink().changed("");
        board.store(pending, Bytes::from_static(b"stale"));
        assert!(board.lookup(caller, "").is_err());
    }
}
