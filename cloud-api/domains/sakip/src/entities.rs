//! SeaORM entities of the SAKIP tables (see `migration`). The four planning levels below a
//! renstra share one shape and are reached through `planning::Level` instead.

macro_rules! entity {
    ($(#[$doc:meta])* $module:ident, $table:literal, { $($(#[$fdoc:meta])* $field:ident : $ty:ty),+ $(,)? }) => {
        $(#[$doc])*
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i32,
                $($(#[$fdoc])* pub $field: $ty,)+
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(
    /// `sakip_opd`: an Organisasi Perangkat Daerah.
    opd, "sakip_opd", {
    code: String,
    name: String,
    head_name: Option<String>,
    /// JSON.
    contact: Option<String>,
    is_active: bool,
    created_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_renstra`: an OPD's strategic plan.
    renstra, "sakip_renstra", {
    opd_id: i32,
    period: String,
    vision: Option<String>,
    /// JSON array of mission statements.
    mission: String,
    is_active: bool,
    created_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_indicators`: a performance indicator of a planning node (its OPD kept with it).
    indicator, "sakip_indicators", {
    opd_id: i32,
    parent_type: String,
    parent_id: i32,
    name: String,
    definition: Option<String>,
    formula: Option<String>,
    unit: Option<String>,
    data_source: Option<String>,
    frequency: Option<String>,
    polarity: String,
    created_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_performance_targets`: one target per indicator and period (0 = no quarter/month).
    target, "sakip_performance_targets", {
    indicator_id: i32,
    year: i32,
    quarter: i32,
    month: i32,
    /// Decimal as text.
    target_value: String,
    created_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_performance_achievements`: one achievement per indicator and period.
    achievement, "sakip_performance_achievements", {
    indicator_id: i32,
    year: i32,
    quarter: i32,
    month: i32,
    achievement_value: String,
    percentage: Option<String>,
    /// Why `percentage` is null: `no_target` or `zero_target`.
    percentage_note: Option<String>,
    notes: Option<String>,
    /// JSON.
    supporting_documents: Option<String>,
    input_by: Uuid,
    verified_by: Option<Uuid>,
    verified_at: Option<TimeDateTimeWithTimeZone>,
    created_at: TimeDateTimeWithTimeZone,
    updated_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_budget_allocations`: a budget line (pagu).
    allocation, "sakip_budget_allocations", {
    opd_id: i32,
    year: i32,
    category: String,
    program_id: Option<i32>,
    kegiatan_id: Option<i32>,
    allocation_amount: String,
    sipd_code: String,
    created_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_budget_realizations`: a month's spending against an allocation.
    realization, "sakip_budget_realizations", {
    allocation_id: i32,
    month: i32,
    realization_amount: String,
    cumulative_amount: String,
    percentage: Option<String>,
    notes: Option<String>,
    created_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_evaluations`: a yearly SAKIP evaluation of an OPD.
    evaluation, "sakip_evaluations", {
    opd_id: i32,
    year: i32,
    /// `internal`, `external` or `self_assessment` (the seed's column `type`).
    #[sea_orm(column_name = "type")]
    kind: String,
    evaluator: Option<String>,
    /// `YYYY-MM-DD`.
    evaluation_date: Option<String>,
    overall_score: Option<String>,
    grade: Option<String>,
    status: String,
    /// JSON object: component → score (decimal text).
    components: String,
    /// JSON array.
    findings: String,
    /// JSON array.
    recommendations: String,
    created_by: Uuid,
    created_at: TimeDateTimeWithTimeZone,
    updated_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_integrations`: a connection to an external system (SIPD, BKN, …); its secrets
    /// are sealed (`integration::SecretBox`).
    integration, "sakip_integrations", {
    system_name: String,
    system_type: Option<String>,
    endpoint_url: Option<String>,
    /// Sealed `api_key` and `credentials` (base64 of nonce ‖ ciphertext), never returned.
    secrets: Option<String>,
    status: String,
    last_sync: Option<TimeDateTimeWithTimeZone>,
    sync_frequency: Option<String>,
    health_score: i32,
    /// JSON.
    config: Option<String>,
    created_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_sync_logs`: one run of a sync.
    sync_log, "sakip_sync_logs", {
    integration_id: i32,
    job_id: Option<i32>,
    sync_type: String,
    status: String,
    records_processed: i32,
    records_success: i32,
    records_failed: i32,
    error_message: Option<String>,
    started_at: Option<TimeDateTimeWithTimeZone>,
    completed_at: Option<TimeDateTimeWithTimeZone>,
    created_at: TimeDateTimeWithTimeZone,
});

entity!(
    /// `sakip_jobs`: the durable job queue (`jobs`).
    job, "sakip_jobs", {
    kind: String,
    /// JSON.
    payload: String,
    /// `queued`, `running`, `completed` or `failed`.
    status: String,
    attempts: i32,
    max_attempts: i32,
    run_at: TimeDateTimeWithTimeZone,
    locked_by: Option<String>,
    locked_until: Option<TimeDateTimeWithTimeZone>,
    last_error: Option<String>,
    /// JSON.
    result: Option<String>,
    /// Unique when set: a scheduled run is enqueued once whatever the number of replicas.
    dedupe_key: Option<String>,
    created_at: TimeDateTimeWithTimeZone,
    updated_at: TimeDateTimeWithTimeZone,
});

/// `sakip_user_opd`: the OPD of an `admin_opd` user.
pub mod user_opd {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "sakip_user_opd")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        pub opd_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

entity!(
    /// `sakip_api_keys`: a key of an external system, scoped to one OPD and to actions.
    api_key, "sakip_api_keys", {
    name: String,
    opd_id: i32,
    /// JSON array of actions (`achievements:write`, …).
    scopes: String,
    /// Hex SHA-256 of the key; the key itself is shown once and never stored.
    key_hash: String,
    /// The key's first characters, to tell keys apart in lists.
    prefix: String,
    /// Who the key acts as (audit entries, `input_by`).
    actor: Uuid,
    created_by: Uuid,
    created_at: TimeDateTimeWithTimeZone,
    last_used_at: Option<TimeDateTimeWithTimeZone>,
    revoked_at: Option<TimeDateTimeWithTimeZone>,
});
