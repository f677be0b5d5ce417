//! Raw SQL that runs unchanged on SQLite and PostgreSQL: written with `?` placeholders,
//! numbered for PostgreSQL here.

use sea_orm::{DbBackend, Statement, Value};

/// Builds a statement from SQL with `?` placeholders for either backend.
pub fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(ch);
                }
            }
            out
        }
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_for_postgres() {
        let s = stmt(
            DbBackend::Postgres,
            "SELECT ? + ?",
            vec![1i64.into(), 2i64.into()],
        );
        assert_eq!(s.sql, "SELECT $1 + $2");
        let s = stmt(
            DbBackend::Sqlite,
            "SELECT ? + ?",
            vec![1i64.into(), 2i64.into()],
        );
        assert_eq!(s.sql, "SELECT ? + ?");
    }
}
