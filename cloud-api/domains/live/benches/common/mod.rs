//! What the ChatMe benches share: accounts made directly (no HTTP, no sign-in limits) with
//! their 7-day ChatMe token.

#![allow(dead_code)]

use cloud_api::{
    platform::identity::{self, NewUser, Phone, Roles},
    testkit::{role_catalog, TestCloud},
};
use uuid::Uuid;

/// Creates bench account `n` with live role `role`; its id and ChatMe token.
pub async fn user(tc: &TestCloud, n: usize, role: &str) -> (Uuid, String) {
    let platform = tc.cloud().platform();
    let created = identity::create_user(
        &platform.db,
        &role_catalog(),
        NewUser {
            phone: Some(Phone::parse(&format!("628139{n:06}")).unwrap()),
            name: format!("Bench {n}"),
            password: "bench-password-1".into(),
            roles: Roles::from([("live".to_owned(), role.to_owned())]),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    let token = platform
        .domain::<live::LiveRuntime>()
        .session_jwt
        .issue(
            &platform.clock,
            created.id,
            "",
            &Roles::from([("live".to_owned(), role.to_owned())]),
            None,
            created.session_epoch,
        )
        .unwrap();
    (created.id, token)
}
