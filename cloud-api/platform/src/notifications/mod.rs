//! Notifications (seed 000): rows per recipient, generated for the access admins from device
//! events at ingest (forced open, held open, battery low/critical, unknown face) and from
//! devices going offline, or created by an admin; pushed over [`crate::realtime`].
//! `GET/POST /api/notifications`, `PUT /api/notifications/{id}/read`,
//! `DELETE /api/notifications/{id}`.

mod routes;
mod service;

pub use routes::router;
pub use service::{alert_for_event, notify_admins, offline_alert, push, Alert, NotificationView};

pub(crate) mod api {
    pub use super::routes::{__path_create, __path_delete, __path_list, __path_mark_read};
}
