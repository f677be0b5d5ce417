//! `cloud-api backup` and `cloud-api restore`: a site's data outliving its disk.
//!
//! A backup is a directory: `manifest.json` (when, which backend, which migrations the
//! database had), the database — `database.sqlite` from SQLite's online `VACUUM INTO` (a
//! consistent copy while the cloud runs) or `database.pgdump` from `pg_dump` (one
//! transaction-consistent snapshot) — and `files/`, the data directory's files (the object
//! store of snapshots, recordings, avatars and SAKIP documents) without the database. When
//! the files are in an S3 bucket (`[object_store]`), the manifest names it and the bucket's
//! own versioning or replication keeps them.
//!
//! A restore goes only into an empty database, and only from a backup whose every migration
//! this binary knows: a backup made by a newer Gerbang, or a database already holding data,
//! is refused with the reason before anything is written. The restored database is then
//! migrated up to this binary's schema.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
};

use platform::db::Migrator;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;
use serde::{Deserialize, Serialize};

use crate::{CloudConfig, Domains};

/// The layout this code writes and reads.
const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";
const FILES: &str = "files";

/// What a backup says of itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    /// RFC 3339.
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The version of the `cloud-api` that wrote it.
    pub gerbang_version: String,
    /// Every migration the database had, by name.
    pub migrations: Vec<String>,
    /// Files copied from the data directory.
    pub files: u64,
    /// The S3 bucket the domains' files are in, when one is configured: a backup holds the
    /// database and the data directory only; the bucket keeps its own (versioning,
    /// replication).
    #[serde(default)]
    pub bucket: Option<String>,
}

/// Why a backup or restore did not happen; every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the backup directory {0} exists and is not empty; choose a new one")]
    TargetNotEmpty(PathBuf),
    #[error("{0} is not a Gerbang backup (no readable manifest.json): {1}")]
    NotABackup(PathBuf, String),
    #[error("this backup has format {0}; this cloud-api reads format {FORMAT} — use the Gerbang that made it")]
    UnknownFormat(u32),
    #[error(
        "this backup was made by a newer Gerbang (version {version}): its database has \
         migrations this cloud-api does not know ({unknown}). Install that version or newer \
         and restore with it"
    )]
    NewerSchema { version: String, unknown: String },
    #[error(
        "the database to restore into is not empty ({tables} tables{schema}); restore only \
         into a new, empty database"
    )]
    DatabaseNotEmpty { tables: i64, schema: String },
    #[error("this is a {found} backup and the configured database is {wanted}")]
    BackendMismatch { found: String, wanted: String },
    #[error("{tool} failed: {detail}")]
    Tool { tool: &'static str, detail: String },
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Io { context, source }
}

/// Writes a backup of the cloud configured by `config` into `to` (created; must be new or
/// empty). The cloud may keep running.
pub async fn backup(config: &CloudConfig, to: &Path) -> Result<Manifest, BackupError> {
    if to.exists()
        && std::fs::read_dir(to)
            .map_err(io(format!("reading {}", to.display())))?
            .next()
            .is_some()
    {
        return Err(BackupError::TargetNotEmpty(to.to_owned()));
    }
    std::fs::create_dir_all(to).map_err(io(format!("creating {}", to.display())))?;
    let url = config.effective_database_url();
    let db = Database::connect(url.as_str()).await?;
    let migrations = applied_migrations(&db).await?;
    let backend = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.close().await?;
            run_tool(
                "pg_dump",
                Command::new("pg_dump")
                    .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                    .arg(to.join(PG_FILE))
                    .arg(&url),
            )?;
            "postgres"
        }
        _ => {
            let file = to.join(SQLITE_FILE);
            db.execute(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "VACUUM INTO ?",
                [file.to_string_lossy().into_owned().into()],
            ))
            .await?;
            db.close().await?;
            "sqlite"
        }
    };
    let skip = sqlite_files(&url);
    let files = copy_tree(&config.data_dir, &to.join(FILES), &skip)?;
    let manifest = Manifest {
        format: FORMAT,
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        backend: backend.into(),
        gerbang_version: env!("CARGO_PKG_VERSION").into(),
        migrations,
        files,
        bucket: config.object_store.bucket.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Io {
        context: "writing the manifest".into(),
        source: e.into(),
    })?;
    std::fs::write(to.join(MANIFEST), json).map_err(io("writing the manifest"))?;
    Ok(manifest)
}

/// Reads the manifest of the backup in `from`.
pub fn read_manifest(from: &Path) -> Result<Manifest, BackupError> {
    let text = std::fs::read(from.join(MANIFEST))
        .map_err(|e| BackupError::NotABackup(from.to_owned(), e.to_string()))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| BackupError::NotABackup(from.to_owned(), e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(BackupError::UnknownFormat(manifest.format));
    }
    Ok(manifest)
}

