//! The access history as an export table: its columns, cells and layout, and a source that
//! reads the filtered history in keyset chunks. The writers are `platform::export`'s.

use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;

use super::{
    filter::AccessFilter,
    service::{fetch, AccessLogView, Cursor},
};
use platform::{
    error::ServiceError,
    export::{stamped_file_name, truncated_label, ExportFormat, ExportRow, Layout, RowSource},
    i18n::Msg,
};

/// XLSX column widths.
const WIDTHS: [f64; 12] = [
    26.0, 16.0, 20.0, 9.0, 11.0, 16.0, 24.0, 16.0, 7.0, 8.0, 20.0, 38.0,
];
/// Columns shown in the PDF (index into the cells), their x position and character cap.
const PDF_COLUMNS: [(usize, f32, usize); 8] = [
    (0, 0.0, 25),
    (1, 128.0, 18),
    (6, 220.0, 26),
    (5, 350.0, 18),
    (3, 445.0, 8),
    (4, 492.0, 12),
    (7, 555.0, 18),
    (8, 650.0, 6),
];

/// The access history's layout in the request's language.
pub fn layout(format: ExportFormat, now: time::OffsetDateTime, subtitle: String) -> Layout {
    let columns = [
        Msg::new("Waktu", "Time"),
        Msg::new("ID Perangkat", "Device ID"),
        Msg::new("Nama Perangkat", "Device name"),
        Msg::new("Hasil", "Result"),
        Msg::new("Metode", "Method"),
        Msg::new("ID Pengguna", "User ID"),
        Msg::new("Nama Pengguna", "User name"),
        Msg::new("Alasan", "Reason"),
        Msg::new("Skor", "Score"),
        Msg::new("Liveness", "Liveness"),
        Msg::new("Snapshot", "Snapshot"),
        Msg::new("ID Event", "Event ID"),
    ];
    Layout {
        title: Msg::new("Riwayat Akses Gerbang", "Gerbang Access History")
            .localized()
            .to_owned(),
        subtitle,
        columns: columns.iter().map(|m| m.localized().to_owned()).collect(),
        truncated: truncated_label(),
        sheet: "Riwayat",
        widths: &WIDTHS,
        pdf_columns: &PDF_COLUMNS,
        file_name: stamped_file_name("riwayat-akses", format, now),
    }
}

fn opt_num(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.3}")).unwrap_or_default()
}

impl ExportRow for AccessLogView {
    fn cells(&self) -> Vec<String> {
        vec![
            self.timestamp.clone(),
            self.device_id.clone(),
            self.device_name.clone().unwrap_or_default(),
            self.result.clone(),
            self.method.clone(),
            self.user_id.clone().unwrap_or_default(),
            self.user_name.clone().unwrap_or_default(),
            self.reason.clone().unwrap_or_default(),
            opt_num(self.score),
            opt_num(self.liveness),
            self.snapshot.clone().unwrap_or_default(),
            self.id.to_string(),
        ]
    }

    /// Score and liveness stay numbers.
    fn number(&self, col: usize) -> Option<f64> {
        match col {
            8 => self.score,
            9 => self.liveness,
            _ => None,
        }
    }
}

/// The filtered history, newest first, read in keyset chunks.
#[derive(Debug)]
pub struct AccessRows {
    db: DatabaseConnection,
    filter: AccessFilter,
    cursor: Option<Cursor>,
}

impl AccessRows {
    pub fn new(db: DatabaseConnection, filter: AccessFilter) -> Self {
        Self {
            db,
            filter,
            cursor: None,
        }
    }
}

impl RowSource for AccessRows {
    type Row = AccessLogView;

    fn next_chunk(
        &mut self,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<AccessLogView>, ServiceError>> {
        Box::pin(async move {
            let (rows, last) = fetch(&self.db, &self.filter, self.cursor, limit).await?;
            self.cursor = last;
            Ok(rows)
        })
    }
}
