//! The seed's four realtime events, pushed on the platform's Socket.IO namespaces after the
//! change commits, each to the seed's audience:
//! - `order.created` → `dept:<d>:role:dapur`, `role:administrator`
//! - `order.status.changed` → by the new status (see [`status_rooms`]) + `karyawan:<pemesan>`
//! - `order.approval.requested` → `role:administrator`, `dept:<d>:role:administrator`
//! - `order.approval.decided` → `dept:<d>:role:dapur`, `role:administrator`,
//!   `karyawan:<requestedBy>`

use platform::state::AppState;
use serde::Serialize;

use crate::orders::Status;

/// `order.created`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    pub order_id: i32,
    pub department_id: i32,
    pub kode_pesanan: String,
    pub jumlah_pesanan: i32,
    pub tanggal_pesanan: String,
    pub created_by: i32,
}

/// `order.status.changed`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChanged {
    pub order_id: i32,
    pub department_id: i32,
    pub old_status: Status,
    pub new_status: Status,
    pub karyawan_pemesan_id: i32,
    pub changed_by: i32,
}

/// `order.approval.requested`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequested {
    pub order_id: i32,
    pub department_id: i32,
    /// `REJECT` or `EDIT`.
    pub request_type: &'static str,
    pub requested_by: i32,
    pub catatan_dapur: String,
}

/// `order.approval.decided`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalDecided {
    pub order_id: i32,
    pub department_id: i32,
    /// `APPROVED` or `REJECTED`.
    pub decision: &'static str,
    pub decided_by: i32,
    pub catatan_admin: Option<String>,
    pub requested_by: Option<i32>,
}

fn dept_role(dept: i32, role: &str) -> String {
    format!("dept:{dept}:role:{role}")
}

const ADMINS: &str = "role:administrator";

/// The rooms `order.status.changed` goes to for `new` (the orderer's `karyawan:` room is
/// always added).
pub fn status_rooms(dept: i32, new: Status, orderer: i32) -> Vec<String> {
    let mut rooms = match new {
        Status::Menunggu | Status::InProgress => vec![dept_role(dept, "dapur")],
        Status::Ready => vec![dept_role(dept, "dapur"), dept_role(dept, "delivery")],
        Status::OnDelivery => vec![dept_role(dept, "delivery")],
        Status::Complete | Status::Ditolak | Status::MenungguPersetujuan => {
            vec![ADMINS.to_owned()]
        }
    };
    rooms.push(format!("karyawan:{orderer}"));
    rooms
}

pub async fn order_created(state: &AppState, event: OrderCreated) {
    let rooms = vec![dept_role(event.department_id, "dapur"), ADMINS.to_owned()];
    state.realtime.emit(rooms, "order.created", &event).await;
}

pub async fn status_changed(state: &AppState, event: StatusChanged) {
    let rooms = status_rooms(
        event.department_id,
        event.new_status,
        event.karyawan_pemesan_id,
    );
    state
        .realtime
        .emit(rooms, "order.status.changed", &event)
        .await;
}

pub async fn approval_requested(state: &AppState, event: ApprovalRequested) {
    let rooms = vec![
        ADMINS.to_owned(),
        dept_role(event.department_id, "administrator"),
    ];
    state
        .realtime
        .emit(rooms, "order.approval.requested", &event)
        .await;
}

pub async fn approval_decided(state: &AppState, event: ApprovalDecided) {
    let mut rooms = vec![dept_role(event.department_id, "dapur"), ADMINS.to_owned()];
    if let Some(by) = event.requested_by {
        rooms.push(format!("karyawan:{by}"));
    }
    state
        .realtime
        .emit(rooms, "order.approval.decided", &event)
        .await;
}
