//! The archive as stored: archived e-mails and meetings with their links,
//! the lookups of the link suggestions, and a person's activities.

use super::{StoreResult, flag, opt_text, text};
use crate::archive::{Activity, ArchivedItem, Link};
use sqlx::AnyConnection;

/// Stores `item` (archived by `associate_id`, the message `raw` as
/// `encoding`, `utf8` or `base64`) with its links.
pub async fn insert(
    conn: &mut AnyConnection,
    item: &ArchivedItem,
    associate_id: &str,
    raw: &str,
    encoding: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO archived_items (id, associate_id, kind, subject, from_email, message_id, raw, raw_encoding, \
         appointment_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&item.id)
    .bind(associate_id)
    .bind(&item.kind)
    .bind(&item.subject)
    .bind(&item.from_email)
    .bind(&item.message_id)
    .bind(raw)
    .bind(encoding)
    .bind(&item.appointment_id)
    .bind(&item.created_at)
    .execute(&mut *conn)
    .await?;
    for l in &item.links {
        sqlx::query("INSERT INTO archive_links (item_id, link_kind, link_id) VALUES ($1, $2, $3)")
            .bind(&item.id)
            .bind(&l.kind)
            .bind(&l.id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn item_links(conn: &mut AnyConnection, id: &str) -> StoreResult<Vec<Link>> {
    let rows =
        sqlx::query("SELECT link_kind, link_id FROM archive_links WHERE item_id = $1 ORDER BY link_kind, link_id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter().map(|r| Ok(Link { kind: text(r, "link_kind")?, id: text(r, "link_id")? })).collect()
}

/// The items `associate_id` archived, newest first (at most 500).
pub async fn list(conn: &mut AnyConnection, associate_id: &str) -> StoreResult<Vec<ArchivedItem>> {
    let rows = sqlx::query(
        "SELECT id, kind, subject, from_email, message_id, appointment_id, created_at FROM archived_items \
         WHERE associate_id = $1 ORDER BY created_at DESC, id LIMIT 500",
    )
    .bind(associate_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id = text(&row, "id")?;
        let links = item_links(conn, &id).await?;
        out.push(ArchivedItem {
            id,
            kind: text(&row, "kind")?,
            subject: text(&row, "subject")?,
            from_email: opt_text(&row, "from_email")?,
            message_id: opt_text(&row, "message_id")?,
            appointment_id: opt_text(&row, "appointment_id")?,
            links,
            created_at: text(&row, "created_at")?,
        });
    }
    Ok(out)
}

/// A person registered with an address, and their company.
pub struct PersonMatch {
    /// The person's id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their company's id.
    pub company_id: Option<String>,
    /// Their company's name.
    pub company_name: Option<String>,
}

/// The persons registered with `address`, by name.
pub async fn persons_with_address(conn: &mut AnyConnection, address: &str) -> StoreResult<Vec<PersonMatch>> {
    let rows = sqlx::query(
        "SELECT p.id, p.name, p.company_id, c.name AS company_name FROM person_emails e JOIN persons p \
         ON p.id = e.person_id LEFT JOIN companies c ON c.id = p.company_id WHERE e.email = $1 ORDER BY p.name",
    )
    .bind(address)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PersonMatch {
                id: text(row, "id")?,
                name: text(row, "name")?,
                company_id: opt_text(row, "company_id")?,
                company_name: opt_text(row, "company_name")?,
            })
        })
        .collect()
}

/// The companies (id, name), other than ours, whose domain is `domain`.
pub async fn companies_with_domain(conn: &mut AnyConnection, domain: &str) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT id, name FROM companies WHERE LOWER(domain) = $1 AND ours = 0")
        .bind(domain)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|row| Ok((text(row, "id")?, text(row, "name")?))).collect()
}

/// The open deals (id, name) of `table` (`projects` or `sales`, never from
/// input) of the company `company_id`, by name (at most 50).
pub async fn open_deals(conn: &mut AnyConnection, table: &str, company_id: &str) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query(&format!(
        "SELECT id, name FROM {table} WHERE company_id = $1 AND status = 'open' ORDER BY name LIMIT 50"
    ))
    .bind(company_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|row| Ok((text(row, "id")?, text(row, "name")?))).collect()
}

/// An appointment a person takes part in or is linked to.
pub struct PersonAppointment {
    /// The appointment's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Start, as stored.
    pub start: String,
    /// End, as stored.
    pub end: String,
    /// Its status.
    pub status: String,
    /// The associate whose diary holds it.
    pub owner_id: String,
    /// The person's own status as a participant.
    pub participant_status: Option<String>,
    /// Whether the asking associate owns, delegated or takes part in it.
    pub visible: bool,
}

/// The appointments `person_id` takes part in or is linked to, newest first
/// (at most 500), with whether `associate_id` may see their details.
pub async fn appointments_of_person(
    conn: &mut AnyConnection,
    person_id: &str,
    associate_id: &str,
) -> StoreResult<Vec<PersonAppointment>> {
    let rows = sqlx::query(
        "SELECT a.id, a.title, a.start_at, a.end_at, a.status, a.owner_id, \
         (SELECT MAX(p.status) FROM participants p WHERE p.appointment_id = a.id AND p.person_id = $1) AS participant_status, \
         CASE WHEN a.owner_id = $2 OR a.assigned_by = $2 OR EXISTS (SELECT 1 FROM participants q \
         WHERE q.appointment_id = a.id AND q.associate_id = $2) THEN 1 ELSE 0 END AS visible \
         FROM appointments a WHERE a.person_id = $1 \
         OR a.id IN (SELECT appointment_id FROM participants WHERE person_id = $1) ORDER BY a.start_at DESC LIMIT 500",
    )
    .bind(person_id)
    .bind(associate_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PersonAppointment {
                id: text(row, "id")?,
                title: text(row, "title")?,
                start: text(row, "start_at")?,
                end: text(row, "end_at")?,
                status: text(row, "status")?,
                owner_id: text(row, "owner_id")?,
                participant_status: opt_text(row, "participant_status")?,
                visible: flag(row, "visible")?,
            })
        })
        .collect()
}

/// The archived items linked to `person_id`, newest first (at most 500):
/// those archived by `by` (`None`: by anyone, for an administrator).
pub async fn archived_for_person(
    conn: &mut AnyConnection,
    person_id: &str,
    by: Option<&str>,
) -> StoreResult<Vec<Activity>> {
    let rows = sqlx::query(
        "SELECT i.id, i.subject, i.created_at, i.kind, i.associate_id FROM archived_items i JOIN archive_links l \
         ON l.item_id = i.id WHERE l.link_kind = 'person' AND l.link_id = $1 AND (i.associate_id = $2 OR $3 = 1) \
         ORDER BY i.created_at DESC LIMIT 500",
    )
    .bind(person_id)
    .bind(by.unwrap_or_default())
    .bind(i64::from(by.is_none()))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Activity {
                kind: "archived".to_owned(),
                id: text(row, "id")?,
                title: text(row, "subject")?,
                start: text(row, "created_at")?,
                end: None,
                status: text(row, "kind")?,
                associate_id: text(row, "associate_id")?,
                participant_status: None,
                private: false,
            })
        })
        .collect()
}
