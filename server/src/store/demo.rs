//! Demo data (`--demo`): our company with an administrator and three users,
//! two customer companies with contact persons, rooms and a projector,
//! projects and sales, and follow-ups next week with invitations in every
//! status. Seeded once, into an empty database.

use crate::appointments::{self, Appointment, Participant, blank_participant, invitation};
use crate::availability;
use crate::error::ApiResult;
use crate::store::{self, Store, fmt_instant, new_id, now};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use sqlx::AnyConnection;

/// A demo associate: name, e-mail, role, password and its Argon2id hash.
pub struct DemoUser {
    /// Full name.
    pub name: &'static str,
    /// Sign-in address.
    pub email: &'static str,
    /// `admin` or `user`.
    pub role: &'static str,
    /// The demo password (public on purpose).
    pub password: &'static str,
    hash: &'static str,
}

/// The demo associates. Their passwords are public: demo data only.
pub const USERS: [DemoUser; 4] = [
    DemoUser {
        name: "Ada Larsen",
        email: "ada@ourcompany.example",
        role: "admin",
        password: "demo-ada",
        hash: "$argon2id$v=19$m=19456,t=2,p=1$ZGVtby1zYWx0LWFkYQ$kylgpbPeWoUfEL88JJvHKQVijmvRZtoxFOdRwJB86B4",
    },
    DemoUser {
        name: "Ben Holm",
        email: "ben@ourcompany.example",
        role: "user",
        password: "demo-ben",
        hash: "$argon2id$v=19$m=19456,t=2,p=1$ZGVtby1zYWx0LWJlbg$pN3kymi2AYvI0eSCLIj6mbHlxXl6ipc5UR0rcdcWP7c",
    },
    DemoUser {
        name: "Cara Dahl",
        email: "cara@ourcompany.example",
        role: "user",
        password: "demo-cara",
        hash: "$argon2id$v=19$m=19456,t=2,p=1$ZGVtby1zYWx0LWNhcmE$2U/1HAhFP4bD5BNYY3HP6MNzSIEKRXeNt34nXgSdRdE",
    },
    DemoUser {
        name: "Dan Moe",
        email: "dan@ourcompany.example",
        role: "user",
        password: "demo-dan",
        hash: "$argon2id$v=19$m=19456,t=2,p=1$ZGVtby1zYWx0LWRhbg$KH3+029J1bqkvmsl9Q8+Uqhxn5tRygGwBdnJ79ct8j4",
    },
];

/// The CRM inbox address of the demo.
pub const CRM_INBOX: &str = "crm@ourcompany.example";

