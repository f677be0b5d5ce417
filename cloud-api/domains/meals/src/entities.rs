//! SeaORM entities of the meals tables (see `migration`).

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

/// `meals_departments`: a department (divisi).
pub mod department {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "meals_departments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        pub description: Option<String>,
    }

    no_relations!();
}

/// `meals_shifts`: a work shift with its start and end time (`HH:MM`).
pub mod shift {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "meals_shifts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        pub start_time: String,
        pub end_time: String,
        pub description: Option<String>,
    }

    no_relations!();
}

/// `meals_positions`: a position (jabatan), optionally of one department.
pub mod position {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "meals_positions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        pub department_id: Option<i32>,
        pub description: Option<String>,
    }

    no_relations!();
}

/// `meals_employees`: a platform user's meals profile (the seed's numeric user id, the
/// `karyawan:<id>` room), keyed by the platform user id.
pub mod employee {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "meals_employees")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub user_id: Uuid,
        pub department_id: Option<i32>,
        pub position_id: Option<i32>,
        pub must_change_password: bool,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    no_relations!();
}

/// `meals_orders`: one meal order (pesanan).
pub mod order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "meals_orders")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        /// `PM-YYYYMMDD-XXX`.
        pub code: String,
        pub employee_id: i32,
        pub department_id: i32,
        pub shift_id: i32,
        pub quantity: i32,
        /// The quantity before an approved edit.
        pub original_quantity: Option<i32>,
        /// The quantity a pending edit request asks for.
        pub requested_quantity: Option<i32>,
        /// `YYYY-MM-DD` (Asia/Jakarta).
        pub order_date: String,
        pub status: String,
        pub requires_approval: bool,
        pub approval_status: Option<String>,
        /// `REJECT` or `EDIT`.
        pub request_type: Option<String>,
        /// The kitchen employee who asked for the approval.
        pub requested_by: Option<i32>,
        pub kitchen_note: Option<String>,
        pub admin_note: Option<String>,
        pub created_at: TimeDateTimeWithTimeZone,
        pub processing_at: Option<TimeDateTimeWithTimeZone>,
        pub ready_at: Option<TimeDateTimeWithTimeZone>,
        pub delivering_at: Option<TimeDateTimeWithTimeZone>,
        pub done_at: Option<TimeDateTimeWithTimeZone>,
    }

    no_relations!();
}

/// `meals_audit`: the meals audit trail (`log_audit_trail` in the seed).
pub mod audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "meals_audit")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub user_id: Option<Uuid>,
        pub action: String,
        pub detail: String,
        pub order_code: Option<String>,
        pub timestamp: TimeDateTimeWithTimeZone,
    }

    no_relations!();
}
