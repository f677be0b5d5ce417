//! Users: the first admin, lookup by any login identifier, and password login.

use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    ids::{Email, LoginId},
    password,
};
use crate::{
    db::entities::user,
    domain::RoleCatalog,
    error::{DbContext, ServiceError},
    i18n::Msg,
};

/// Domain → role, e.g. `{"access": "admin", "attendance": "admin"}`.
pub type Roles = BTreeMap<String, String>;

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: Option<String>,
    /// Canonical `62…` form.
    pub phone: Option<String>,
    pub nik: Option<String>,
    pub username: Option<String>,
    /// The meals portal's NIK (`ADM001`).
    pub employee_no: Option<String>,
    pub name: String,
    /// The user's role in the access domain (seed 000/001 `role`).
    pub role: String,
    /// Every domain's role.
    #[schema(value_type = Object)]
    pub roles: Roles,
    pub department: Option<String>,
    /// True when the user can sign in with Google.
    pub google_linked: bool,
    /// What new access tokens carry (`identity::epochs`); never sent.
    #[serde(skip)]
    #[schema(ignore)]
    pub session_epoch: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A user's stored roles (`users.roles`, a JSON object); unreadable means none.
pub fn parse_roles(raw: &str) -> Roles {
    serde_json::from_str(raw).unwrap_or_default()
}

impl From<user::Model> for UserView {
    fn from(model: user::Model) -> Self {
        let roles = parse_roles(&model.roles);
        Self {
            id: model.id,
            email: model.email,
            phone: model.phone,
            nik: model.nik,
            username: model.username,
            employee_no: model.employee_no,
            name: model.name,
            role: roles
                .get("access")
                .cloned()
                .unwrap_or_else(|| "member".into()),
            roles,
            department: model.department,
            google_linked: model.google_sub.is_some(),
            session_epoch: model.session_epoch,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

fn is_admin(roles: &Roles) -> bool {
    roles.get("access").is_some_and(|r| r == "admin")
}

/// The configured admin gains the top role of a domain added since it was created (and in
/// which it holds no role yet); nothing else of the account changes.
async fn grant_new_domains(
    db: &DatabaseConnection,
    users: &[user::Model],
    email: &str,
    top: &Roles,
) -> Result<(), ServiceError> {
    let Some(admin) = users.iter().find(|u| u.email.as_deref() == Some(email)) else {
        return Ok(());
    };
    let mut roles = parse_roles(&admin.roles);
    if !is_admin(&roles) {
        return Ok(());
    }
    let before = roles.len();
    for (domain, role) in top {
        roles.entry(domain.clone()).or_insert_with(|| role.clone());
    }
    if roles.len() == before {
        return Ok(());
    }
    let mut row: user::ActiveModel = admin.clone().into();
    row.roles = Set(serde_json::to_string(&roles).unwrap_or_default());
    row.updated_at = Set(OffsetDateTime::now_utc());
    row.update(db)
        .await
        .db("granting the admin the new domains")?;
    Ok(())
}

/// Creates the configured admin when no admin exists yet; returns whether one was created.
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
    catalog: &RoleCatalog,
    email: &str,
    password: &str,
) -> Result<bool, ServiceError> {
    let email = Email::parse(email).map_err(|e| ServiceError::Invalid(e.0))?;
    let users = user::Entity::find()
        .all(db)
        .await
        .db("looking for an admin")?;
    let top: Roles = catalog
        .top_roles()
        .map(|(d, r)| (d.to_owned(), r.to_owned()))
        .collect();
    if users.iter().any(|u| is_admin(&parse_roles(&u.roles))) {
        grant_new_domains(db, &users, email.as_str(), &top).await?;
        return Ok(false);
    }
    let hash = password::hash(password.to_owned()).await?;
    let roles = top;
    let now = OffsetDateTime::now_utc();
    if let Some(existing) = users
        .into_iter()
        .find(|u| u.email.as_deref() == Some(email.as_str()))
    {
        // The configured address already belongs to a user: promote it. Its password is
        // replaced, so every session opened with the old one ends (a new epoch).
        let epoch = existing.session_epoch + 1;
        let mut row: user::ActiveModel = existing.into();
        row.session_epoch = Set(epoch);
        row.roles = Set(serde_json::to_string(&roles).unwrap_or_default());
        row.password_hash = Set(hash);
        row.updated_at = Set(now);
        row.update(db).await.db("promoting the first admin")?;
    } else {
        user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(Some(email.as_str().to_owned())),
            name: Set("Administrator".into()),
            password_hash: Set(hash),
            roles: Set(serde_json::to_string(&roles).unwrap_or_default()),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            phone: Set(None),
            nik: Set(None),
            google_sub: Set(None),
            department: Set(None),
            session_epoch: Set(0),
            username: Set(None),
            employee_no: Set(None),
        }
        .insert(db)
        .await
        .db("creating the first admin")?;
    }
    tracing::info!(%email, "First admin created.");
    Ok(true)
}

/// The user a login identifier names, if any.
pub async fn find_by_login(
    db: &impl ConnectionTrait,
    id: &LoginId,
) -> Result<Option<user::Model>, ServiceError> {
    let filter = match id {
        LoginId::Email(e) => user::Column::Email.eq(e.as_str()),
        LoginId::Phone(p) => user::Column::Phone.eq(p.as_str()),
        LoginId::Nik(n) => user::Column::Nik.eq(n.as_str()),
        LoginId::Username(u) => user::Column::Username.eq(u.as_str()),
        LoginId::EmployeeNo(n) => user::Column::EmployeeNo.eq(n.as_str()),
    };
    user::Entity::find()
        .filter(filter)
        .one(db)
        .await
        .db("looking up a user")
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<user::Model>, ServiceError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await
        .db("loading a user")
}

/// The refusal for a disabled account (only told to someone who knew the password).
pub fn disabled() -> ServiceError {
    ServiceError::Forbidden(Msg::new("Akun dinonaktifkan", "Account disabled"))
}

/// Checks a password against the user `id` names. Unknown users cost a real hash check
/// too, and get the same answer as a wrong password.
pub async fn check_password(
    db: &DatabaseConnection,
    id: &LoginId,
    password: &str,
) -> Result<user::Model, ServiceError> {
    let wrong = || ServiceError::Unauthorized(id.wrong_credentials());
    let Some(found) = find_by_login(db, id).await? else {
        let _ = password::verify(password.to_owned(), password::dummy_hash().await).await;
        return Err(wrong());
    };
    if !password::verify(password.to_owned(), found.password_hash.clone()).await? {
        return Err(wrong());
    }
    if found.disabled {
        return Err(disabled());
    }
    Ok(found)
}

/// A user to create (identifiers already parsed; at least one of them is required).
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: Option<Email>,
    pub phone: Option<super::ids::Phone>,
    pub nik: Option<super::ids::Nik>,
    pub username: Option<super::ids::Username>,
    pub employee_no: Option<super::ids::EmployeeNo>,
    pub name: String,
    pub password: String,
    pub roles: Roles,
    pub department: Option<String>,
}

