//! Exports of the filtered access history as CSV, XLSX and PDF files.
//!
//! Memory: rows are read from the database in keyset chunks of [`CHUNK`].
//! - CSV is streamed: each chunk is encoded and sent before the next is read, so memory
//!   stays at about one chunk whatever the size (no row cap).
//! - XLSX is written by `rust_xlsxwriter` in constant-memory mode (each row goes to a temp
//!   file as it is written) and the finished workbook is saved to another temp file that is
//!   then streamed: memory is bounded, disk holds the file. Capped at [`MAX_XLSX_ROWS`].
//! - PDF is built in memory (the cross-reference table needs every object's offset), so it
//!   is capped at [`MAX_PDF_ROWS`] (about 1 MB).
//!
//! When a cap cuts the export, the response says so in `X-Export-Truncated: true` (and the
//! PDF in its header line). Cells that a spreadsheet would run as a formula (`=`, `+`, `-`,
//! `@` first) are prefixed with `'` in the CSV; XLSX cells are always plain strings.

use std::io::{Seek, SeekFrom, Write};

use axum::body::{Body, Bytes};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use rust_xlsxwriter::{Format, Workbook};
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use super::{
    filter::AccessFilter,
    service::{fetch, AccessLogView, Cursor},
};
use crate::platform::{error::ServiceError, i18n::Msg};

/// Rows read from the database at a time.
pub const CHUNK: u32 = 1_000;
/// The most rows an XLSX export holds.
pub const MAX_XLSX_ROWS: u64 = 200_000;
/// The most rows a PDF export holds.
pub const MAX_PDF_ROWS: u64 = 10_000;

/// The file formats of `POST /api/analytics/export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Pdf,
}

impl ExportFormat {
    pub fn parse(raw: Option<&str>) -> Result<ExportFormat, ServiceError> {
        match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("csv") => Ok(ExportFormat::Csv),
            Some("xlsx") | Some("excel") => Ok(ExportFormat::Xlsx),
            Some("pdf") => Ok(ExportFormat::Pdf),
            Some(_) => Err(ServiceError::Invalid(Msg::new(
                "format harus csv, xlsx atau pdf",
                "format must be csv, xlsx or pdf",
            ))),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ExportFormat::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Pdf => "pdf",
        }
    }

    /// The row cap, if any.
    pub fn cap(self) -> Option<u64> {
        match self {
            ExportFormat::Csv => None,
            ExportFormat::Xlsx => Some(MAX_XLSX_ROWS),
            ExportFormat::Pdf => Some(MAX_PDF_ROWS),
        }
    }
}

/// The column titles, in the request's language (computed in the handler: the language
/// task-local is gone once the body streams).
#[derive(Debug, Clone)]
pub struct Labels {
    pub title: String,
    pub columns: Vec<String>,
    pub truncated: String,
}

impl Labels {
    pub fn current() -> Labels {
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
        Labels {
            title: Msg::new("Riwayat Akses Gerbang", "Gerbang Access History")
                .localized()
                .to_owned(),
            columns: columns.iter().map(|m| m.localized().to_owned()).collect(),
            truncated: Msg::new("dipotong pada", "truncated at")
                .localized()
                .to_owned(),
        }
    }
}

fn opt_num(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.3}")).unwrap_or_default()
}

/// A row's cells as text, in [`Labels::columns`] order.
fn cells(row: &AccessLogView) -> [String; 12] {
    [
        row.timestamp.clone(),
        row.device_id.clone(),
        row.device_name.clone().unwrap_or_default(),
        row.result.clone(),
        row.method.clone(),
        row.user_id.clone().unwrap_or_default(),
        row.user_name.clone().unwrap_or_default(),
        row.reason.clone().unwrap_or_default(),
        opt_num(row.score),
        opt_num(row.liveness),
        row.snapshot.clone().unwrap_or_default(),
        row.id.to_string(),
    ]
}

/// Neutralises spreadsheet formulas in a CSV cell.
fn csv_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_bytes(header: Option<&[String]>, rows: &[AccessLogView]) -> Result<Bytes, ServiceError> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160 + 256));
    if let Some(header) = header {
        writer
            .write_record(header)
            .map_err(|e| ServiceError::internal("writing the CSV header", e))?;
    }
    for row in rows {
        writer
            .write_record(cells(row).map(csv_safe))
            .map_err(|e| ServiceError::internal("writing a CSV row", e))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ServiceError::internal("finishing CSV bytes", e))?;
    Ok(Bytes::from(bytes))
}

