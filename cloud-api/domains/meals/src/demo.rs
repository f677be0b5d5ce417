//! The all-in-one demo's meals data (seed 003 `prisma/seed.ts`): departments, shifts,
//! positions and the five test accounts (ADM001/admin123, EMP001/emp123,
//! KIT001/kitchen123, DEL001/delivery123, EMP002/emp123). The seed's passwords are shorter
//! than the platform's 8-character rule, so this path hashes them with the platform's
//! Argon2id and inserts the rows itself; `POST /users` and `create_user` keep the rule for
//! everyone else. The `gerbang` demo binary calls it, and `cloud-api` when told to
//! (`[meals] demo_data = true`); running it twice changes nothing.

use platform::{
    db::entities::user,
    error::{DbContext, ServiceError},
    identity::{find_by_login, password, EmployeeNo, LoginId, Roles},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    entities::{department, employee, position, shift},
    DOMAIN,
};

/// The demo accounts: NIK, password, name, role, department (index into
/// [`DEPARTMENTS`]), position (index into [`POSITIONS`]).
pub const DEMO_USERS: [(&str, &str, &str, &str, usize, usize); 5] = [
    ("ADM001", "admin123", "Admin User", "administrator", 0, 0),
    ("EMP001", "emp123", "Employee 1", "employee", 0, 1),
    ("KIT001", "kitchen123", "Kitchen Staff", "dapur", 0, 2),
    ("DEL001", "delivery123", "Delivery Staff", "delivery", 0, 3),
    ("EMP002", "emp123", "Employee 2", "employee", 1, 1),
];

const DEPARTMENTS: [(&str, &str); 3] = [
    ("IT Department", "Teknologi informasi"),
    ("Produksi", "Lini produksi"),
    ("HRD", "Sumber daya manusia"),
];

const SHIFTS: [(&str, &str, &str); 3] = [
    ("Shift 1", "07:00", "15:00"),
    ("Shift 2", "15:00", "23:00"),
    ("Shift 3", "23:00", "07:00"),
];

const POSITIONS: [&str; 4] = ["Manager", "Staff", "Juru Masak", "Kurir"];

/// Seeds the demo's meals data (idempotent: what exists is left alone).
pub async fn seed_demo(db: &DatabaseConnection) -> Result<(), ServiceError> {
    let mut departments = Vec::new();
    for (name, note) in DEPARTMENTS {
        let found = department::Entity::find()
            .filter(department::Column::Name.eq(name))
            .one(db)
            .await
            .db("loading a demo department")?;
        let row = match found {
            Some(row) => row,
            None => department::ActiveModel {
                name: Set(name.to_owned()),
                description: Set(Some(note.to_owned())),
                ..Default::default()
            }
            .insert(db)
            .await
            .db("seeding a department")?,
        };
        departments.push(row.id);
    }
    for (name, start, end) in SHIFTS {
        let exists = shift::Entity::find()
            .filter(shift::Column::Name.eq(name))
            .one(db)
            .await
            .db("loading a demo shift")?
            .is_some();
        if !exists {
            shift::ActiveModel {
                name: Set(name.to_owned()),
                start_time: Set(start.to_owned()),
                end_time: Set(end.to_owned()),
                description: Set(None),
                ..Default::default()
            }
            .insert(db)
            .await
            .db("seeding a shift")?;
        }
    }
    let mut positions = Vec::new();
    for name in POSITIONS {
        let found = position::Entity::find()
            .filter(position::Column::Name.eq(name))
            .one(db)
            .await
            .db("loading a demo position")?;
        let row = match found {
            Some(row) => row,
            None => position::ActiveModel {
                name: Set(name.to_owned()),
                department_id: Set(None),
                description: Set(None),
                ..Default::default()
            }
            .insert(db)
            .await
            .db("seeding a position")?,
        };
        positions.push(row.id);
    }
    for (nik, pass, name, role, dept, pos) in DEMO_USERS {
        let no = EmployeeNo::parse(nik).map_err(|e| ServiceError::Invalid(e.0))?;
        if find_by_login(db, &LoginId::EmployeeNo(no.clone()))
            .await?
            .is_some()
        {
            continue;
        }
        let dept = departments.get(dept).copied();
        let now = OffsetDateTime::now_utc();
        let hash = password::hash(pass.to_owned()).await?;
        // The account and its profile together: an account left without its profile
        // would never get it (the lookup above skips existing accounts).
        let txn = db.begin().await.db("seeding a demo user")?;
        let created = user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(None),
            name: Set(name.to_owned()),
            password_hash: Set(hash),
            roles: Set(
                serde_json::to_string(&Roles::from([(DOMAIN.to_owned(), role.to_owned())]))
                    .unwrap_or_default(),
            ),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            phone: Set(None),
            nik: Set(None),
            google_sub: Set(None),
            department: Set(dept.map(|d| d.to_string())),
            session_epoch: Set(0),
            username: Set(None),
            employee_no: Set(Some(no.as_str().to_owned())),
        }
        .insert(&txn)
        .await
        .db("seeding a demo user")?;
        employee::ActiveModel {
            user_id: Set(created.id),
            department_id: Set(dept),
            position_id: Set(positions.get(pos).copied()),
            must_change_password: Set(false),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .db("seeding a demo profile")?;
        txn.commit().await.db("seeding a demo user")?;
    }
    Ok(())
}