/// Creates a user: roles must exist in their domains, the password must be long enough,
/// and no identifier may belong to someone else (409). On a transaction, the user is made
/// with whatever else the caller writes in it (a domain's profile and audit entry).
pub async fn create_user(
    db: &impl ConnectionTrait,
    catalog: &RoleCatalog,
    new: NewUser,
) -> Result<UserView, ServiceError> {
    if new.email.is_none()
        && new.phone.is_none()
        && new.nik.is_none()
        && new.username.is_none()
        && new.employee_no.is_none()
    {
        return Err(ServiceError::Invalid(Msg::new(
            "Email, nomor HP atau NIK harus diisi",
            "An email, phone number or NIK is required",
        )));
    }
    if new.password.chars().count() < password::MIN_PASSWORD_LEN {
        return Err(ServiceError::Invalid(Msg::new(
            "Password minimal 8 karakter",
            "The password must have at least 8 characters",
        )));
    }
    if let Some((domain, role)) = new.roles.iter().find(|(d, r)| !catalog.is_valid(d, r)) {
        return Err(ServiceError::Invalid(Msg::owned(
            format!("Peran {role} tidak dikenal di domain {domain}"),
            format!("Unknown role {role} in domain {domain}"),
        )));
    }
    let ids = [
        new.email.clone().map(LoginId::Email),
        new.phone.clone().map(LoginId::Phone),
        new.nik.clone().map(LoginId::Nik),
        new.username.clone().map(LoginId::Username),
        new.employee_no.clone().map(LoginId::EmployeeNo),
    ];
    for id in ids.iter().flatten() {
        if find_by_login(db, id).await?.is_some() {
            return Err(ServiceError::Conflict(id.taken()));
        }
    }
    let hash = password::hash(new.password).await?;
    let now = OffsetDateTime::now_utc();
    let row = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email.map(|e| e.as_str().to_owned())),
        name: Set(new.name.trim().to_owned()),
        password_hash: Set(hash),
        roles: Set(serde_json::to_string(&new.roles).unwrap_or_default()),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        phone: Set(new.phone.map(|p| p.as_str().to_owned())),
        nik: Set(new.nik.map(|n| n.as_str().to_owned())),
        google_sub: Set(None),
        department: Set(new.department),
        session_epoch: Set(0),
        username: Set(new.username.map(|u| u.as_str().to_owned())),
        employee_no: Set(new.employee_no.map(|n| n.as_str().to_owned())),
    }
    .insert(db)
    .await;
    // The check above and the insert race with a concurrent creation of the same
    // identifier; the unique index decides, and the loser is told as above.
    let row = match row {
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            let mut named = ids.iter().flatten();
            let msg = match (named.next(), named.next()) {
                (Some(only), None) => only.taken(),
                _ => Msg::new("Akun sudah terdaftar", "Account already registered"),
            };
            return Err(ServiceError::Conflict(msg));
        }
        other => other.db("creating a user")?,
    };
    Ok(row.into())
}
