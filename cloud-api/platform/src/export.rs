//! File exports of any table as CSV, XLSX and PDF: the access history
//! (`POST /api/analytics/export`) and the daily attendance (`GET /api/attendance/daily`)
//! use the same writers. A domain describes its table once ([`Layout`], [`ExportRow`]) and
//! hands over a [`RowSource`] that yields rows in chunks.
//!
//! Memory: rows are read in chunks of [`CHUNK`].
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

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use futures::future::BoxFuture;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use rust_xlsxwriter::{Format, Workbook};
use tokio::sync::mpsc;

use crate::{error::ServiceError, i18n::Msg};

/// Rows read at a time.
pub const CHUNK: u32 = 1_000;
/// The most rows an XLSX export holds.
pub const MAX_XLSX_ROWS: u64 = 200_000;
/// The most rows a PDF export holds.
pub const MAX_PDF_ROWS: u64 = 10_000;

/// The file formats of every export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Pdf,
}

impl ExportFormat {
    /// `csv` (also when absent), `xlsx` (or `excel`) or `pdf`.
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

/// One row of an exported table.
pub trait ExportRow: Send + 'static {
    /// The cells as text, in [`Layout::columns`] order.
    fn cells(&self) -> Vec<String>;

    /// Column `col` as a number, for cells that stay numbers in XLSX.
    fn number(&self, _col: usize) -> Option<f64> {
        None
    }
}

/// Where an export's rows come from, a chunk at a time.
pub trait RowSource: Send + 'static {
    type Row: ExportRow;

    /// Up to `limit` rows following the previous chunk; fewer than `limit` means the end.
    fn next_chunk(&mut self, limit: u32) -> BoxFuture<'_, Result<Vec<Self::Row>, ServiceError>>;
}

/// Rows already in memory (a report computed whole) as a source.
impl<R: ExportRow> RowSource for std::vec::IntoIter<R> {
    type Row = R;

    fn next_chunk(&mut self, limit: u32) -> BoxFuture<'_, Result<Vec<R>, ServiceError>> {
        let chunk: Vec<R> = self.by_ref().take(limit as usize).collect();
        Box::pin(async move { Ok(chunk) })
    }
}

/// How a table is laid out in a file. Titles are in the request's language, so build it in
/// the handler: the language task-local is gone once the body streams.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    /// The PDF's second line (what was asked for, when it was made).
    pub subtitle: String,
    pub columns: Vec<String>,
    /// Said in the PDF when the cap cut it ("truncated at").
    pub truncated: String,
    /// The XLSX worksheet's name.
    pub sheet: &'static str,
    /// XLSX column widths (characters), one per column.
    pub widths: &'static [f64],
    /// The columns the PDF shows: index into the cells, x from the left margin, and at
    /// most how many characters.
    pub pdf_columns: &'static [(usize, f32, usize)],
    /// The file name offered to the browser.
    pub file_name: String,
}

/// "truncated at", in the request's language.
pub fn truncated_label() -> String {
    Msg::new("dipotong pada", "truncated at")
        .localized()
        .to_owned()
}

/// `{stem}-{YYYYMMDD-HHMMSS}.{ext}`, e.g. `riwayat-akses-20261122-083000.csv`.
pub fn stamped_file_name(stem: &str, format: ExportFormat, now: time::OffsetDateTime) -> String {
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_else(|_| "export".into());
    format!("{stem}-{stamp}.{}", format.extension())
}

/// The export as an HTTP answer: CSV streamed as it is read, XLSX and PDF streamed from
/// their temp file once written (with `X-Export-Rows` and `X-Export-Truncated`).
pub async fn respond<S: RowSource>(
    format: ExportFormat,
    source: S,
    layout: Layout,
) -> Result<Response, ServiceError> {
    let disposition = format!("attachment; filename=\"{}\"", layout.file_name);
    let (body, extra) = match format {
        ExportFormat::Csv => (csv_body(source, layout.columns), None),
        ExportFormat::Xlsx | ExportFormat::Pdf => {
            let made = if format == ExportFormat::Xlsx {
                xlsx(source, layout).await?
            } else {
                pdf(source, layout).await?
            };
            let file = tokio::fs::File::from_std(made.file);
            (
                Body::from_stream(tokio_util::io::ReaderStream::new(file)),
                Some((made.rows, made.truncated)),
            )
        }
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some((rows, truncated)) = extra {
        headers.insert("x-export-rows", HeaderValue::from(rows));
        headers.insert(
            "x-export-truncated",
            HeaderValue::from_static(if truncated { "true" } else { "false" }),
        );
    }
    Ok(response)
}

/// Neutralises spreadsheet formulas in a CSV cell.
fn csv_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn csv_bytes<R: ExportRow>(header: Option<&[String]>, rows: &[R]) -> Result<Bytes, ServiceError> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160 + 256));
    if let Some(header) = header {
        writer
            .write_record(header)
            .map_err(|e| ServiceError::internal("writing the CSV header", e))?;
    }
    for row in rows {
        writer
            .write_record(row.cells().into_iter().map(csv_safe))
            .map_err(|e| ServiceError::internal("writing a CSV row", e))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ServiceError::internal("finishing CSV bytes", e))?;
    Ok(Bytes::from(bytes))
}

