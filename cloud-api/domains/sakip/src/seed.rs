//! Demo data for the all-in-one demo (never the plain cloud): the seed's test user
//! `testuser` / `testpass` (super_admin).

use platform::{
    identity::{self, Email, Roles, Username},
    state::AppState,
};

use crate::DOMAIN;

/// Creates `testuser` / `testpass` (super_admin) unless a user of that name exists.
pub async fn seed_demo(state: &AppState) -> Result<(), platform::error::ServiceError> {
    let Ok(username) = Username::parse("testuser") else {
        return Ok(());
    };
    if identity::find_by_login(&state.db, &identity::LoginId::Username(username.clone()))
        .await?
        .is_some()
    {
        return Ok(());
    }
    identity::create_user(
        &state.db,
        &state.roles,
        identity::NewUser {
            username: Some(username),
            email: Email::parse("testuser@sakip.demo").ok(),
            name: "Test User".into(),
            password: "testpass".into(),
            roles: Roles::from([(DOMAIN.to_owned(), "super_admin".to_owned())]),
            ..identity::NewUser::default()
        },
    )
    .await?;
    Ok(())
}
