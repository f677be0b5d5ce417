//! Users: the first admin, and login.

use std::collections::BTreeMap;

use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{password, token::JwtKeys};
use crate::platform::{
    db::entities::user,
    error::{DbContext, ServiceError},
    i18n::Msg,
};

/// Domain → role, e.g. `{"access": "admin", "attendance": "admin"}`.
pub type Roles = BTreeMap<String, String>;

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// The user's role in the access domain (seed 000/001 `role`).
    pub role: String,
    pub roles: Roles,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

pub(crate) fn parse_roles(raw: &str) -> Roles {
    serde_json::from_str(raw).unwrap_or_default()
}

impl From<user::Model> for UserView {
    fn from(model: user::Model) -> Self {
        let roles = parse_roles(&model.roles);
        Self {
            id: model.id,
            email: model.email,
            name: model.name,
            role: roles
                .get("access")
                .cloned()
                .unwrap_or_else(|| "member".into()),
            roles,
            created_at: model.created_at,
            updated_at: model.updated_at,
        }
    }
}

fn is_admin(roles: &Roles) -> bool {
    roles.get("access").is_some_and(|r| r == "admin")
}

/// Creates the configured admin when no admin exists yet; returns whether one was created.
pub async fn ensure_first_admin(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> Result<bool, ServiceError> {
    let users = user::Entity::find()
        .all(db)
        .await
        .db("looking for an admin")?;
    if users.iter().any(|u| is_admin(&parse_roles(&u.roles))) {
        return Ok(false);
    }
    let email = email.trim().to_ascii_lowercase();
    let hash = password::hash(password.to_owned()).await?;
    let roles: Roles = [("access", "admin"), ("attendance", "admin")]
        .map(|(k, v)| (k.into(), v.into()))
        .into();
    let now = OffsetDateTime::now_utc();
    if let Some(existing) = users.into_iter().find(|u| u.email == email) {
        // The configured address already belongs to a user: promote it.
        let mut row: user::ActiveModel = existing.into();
        row.roles = Set(serde_json::to_string(&roles).unwrap_or_default());
        row.password_hash = Set(hash);
        row.updated_at = Set(now);
        row.update(db).await.db("promoting the first admin")?;
    } else {
        user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.clone()),
            name: Set("Administrator".into()),
            password_hash: Set(hash),
            roles: Set(serde_json::to_string(&roles).unwrap_or_default()),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await
        .db("creating the first admin")?;
    }
    tracing::info!(%email, "First admin created.");
    Ok(true)
}

/// Checks email and password; returns an access token and the user.
pub async fn login(
    db: &DatabaseConnection,
    keys: &JwtKeys,
    email: &str,
    password: &str,
) -> Result<(String, UserView), ServiceError> {
    let wrong = || {
        ServiceError::Unauthorized(Msg::new(
            "Email atau password salah",
            "Wrong email or password",
        ))
    };
    let email = email.trim().to_ascii_lowercase();
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
        .db("looking up a user")?;
    let Some(found) = found else {
        // Spend the same time as a real check so timing does not reveal which emails exist.
        let _ = password::verify(password.to_owned(), password::dummy_hash().await).await;
        return Err(wrong());
    };
    if !password::verify(password.to_owned(), found.password_hash.clone()).await? {
        return Err(wrong());
    }
    if found.disabled {
        return Err(ServiceError::Forbidden(Msg::new(
            "Akun dinonaktifkan",
            "Account disabled",
        )));
    }
    let view = UserView::from(found);
    let token = keys.issue(view.id, &view.email, &view.roles)?;
    Ok((token, view))
}