async fn exec(conn: &mut AnyConnection, sql: &str, values: &[&str]) -> ApiResult<()> {
    let mut q = sqlx::query(sql);
    for v in values {
        q = q.bind(*v);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// The address of the administrator created on the first start without demo data.
pub const FIRST_ADMIN: &str = "admin@invitelink.example";

/// On the first start without demo data: creates an administrator with a
/// random password, which is returned once (to be printed) and never stored
/// in clear. `None` when the database already has associates.
pub async fn first_admin(store: &Store) -> ApiResult<Option<String>> {
    if !is_empty(store).await? {
        return Ok(None);
    }
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(crate::error::ApiError::internal)?;
    let password = crate::store::hex(&bytes);
    let hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
            .await
            .map_err(crate::error::ApiError::internal)??
    };
    let mut tx = store.write().await?;
    if !still_empty(tx.conn()).await? {
        return Ok(None);
    }
    exec(
        tx.conn(),
        "INSERT INTO associates (id, name, email, role, password_hash, created_at) VALUES ($1, $2, $3, 'admin', $4, $5)",
        &[&new_id(), "Administrator", FIRST_ADMIN, &hash, &fmt_instant(now())],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(password))
}

/// The accounts that still have a published demo password (their e-mail
/// addresses): the demo accounts, also under another address. A database
/// seeded with demo data and started later without `--demo` must not keep
/// them (the server refuses to start).
pub async fn published_passwords(store: &Store) -> ApiResult<Vec<String>> {
    let mut found: Vec<String> = Vec::new();
    for u in &USERS {
        let rows = {
            let mut conn = store.read().await?;
            sqlx::query("SELECT email, password_hash FROM associates WHERE email = $1 OR password_hash = $2")
                .bind(u.email)
                .bind(u.hash)
                .fetch_all(&mut *conn)
                .await?
        };
        for row in rows {
            let email = crate::store::text(&row, "email")?;
            let stored = crate::store::text(&row, "password_hash")?;
            let password = u.password;
            let published = stored == u.hash
                || tokio::task::spawn_blocking(move || crate::auth::verify_password(password, &stored))
                    .await
                    .map_err(crate::error::ApiError::internal)?;
            if published && !found.contains(&email) {
                found.push(email);
            }
        }
    }
    Ok(found)
}

/// Whether the database has no associate yet.
pub async fn is_empty(store: &Store) -> ApiResult<bool> {
    let mut conn = store.read().await?;
    still_empty(&mut conn).await
}

/// The same, inside a write transaction: another process sharing the
/// database may have filled it since [`is_empty`].
async fn still_empty(conn: &mut AnyConnection) -> ApiResult<bool> {
    Ok(sqlx::query("SELECT id FROM associates LIMIT 1").fetch_optional(&mut *conn).await?.is_none())
}

struct Ids {
    associates: Vec<String>,
    companies: [String; 3],
    persons: [String; 4],
    resources: [String; 3],
}

/// Seeds the demo data when the database is empty; returns whether it did.
pub async fn seed(store: &Store) -> ApiResult<bool> {
    if !is_empty(store).await? {
        return Ok(false);
    }
    let mut tx = store.write().await?;
    let conn = tx.conn();
    if !still_empty(conn).await? {
        return Ok(false);
    }
    let created = fmt_instant(now());
    let mut associates = Vec::new();
    for u in &USERS {
        let id = new_id();
        exec(
            conn,
            "INSERT INTO associates (id, name, email, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&id, u.name, u.email, u.role, u.hash, &created],
        )
        .await?;
        associates.push(id);
    }
    let companies = [new_id(), new_id(), new_id()];
    for (id, name, domain, ours) in [
        (&companies[0], "Our Company", "ourcompany.example", "1"),
        (&companies[1], "Acme Ltd", "acme.example", "0"),
        (&companies[2], "Globex Corporation", "globex.example", "0"),
    ] {
        sqlx::query("INSERT INTO companies (id, name, domain, ours) VALUES ($1, $2, $3, $4)")
            .bind(id.as_str())
            .bind(name)
            .bind(domain)
            .bind(if ours == "1" { 1i64 } else { 0i64 })
            .execute(&mut *conn)
            .await?;
    }
    let persons = [new_id(), new_id(), new_id(), new_id()];
    for (id, company, name, title, email) in [
        (&persons[0], &companies[1], "Bob Berg", "Purchasing manager", "bob@acme.example"),
        (&persons[1], &companies[1], "Alice Ash", "CTO", "alice@acme.example"),
        (&persons[2], &companies[2], "Gina Gray", "Project lead", "gina@globex.example"),
        (&persons[3], &companies[2], "Hal Hunt", "Support manager", "hal@globex.example"),
    ] {
        exec(
            conn,
            "INSERT INTO persons (id, company_id, name, title) VALUES ($1, $2, $3, $4)",
            &[id, company, name, title],
        )
        .await?;
        exec(conn, "INSERT INTO person_emails (person_id, email) VALUES ($1, $2)", &[id, email]).await?;
    }
    let resources = [new_id(), new_id(), new_id()];
    for (id, name, kind) in [
        (&resources[0], "Room Fjord", "room"),
        (&resources[1], "Room Glacier", "room"),
        (&resources[2], "Projector", "equipment"),
    ] {
        exec(conn, "INSERT INTO resources (id, name, kind) VALUES ($1, $2, $3)", &[id, name, kind]).await?;
    }
    for (table, name, company, status) in [
        ("projects", "Acme rollout", &companies[1], "open"),
        ("projects", "Acme archive migration", &companies[1], "closed"),
        ("projects", "Globex pilot", &companies[2], "open"),
        ("sales", "Acme licences 2027", &companies[1], "open"),
        ("sales", "Acme hardware", &companies[1], "lost"),
        ("sales", "Globex support contract", &companies[2], "open"),
    ] {
        let sql = format!("INSERT INTO {table} (id, name, company_id, status) VALUES ($1, $2, $3, $4)");
        exec(conn, &sql, &[&new_id(), name, company, status]).await?;
    }
    exec(conn, "INSERT INTO system_preferences (name, pref_value) VALUES ('crm_inbox', $1)", &[CRM_INBOX]).await?;
    let ids = Ids { associates, companies, persons, resources };
    follow_ups(conn, &ids).await?;
    tx.commit().await?;
    Ok(true)
}

/// Next Monday at `hour` UTC, plus `day` days.
fn next_week(day: i64, hour: u32, minute: u32) -> DateTime<Utc> {
    let today = now().date_naive();
    let until_monday = 7 - i64::from(today.weekday().num_days_from_monday());
    let date = today + Duration::days(until_monday + day);
    date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default()).and_utc()
}