/// The CSV body: a stream that reads one chunk, encodes it, and only then reads the next.
pub fn csv_body(db: DatabaseConnection, filter: AccessFilter, labels: Labels) -> Body {
    struct State {
        db: DatabaseConnection,
        filter: AccessFilter,
        header: Option<Vec<String>>,
        cursor: Option<Cursor>,
        done: bool,
    }
    let state = State {
        db,
        filter,
        header: Some(labels.columns),
        cursor: None,
        done: false,
    };
    let stream = futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let result = fetch(&state.db, &state.filter, state.cursor, CHUNK).await;
        let (rows, last) = match result {
            Ok(page) => page,
            Err(err) => {
                tracing::error!(error = %err, "CSV export failed mid-stream.");
                state.done = true;
                return Some((Err(std::io::Error::other("export failed")), state));
            }
        };
        state.done = (rows.len() as u32) < CHUNK;
        state.cursor = last;
        let header = state.header.take();
        match csv_bytes(header.as_deref(), &rows) {
            Ok(bytes) => Some((Ok(bytes), state)),
            Err(err) => {
                tracing::error!(error = %err, "CSV export failed mid-stream.");
                state.done = true;
                Some((Err(std::io::Error::other("export failed")), state))
            }
        }
    });
    Body::from_stream(stream)
}

/// A finished XLSX or PDF export.
#[derive(Debug)]
pub struct FileExport {
    /// The file, positioned at its start.
    pub file: std::fs::File,
    pub rows: u64,
    /// More rows matched than the cap allowed.
    pub truncated: bool,
}

/// Reads up to `cap` rows in chunks and hands them to `sink` on a blocking thread (at most
/// two chunks in flight), then returns what `sink` made.
async fn produce<T, F>(
    db: &DatabaseConnection,
    filter: &AccessFilter,
    cap: u64,
    sink: F,
) -> Result<(T, u64, bool), ServiceError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn FnMut() -> Option<Vec<AccessLogView>>) -> Result<T, ServiceError>
        + Send
        + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Vec<AccessLogView>>(2);
    let writer = tokio::task::spawn_blocking(move || {
        let mut next = || rx.blocking_recv();
        sink(&mut next)
    });
    let mut cursor = None;
    let mut written = 0u64;
    let mut truncated = false;
    loop {
        let want = CHUNK.min((cap - written + 1).min(u64::from(u32::MAX)) as u32);
        let (mut rows, last) = fetch(db, filter, cursor, want).await?;
        let full = rows.len() as u32 == want;
        if written + rows.len() as u64 > cap {
            truncated = true;
            rows.truncate((cap - written) as usize);
        }
        written += rows.len() as u64;
        cursor = last;
        if !rows.is_empty() && tx.send(rows).await.is_err() {
            break; // The writer failed; its error is returned below.
        }
        if !full || truncated {
            break;
        }
    }
    drop(tx);
    let made = writer
        .await
        .map_err(|e| ServiceError::internal("export writer", e))??;
    Ok((made, written, truncated))
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> ServiceError {
    ServiceError::internal("writing the XLSX export", e)
}

fn io_err(e: std::io::Error) -> ServiceError {
    ServiceError::internal("writing an export file", e)
}

/// The XLSX export in a temp file.
pub async fn xlsx(
    db: &DatabaseConnection,
    filter: &AccessFilter,
    labels: Labels,
) -> Result<FileExport, ServiceError> {
    let (file, rows, truncated) = produce(db, filter, MAX_XLSX_ROWS, move |next| {
        let mut workbook = Workbook::new();
        let sheet = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_err)?;
        sheet.set_name("Riwayat").map_err(xlsx_err)?;
        let widths = [
            26.0, 16.0, 20.0, 9.0, 11.0, 16.0, 24.0, 16.0, 7.0, 8.0, 20.0, 38.0,
        ];
        for (col, width) in widths.iter().enumerate() {
            sheet
                .set_column_width(col as u16, *width)
                .map_err(xlsx_err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        let bold = Format::new().set_bold();
        for (col, title) in labels.columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, title, &bold)
                .map_err(xlsx_err)?;
        }
        let mut r = 1u32;
        while let Some(chunk) = next() {
            for row in &chunk {
                for (col, cell) in cells(row).into_iter().enumerate() {
                    let col = col as u16;
                    // Score and liveness stay numbers; empty cells stay empty.
                    let number = match col {
                        8 => row.score,
                        9 => row.liveness,
                        _ => None,
                    };
                    if let Some(v) = number {
                        sheet.write_number(r, col, v).map_err(xlsx_err)?;
                    } else if !cell.is_empty() {
                        sheet.write_string(r, col, cell).map_err(xlsx_err)?;
                    }
                }
                r += 1;
            }
        }
        let mut file = tempfile::tempfile().map_err(io_err)?;
        workbook.save_to_writer(&mut file).map_err(xlsx_err)?;
        file.flush().map_err(io_err)?;
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        Ok(file)
    })
    .await?;
    Ok(FileExport {
        file,
        rows,
        truncated,
    })
}