/// Restores the backup in `from` into the database and data directory of `config`, then
/// migrates the database to this binary's schema. Refuses (writing nothing) a backup from a
/// newer Gerbang, a backup of the other backend, and a database that is not empty.
pub async fn restore(config: &CloudConfig, from: &Path) -> Result<Manifest, BackupError> {
    let manifest = read_manifest(from)?;
    let known: BTreeSet<String> = Migrator::<Domains>::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let unknown: Vec<&str> = manifest
        .migrations
        .iter()
        .filter(|m| !known.contains(*m))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(BackupError::NewerSchema {
            version: manifest.gerbang_version.clone(),
            unknown: unknown.join(", "),
        });
    }
    let url = config.effective_database_url();
    let db = Database::connect(url.as_str()).await?;
    let backend = db.get_database_backend();
    let wanted = if backend == DbBackend::Postgres {
        "postgres"
    } else {
        "sqlite"
    };
    if manifest.backend != wanted {
        return Err(BackupError::BackendMismatch {
            found: manifest.backend.clone(),
            wanted: wanted.into(),
        });
    }
    let tables = table_count(&db).await?;
    if tables > 0 {
        let schema = match applied_migrations(&db).await {
            Ok(applied) => match applied.last() {
                Some(last) if !known.contains(last) => {
                    format!(", schema of a newer Gerbang: {last}")
                }
                Some(last) => format!(", schema at {last}"),
                None => String::new(),
            },
            Err(_) => String::new(),
        };
        return Err(BackupError::DatabaseNotEmpty { tables, schema });
    }
    db.close().await?;
    if backend == DbBackend::Postgres {
        run_tool(
            "pg_restore",
            Command::new("pg_restore")
                .args([
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--dbname",
                ])
                .arg(&url)
                .arg(from.join(PG_FILE)),
        )?;
    } else {
        let path = sqlite_path(&url).ok_or_else(|| BackupError::Io {
            context: format!("the SQLite URL {url}"),
            source: std::io::Error::other("not a file URL"),
        })?;
        // The empty file the connection check may have made, and its journal.
        for leftover in sqlite_files(&url) {
            let _ = std::fs::remove_file(leftover);
        }
        std::fs::copy(from.join(SQLITE_FILE), &path)
            .map_err(io(format!("writing {}", path.display())))?;
    }
    copy_tree(&from.join(FILES), &config.data_dir, &[])?;
    platform::db::connect::<Domains>(&url)
        .await?
        .close()
        .await?;
    Ok(manifest)
}

/// Every migration recorded in `db`, in the order applied.
async fn applied_migrations(db: &DatabaseConnection) -> Result<Vec<String>, BackupError> {
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY applied_at, version",
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<String>("", "version").map_err(Into::into))
        .collect()
}

/// User tables in `db` (0 for a new database).
async fn table_count(db: &DatabaseConnection) -> Result<i64, BackupError> {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        "SELECT COUNT(*) AS n FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    } else {
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    };
    let row = db
        .query_one(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("a count".into()))?;
    Ok(row.try_get("", "n")?)
}

/// The file of a `sqlite://path?…` URL.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// The SQLite database file and its WAL and shared-memory files (none for PostgreSQL).
fn sqlite_files(url: &str) -> Vec<PathBuf> {
    let Some(path) = sqlite_path(url) else {
        return Vec::new();
    };
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())))
        .collect()
}

/// Copies the files under `from` into `to` (made as needed), leaving out `skip`; returns
/// how many files were copied. A missing `from` copies nothing.
fn copy_tree(from: &Path, to: &Path, skip: &[PathBuf]) -> Result<u64, BackupError> {
    if !from.exists() {
        return Ok(0);
    }
    let skip: Vec<PathBuf> = skip
        .iter()
        .filter_map(|p| std::path::absolute(p).ok())
        .collect();
    let mut copied = 0;
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.map_err(|e| BackupError::Io {
            context: format!("reading {}", from.display()),
            source: e.into(),
        })?;
        let path = entry.path();
        let target = to.join(path.strip_prefix(from).unwrap_or(Path::new("")));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)
                .map_err(io(format!("creating {}", target.display())))?;
        } else if entry.file_type().is_file()
            && !std::path::absolute(path).is_ok_and(|p| skip.contains(&p))
        {
            std::fs::copy(path, &target).map_err(io(format!("copying {}", path.display())))?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Runs a PostgreSQL client tool; its stderr is the error.
fn run_tool(tool: &'static str, command: &mut Command) -> Result<(), BackupError> {
    let output = command.output().map_err(|e| BackupError::Tool {
        tool,
        detail: format!("could not run it ({e}); install the PostgreSQL client tools"),
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(BackupError::Tool {
            tool,
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}