struct Plan<'a> {
    owner: usize,
    title: &'a str,
    day: i64,
    hour: u32,
    minute: u32,
    minutes: i64,
    location: &'a str,
    status: &'a str,
    invitees: &'a [(usize, &'a str)],
    resources: &'a [usize],
    persons: &'a [usize],
    assignee: Option<(usize, &'a str)>,
}

async fn follow_ups(conn: &mut AnyConnection, ids: &Ids) -> ApiResult<()> {
    use invitation::*;
    let plans = [
        Plan {
            owner: 1,
            title: "Acme rollout kick-off",
            day: 0,
            hour: 9,
            minute: 0,
            minutes: 60,
            location: "Room Fjord",
            status: "booked",
            invitees: &[(2, NOT_SEEN), (3, SEEN)],
            resources: &[0],
            persons: &[0],
            assignee: None,
        },
        Plan {
            owner: 1,
            title: "Globex pilot review",
            day: 1,
            hour: 10,
            minute: 0,
            minutes: 60,
            location: "Room Glacier",
            status: "booked",
            invitees: &[(2, ACCEPTED), (3, DECLINED)],
            resources: &[1],
            persons: &[2],
            assignee: None,
        },
        Plan {
            owner: 2,
            title: "Pricing workshop",
            day: 2,
            hour: 13,
            minute: 0,
            minutes: 60,
            location: "Room Fjord",
            status: "booked",
            invitees: &[(1, MOVED), (3, MOVED_SEEN)],
            resources: &[0, 2],
            persons: &[],
            assignee: None,
        },
        Plan {
            owner: 3,
            title: "Quarterly sync (cancelled)",
            day: 3,
            hour: 9,
            minute: 0,
            minutes: 30,
            location: "",
            status: "cancelled",
            invitees: &[(1, CANCELLED)],
            resources: &[],
            persons: &[],
            assignee: None,
        },
        Plan {
            owner: 1,
            title: "Customer visit at Acme",
            day: 3,
            hour: 14,
            minute: 0,
            minutes: 60,
            location: "Acme offices",
            status: "booked",
            invitees: &[],
            resources: &[],
            persons: &[1],
            assignee: Some((3, ASSIGNED)),
        },
        Plan {
            owner: 2,
            title: "Support handover Globex",
            day: 4,
            hour: 11,
            minute: 0,
            minutes: 60,
            location: "",
            status: "booked",
            invitees: &[],
            resources: &[],
            persons: &[3],
            assignee: Some((1, DECLINED)),
        },
        Plan {
            owner: 3,
            title: "Internal planning",
            day: 0,
            hour: 9,
            minute: 30,
            minutes: 60,
            location: "Room Fjord",
            status: "booked",
            invitees: &[(1, NOT_SEEN)],
            resources: &[0],
            persons: &[],
            assignee: None,
        },
    ];
    let created = fmt_instant(now());
    for plan in &plans {
        let owner = ids.associates.get(plan.owner).cloned().unwrap_or_default();
        let owner_user = USERS.get(plan.owner);
        let start = next_week(plan.day, plan.hour, plan.minute);
        let id = new_id();
        let person = plan.persons.first().and_then(|i| ids.persons.get(*i)).cloned();
        let company = match plan.persons.first() {
            Some(0 | 1) => ids.companies.get(1).cloned(),
            Some(_) => ids.companies.get(2).cloned(),
            None => None,
        };
        let mut a = Appointment {
            title: plan.title.to_owned(),
            location: plan.location.to_owned(),
            start: fmt_instant(start),
            end: fmt_instant(start + Duration::minutes(plan.minutes)),
            status: plan.status.to_owned(),
            organizer_email: owner_user.map(|u| u.email.to_owned()),
            organizer_name: owner_user.map(|u| u.name.to_owned()),
            person_id: person,
            company_id: company,
            assigned_by: plan.assignee.map(|_| owner.clone()),
            ..Appointment::new(id.clone(), &owner, "crm", format!("{id}@invitelink"), &created)
        };
        store::appointments::insert(conn, &a).await?;
        let mut participants: Vec<Participant> = Vec::new();
        for (who, status) in plan.invitees {
            let mut p = blank_participant(&id, "associate", status);
            p.associate_id = ids.associates.get(*who).cloned();
            p.email = USERS.get(*who).map(|u| u.email.to_owned());
            p.name = USERS.get(*who).map(|u| u.name.to_owned());
            participants.push(p);
        }
        if let Some((who, status)) = plan.assignee {
            let mut p = blank_participant(&id, "associate", status);
            p.role = "assignee".to_owned();
            p.associate_id = ids.associates.get(who).cloned();
            p.email = USERS.get(who).map(|u| u.email.to_owned());
            p.name = USERS.get(who).map(|u| u.name.to_owned());
            participants.push(p);
        }
        for r in plan.resources {
            let mut p =
                blank_participant(&id, "resource", if plan.status == "cancelled" { CANCELLED } else { ACCEPTED });
            p.resource_id = ids.resources.get(*r).cloned();
            p.name = Some(["Room Fjord", "Room Glacier", "Projector"].get(*r).copied().unwrap_or_default().to_owned());
            participants.push(p);
        }
        for i in plan.persons {
            let mut p = blank_participant(&id, "person", NEEDS_ACTION);
            p.person_id = ids.persons.get(*i).cloned();
            p.email = ["bob@acme.example", "alice@acme.example", "gina@globex.example", "hal@globex.example"]
                .get(*i)
                .map(|e| (*e).to_owned());
            p.name = ["Bob Berg", "Alice Ash", "Gina Gray", "Hal Hunt"].get(*i).map(|n| (*n).to_owned());
            participants.push(p);
        }
        for p in &participants {
            store::appointments::insert_participant(conn, p).await?;
        }
        a.ics = Some(appointments::organizer_copy(&a, &participants, true, now()));
        store::appointments::update(conn, &a).await?;
        for (who, status) in plan.invitees {
            if *status == DECLINED {
                let name = USERS.get(*who).map(|u| u.name).unwrap_or_default();
                store::notifications::add(
                    conn,
                    &owner,
                    "invitation_declined",
                    Some(&id),
                    None,
                    &format!("{name} declined your invitation to \"{}\"", plan.title),
                )
                .await?;
            }
        }
        if let Some((who, DECLINED)) = plan.assignee {
            let name = USERS.get(who).map(|u| u.name).unwrap_or_default();
            store::notifications::add(
                conn,
                &owner,
                "assignment_declined",
                Some(&id),
                None,
                &format!("{name} declined the assignment of \"{}\"", plan.title),
            )
            .await?;
        }
    }
    // The later booking of Room Fjord on Monday overlaps the kick-off.
    let rows = sqlx::query("SELECT id FROM appointments ORDER BY created_at, id").fetch_all(&mut *conn).await?;
    for row in rows {
        let id = crate::store::text(&row, "id")?;
        availability::recheck_resources(conn, &id).await?;
    }
    let _ = &ids.companies;
    Ok(())
}