/// Latin-1 text for the standard fonts' WinAnsi encoding (anything else becomes `?`).
fn win_ansi(text: &str, max_chars: usize) -> Vec<u8> {
    text.chars()
        .take(max_chars)
        .map(|c| match c as u32 {
            0x20..=0x7e | 0xa0..=0xff => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

const PAGE_W: f32 = 842.0;
const PAGE_H: f32 = 595.0;
const MARGIN: f32 = 36.0;
const LINE: f32 = 11.0;
const ROWS_PER_PAGE: usize = 44;
/// Columns shown in the PDF (index into [`cells`]), their x position and character cap.
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

/// The PDF export (A4 landscape, Helvetica) in a temp file.
pub async fn pdf(
    db: &DatabaseConnection,
    filter: &AccessFilter,
    labels: Labels,
    subtitle: String,
) -> Result<FileExport, ServiceError> {
    let (bytes, rows, truncated) = produce(db, filter, MAX_PDF_ROWS, move |next| {
        let mut all = Vec::new();
        while let Some(chunk) = next() {
            all.extend(chunk);
        }
        Ok(all)
    })
    .await
    .map(|(rows, count, truncated)| {
        let subtitle = if truncated {
            format!("{subtitle} ({} {MAX_PDF_ROWS})", labels.truncated)
        } else {
            subtitle
        };
        (render_pdf(&labels, &subtitle, &rows), count, truncated)
    })?;
    let mut file = tempfile::tempfile().map_err(io_err)?;
    file.write_all(&bytes).map_err(io_err)?;
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    Ok(FileExport {
        file,
        rows,
        truncated,
    })
}

/// Lays the rows out, [`ROWS_PER_PAGE`] per page, with the title and column titles on
/// every page.
pub fn render_pdf(labels: &Labels, subtitle: &str, rows: &[AccessLogView]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let bold = Ref::new(4);
    let pages = rows.chunks(ROWS_PER_PAGE).len().max(1);
    let page_ref = |i: usize| Ref::new(5 + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(6 + 2 * i as i32);
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids((0..pages).map(page_ref))
        .count(pages as i32);
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let empty: &[AccessLogView] = &[];
    let mut chunks: Vec<&[AccessLogView]> = rows.chunks(ROWS_PER_PAGE).collect();
    if chunks.is_empty() {
        chunks.push(empty);
    }
    for (i, chunk) in chunks.iter().enumerate() {
        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_ref(i));
        let mut resources = page.resources();
        resources
            .fonts()
            .pair(Name(b"F1"), font)
            .pair(Name(b"F2"), bold);
        resources.finish();
        page.finish();

        let mut content = Content::new();
        let mut y = PAGE_H - MARGIN;
        text(
            &mut content,
            Name(b"F2"),
            13.0,
            0.0,
            y,
            &win_ansi(&labels.title, 80),
        );
        let page_no = format!("{} / {}", i + 1, chunks.len());
        text(
            &mut content,
            Name(b"F1"),
            8.0,
            PAGE_W - 2.0 * MARGIN - 40.0,
            y,
            page_no.as_bytes(),
        );
        y -= 14.0;
        text(
            &mut content,
            Name(b"F1"),
            8.0,
            0.0,
            y,
            &win_ansi(subtitle, 160),
        );
        y -= 18.0;
        for (col, x, _) in PDF_COLUMNS {
            text(
                &mut content,
                Name(b"F2"),
                7.5,
                x,
                y,
                &win_ansi(&labels.columns[col], 24),
            );
        }
        y -= 4.0;
        content
            .move_to(MARGIN, y)
            .line_to(PAGE_W - MARGIN, y)
            .stroke();
        y -= LINE;
        for row in chunk.iter() {
            let cells = cells(row);
            for (col, x, max) in PDF_COLUMNS {
                text(
                    &mut content,
                    Name(b"F1"),
                    7.5,
                    x,
                    y,
                    &win_ansi(&cells[col], max),
                );
            }
            y -= LINE;
        }
        pdf.stream(content_ref(i), &content.finish());
    }
    pdf.finish()
}

/// One line of text at `x` (from the left margin) and `y`.
fn text(content: &mut Content, font: Name, size: f32, x: f32, y: f32, s: &[u8]) {
    content.begin_text();
    content.set_font(font, size);
    content.next_line(MARGIN + x, y);
    content.show(Str(s));
    content.end_text();
}

/// The file name offered to the browser, e.g. `riwayat-akses-20261122-083000.csv`.
pub fn file_name(format: ExportFormat, now: time::OffsetDateTime) -> String {
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_else(|_| "export".into());
    format!("riwayat-akses-{stamp}.{}", format.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")".into()), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("Budi".into()), "Budi");
    }

    #[test]
    fn win_ansi_keeps_latin1() {
        assert_eq!(win_ansi("Añ✓(", 10), vec![b'A', 0xf1, b'?', b'(']);
    }
}
