//! SeaORM entity of the attendance table (see `migration`).

/// `attendance`: seed 001's attendance table, plus where the record came from.
pub mod attendance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "attendance")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        /// Site-local day `YYYY-MM-DD`.
        pub local_date: String,
        pub timestamp: TimeDateTimeWithTimeZone,
        pub status: String,
        /// `web` (POST /api/attendance) or `device` (a kiosk's event).
        pub source: String,
        pub device_id: Option<String>,
        pub direction: String,
        pub late: bool,
        pub score: Option<f64>,
        pub created_at: TimeDateTimeWithTimeZone,
        /// The day's last check-out (kiosk events), if any.
        pub check_out: Option<TimeDateTimeWithTimeZone>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
