//! The preferences as stored: the system's, by name, and each
//! associate's settings.

use super::{StoreResult, flag, text};
use crate::preferences::{Incoming, Preferences};
use sqlx::AnyConnection;

/// Loads the system preferences (defaults for anything not stored).
pub async fn load(conn: &mut AnyConnection) -> StoreResult<Preferences> {
    let rows = sqlx::query("SELECT name, pref_value FROM system_preferences").fetch_all(&mut *conn).await?;
    let mut p = Preferences::default();
    for row in rows {
        let value = text(&row, "pref_value")?;
        match text(&row, "name")?.as_str() {
            "incoming" => p.incoming = Incoming::parse(&value).unwrap_or_default(),
            "request_reply" => p.request_reply = value == "true",
            "synchronizer" => p.synchronizer = value == "true",
            "crm_inbox" => p.crm_inbox = value,
            "working_hours_start" => p.working_hours_start = value,
            "working_hours_end" => p.working_hours_end = value,
            "time_zone" => p.time_zone = value,
            _ => {}
        }
    }
    Ok(p)
}

/// Stores the system preferences `p`, each by name.
pub async fn save(conn: &mut AnyConnection, p: &Preferences) -> StoreResult<()> {
    let pairs = [
        ("incoming", p.incoming.as_str().to_owned()),
        ("request_reply", p.request_reply.to_string()),
        ("synchronizer", p.synchronizer.to_string()),
        ("crm_inbox", p.crm_inbox.clone()),
        ("working_hours_start", p.working_hours_start.clone()),
        ("working_hours_end", p.working_hours_end.clone()),
        ("time_zone", p.time_zone.clone()),
    ];
    for (name, value) in pairs {
        sqlx::query(
            "INSERT INTO system_preferences (name, pref_value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET pref_value = excluded.pref_value",
        )
        .bind(name)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The stored settings of an associate: (`import_tentative`, `synchronizer`).
pub async fn load_user(conn: &mut AnyConnection, associate_id: &str) -> StoreResult<(bool, bool)> {
    let row = sqlx::query("SELECT import_tentative, synchronizer FROM user_settings WHERE associate_id = $1")
        .bind(associate_id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok((flag(&row, "import_tentative")?, flag(&row, "synchronizer")?)),
        None => Ok((true, false)),
    }
}

/// Stores the settings of `associate_id`.
pub async fn save_user(
    conn: &mut AnyConnection,
    associate_id: &str,
    import_tentative: bool,
    synchronizer: bool,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO user_settings (associate_id, import_tentative, synchronizer) VALUES ($1, $2, $3) \
         ON CONFLICT (associate_id) DO UPDATE SET import_tentative = excluded.import_tentative, \
         synchronizer = excluded.synchronizer",
    )
    .bind(associate_id)
    .bind(i64::from(import_tentative))
    .bind(i64::from(synchronizer))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