/// The CSV body: a stream that reads one chunk, encodes it, and only then reads the next.
pub fn csv_body<S: RowSource>(source: S, columns: Vec<String>) -> Body {
    struct State<S> {
        source: S,
        header: Option<Vec<String>>,
        done: bool,
    }
    let state = State {
        source,
        header: Some(columns),
        done: false,
    };
    let stream = futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let encoded = match state.source.next_chunk(CHUNK).await {
            Ok(rows) => {
                state.done = (rows.len() as u32) < CHUNK;
                let header = state.header.take();
                csv_bytes(header.as_deref(), &rows)
            }
            Err(err) => Err(err),
        };
        match encoded {
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
async fn produce<S, T, F>(mut source: S, cap: u64, sink: F) -> Result<(T, u64, bool), ServiceError>
where
    S: RowSource,
    T: Send + 'static,
    F: FnOnce(&mut dyn FnMut() -> Option<Vec<S::Row>>) -> Result<T, ServiceError> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Vec<S::Row>>(2);
    let writer = tokio::task::spawn_blocking(move || {
        let mut next = || rx.blocking_recv();
        sink(&mut next)
    });
    let mut written = 0u64;
    let mut truncated = false;
    loop {
        let want = CHUNK.min((cap - written + 1).min(u64::from(u32::MAX)) as u32);
        let mut rows = source.next_chunk(want).await?;
        let full = rows.len() as u32 == want;
        if written + rows.len() as u64 > cap {
            truncated = true;
            rows.truncate((cap - written) as usize);
        }
        written += rows.len() as u64;
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
pub async fn xlsx<S: RowSource>(source: S, layout: Layout) -> Result<FileExport, ServiceError> {
    let (file, rows, truncated) = produce(source, MAX_XLSX_ROWS, move |next| {
        let mut workbook = Workbook::new();
        let sheet = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_err)?;
        sheet.set_name(layout.sheet).map_err(xlsx_err)?;
        for (col, width) in layout.widths.iter().enumerate() {
            sheet
                .set_column_width(col as u16, *width)
                .map_err(xlsx_err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        let bold = Format::new().set_bold();
        for (col, title) in layout.columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, title, &bold)
                .map_err(xlsx_err)?;
        }
        let mut r = 1u32;
        while let Some(chunk) = next() {
            for row in &chunk {
                for (col, cell) in row.cells().into_iter().enumerate() {
                    // Numbers stay numbers; empty cells stay empty.
                    if let Some(v) = row.number(col) {
                        sheet.write_number(r, col as u16, v).map_err(xlsx_err)?;
                    } else if !cell.is_empty() {
                        sheet.write_string(r, col as u16, cell).map_err(xlsx_err)?;
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

/// The PDF export (A4 landscape, Helvetica) in a temp file.
pub async fn pdf<S: RowSource>(source: S, layout: Layout) -> Result<FileExport, ServiceError> {
    let (rows, count, truncated) = produce(source, MAX_PDF_ROWS, move |next| {
        let mut all = Vec::new();
        while let Some(chunk) = next() {
            all.extend(chunk.iter().map(ExportRow::cells));
        }
        Ok(all)
    })
    .await?;
    let subtitle = if truncated {
        format!("{} ({} {MAX_PDF_ROWS})", layout.subtitle, layout.truncated)
    } else {
        layout.subtitle.clone()
    };
    let bytes = render_pdf(&layout, &subtitle, &rows);
    let mut file = tempfile::tempfile().map_err(io_err)?;
    file.write_all(&bytes).map_err(io_err)?;
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    Ok(FileExport {
        file,
        rows: count,
        truncated,
    })
}

/// Lays the rows (their cells) out, [`ROWS_PER_PAGE`] per page, with the title and column
/// titles on every page.
pub fn render_pdf(layout: &Layout, subtitle: &str, rows: &[Vec<String>]) -> Vec<u8> {
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
    let empty: &[Vec<String>] = &[];
    let mut chunks: Vec<&[Vec<String>]> = rows.chunks(ROWS_PER_PAGE).collect();
    if chunks.is_empty() {
        chunks.push(empty);
    }
    let cell = |cells: &[String], col: usize| cells.get(col).cloned().unwrap_or_default();
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
            &win_ansi(&layout.title, 80),
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
        for &(col, x, _) in layout.pdf_columns {
            text(
                &mut content,
                Name(b"F2"),
                7.5,
                x,
                y,
                &win_ansi(&cell(layout.columns.as_slice(), col), 24),
            );
        }
        y -= 4.0;
        content
            .move_to(MARGIN, y)
            .line_to(PAGE_W - MARGIN, y)
            .stroke();
        y -= LINE;
        for cells in chunk.iter() {
            for &(col, x, max) in layout.pdf_columns {
                text(
                    &mut content,
                    Name(b"F1"),
                    7.5,
                    x,
                    y,
                    &win_ansi(&cell(cells.as_slice(), col), max),
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
