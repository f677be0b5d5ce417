//! `cloud-api backup` and `restore` on both databases: a backup taken while the cloud
//! runs restores into a fresh database with every table's every row and every file equal;
//! a restore into a database holding data, or of a backup made by a newer Gerbang, is
//! refused with its reason and writes nothing.

mod common;

use std::{collections::BTreeMap, path::Path, process::Command};

use cloud_api::{
    backup::{self, BackupError},
    testkit::{unique_site, Backend, TestDb},
    CloudConfig,
};
use common::*;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

cloud_api::db_tests!(
    a_backup_restores_every_row_and_file,
    a_restore_refuses_what_it_cannot_honour
);

/// A configuration naming `url` and `data_dir`, as the `cloud-api` binary would read it.
fn config_for(url: &str, data_dir: &Path) -> CloudConfig {
    CloudConfig {
        database_url: Some(url.to_owned()),
        data_dir: data_dir.to_owned(),
        ..CloudConfig::default()
    }
}

/// Every row of every table of the database at `url`, as text, rows sorted, by table.
async fn rows_by_table(url: &str) -> BTreeMap<String, Vec<String>> {
    let db = Database::connect(url).await.expect("connect");
    let backend = db.get_database_backend();
    let tables_sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    let tables: Vec<String> = db
        .query_all(Statement::from_string(backend, tables_sql))
        .await
        .expect("tables")
        .iter()
        .map(|row| row.try_get("", "name").expect("name"))
        .collect();
    let mut all = BTreeMap::new();
    for table in tables {
        let select = match backend {
            DbBackend::Postgres => format!("SELECT row_to_json(t)::text AS r FROM \"{table}\" t"),
            _ => {
                let columns: Vec<String> = db
                    .query_all(Statement::from_string(
                        backend,
                        format!("SELECT name FROM pragma_table_info('{table}')"),
                    ))
                    .await
                    .expect("columns")
                    .iter()
                    .map(|row| format!("quote(\"{}\")", row.try_get::<String>("", "name").unwrap()))
                    .collect();
                format!(
                    "SELECT {} AS r FROM \"{table}\"",
                    columns.join(" || '|' || ")
                )
            }
        };
        let mut rows: Vec<String> = db
            .query_all(Statement::from_string(backend, select))
            .await
            .expect("rows")
            .iter()
            .map(|row| row.try_get("", "r").expect("r"))
            .collect();
        rows.sort();
        all.insert(table, rows);
    }
    all
}

/// Every file under `dir` with its bytes, by path relative to `dir`, leaving out `skip`.
fn files_under(dir: &Path, skip: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.expect("read dir");
        let name = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if entry.file_type().is_file() && !skip.iter().any(|s| name.starts_with(s)) {
            files.insert(name, std::fs::read(entry.path()).expect("read"));
        }
    }
    files
}

/// Runs the `cloud-api` binary with `args` and `dir`, configured for `tc`'s database and
/// data directory.
fn cloud_api_command(
    tc: &cloud_api::testkit::TestCloud,
    args: &[&str],
    dir: &Path,
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cloud-api"))
        .args(args)
        .arg(dir)
        .env("GERBANG_DATABASE_URL", tc.database_url())
        .env("GERBANG_DATA_DIR", tc.data_dir())
        .output()
        .expect("run cloud-api")
}

/// A cloud with users, device events, access logs and a snapshot in its object store.
async fn a_cloud_with_data(backend: Backend) -> cloud_api::testkit::TestCloud {
    let tc = start(backend).await;
    user_session(&tc, "siti@gerbang.test", &[("access", "member")]).await;
    let mut device = tc.enroll_device(&unique_site("bak"), "door-1").await;
    let frames: Vec<Vec<u8>> = (0..20).map(|_| device.next_frame(granted())).collect();
    send_frames(&tc, &device.token, &frames).await;
    let response = upload_snapshot(&tc.url(""), &device.token, "", "image/jpeg", jpeg()).await;
    assert!(response.status().is_success(), "{}", response.status());
    tc
}

async fn a_backup_restores_every_row_and_file(backend: Backend) {
    let mut tc = a_cloud_with_data(backend.clone()).await;
    // Stopped, so that nothing changes between the backup and the comparison (the other
    // case backs up a running cloud).
    tc.halt().await;
    let source = config_for(tc.database_url(), tc.data_dir());
    let work = tempfile::tempdir().unwrap();
    let manifest = backup::backup(&source, &work.path().join("b"))
        .await
        .expect("backup");
    assert!(manifest.files >= 1, "{manifest:?}");
    assert_eq!(
        manifest.migrations.len(),
        cloud_api::platform::db::Migrator::<cloud_api::Domains>::migrations().len()
    );
    // A second backup never overwrites the first.
    let again = backup::backup(&source, &work.path().join("b")).await;
    assert!(
        matches!(again, Err(BackupError::TargetNotEmpty(_))),
        "{again:?}"
    );

    let fresh = TestDb::create(&backend).await;
    let restored_dir = work.path().join("restored-data");
    let target = config_for(&fresh.url, &restored_dir);
    backup::restore(&target, &work.path().join("b"))
        .await
        .expect("restore");

    let (before, after) = (
        rows_by_table(tc.database_url()).await,
        rows_by_table(&fresh.url).await,
    );
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (table, rows) in &before {
        assert_eq!(
            rows, &after[table],
            "table {table} differs after the restore"
        );
    }
    assert!(
        before["access_logs"].len() >= 10,
        "{:?}",
        before["access_logs"].len()
    );
    let database_files = ["gerbang.db"];
    let (files_before, files_after) = (
        files_under(tc.data_dir(), &database_files),
        files_under(&restored_dir, &database_files),
    );
    assert!(!files_before.is_empty());
    assert_eq!(files_before, files_after);
}

async fn a_restore_refuses_what_it_cannot_honour(backend: Backend) {
    let tc = a_cloud_with_data(backend.clone()).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("b");
    // Through the real binary, as an operator would, while the cloud runs.
    let output = cloud_api_command(&tc, &["backup", "--to"], &dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Backup written"));

    // Into the database it came from (not empty): refused, nothing written.
    let before = rows_by_table(tc.database_url()).await;
    let output = cloud_api_command(&tc, &["restore", "--from"], &dir);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is not empty")
            && stderr.contains("restore only into a new, empty database"),
        "{stderr}"
    );
    assert_eq!(before, rows_by_table(tc.database_url()).await);

    // A backup from a newer Gerbang: refused before the empty database is touched.
    let manifest_path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["migrations"]
        .as_array_mut()
        .unwrap()
        .push("m9999_from_the_future".into());
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let fresh = TestDb::create(&backend).await;
    let restored_dir = work.path().join("restored-data");
    let refused = backup::restore(&config_for(&fresh.url, &restored_dir), &dir).await;
    let message = refused.expect_err("a newer backup").to_string();
    assert!(
        message.contains("newer Gerbang") && message.contains("m9999_from_the_future"),
        "{message}"
    );
    assert!(!restored_dir.exists(), "files were written");
    assert!(
        rows_by_table(&fresh.url).await.is_empty(),
        "the database was written"
    );
}
