//! Applying a decision: the engine's effects (create, update or cancel an
//! appointment, an answer recorded, a reply queued, a notification) written
//! to the store in the caller's transaction, as the engine wrote them; no
//! rule is derived again here.

use super::{StoreError, StoreResult, engine_instant, fmt_instant};
use crate::appointments::{self, Appointment, blank_participant, invitation};
use crate::directory::Associate;
use crate::outbox::{NewMessage, OutboxMessage};
use crate::store;
use invitelink::ical::value::email_of;
use invitelink::policy::{self, Decision, Effect, RecordId};
use serde::Serialize;
use sqlx::AnyConnection;

/// Where a message is applied.
pub struct Target {
    /// The address given to the engine as `mailbox`.
    pub mailbox: String,
    /// The associate whose diary changes.
    pub owner: Option<Associate>,
    /// The stored appointment with the message's `UID`.
    pub existing: Option<Appointment>,
    /// Recorded with processed messages.
    pub mailbox_key: String,
}

fn record_id(id: &Option<RecordId>) -> Option<String> {
    match id {
        Some(RecordId::Text(t)) => Some(t.clone()),
        Some(RecordId::Number(n)) => Some(n.to_string()),
        None => None,
    }
}

fn appointment_status(s: policy::AppointmentStatus) -> &'static str {
    match s {
        policy::AppointmentStatus::Tentative => appointments::status::TENTATIVE,
        policy::AppointmentStatus::Accepted => appointments::status::ACCEPTED,
        policy::AppointmentStatus::Declined => appointments::status::DECLINED,
    }
}

fn partstat_status(partstat: &str) -> &'static str {
    match partstat.to_ascii_uppercase().as_str() {
        "ACCEPTED" => invitation::ACCEPTED,
        "DECLINED" => invitation::DECLINED,
        "TENTATIVE" => invitation::TENTATIVE,
        "DELEGATED" => "delegated",
        _ => invitation::NEEDS_ACTION,
    }
}

/// Writes the engine's view of an appointment onto `a`.
async fn fill(
    conn: &mut AnyConnection,
    a: &mut Appointment,
    app: &policy::Appointment,
    sequence: i64,
) -> StoreResult<()> {
    a.title = app.summary.clone().unwrap_or_default();
    a.location = app.location.clone().unwrap_or_default();
    if let Some(start) = &app.start {
        a.start = engine_instant(start);
    }
    if let Some(end) = &app.end {
        a.end = engine_instant(end);
    } else {
        a.end = a.start.clone();
    }
    a.all_day = app.all_day;
    a.status = appointment_status(app.status).to_owned();
    a.uid = app.uid.clone();
    a.sequence = sequence;
    a.ics = Some(app.ics.clone());
    if let Some(o) = &app.organizer {
        a.organizer_email = Some(o.email.clone());
        a.organizer_name = o.name.clone().or_else(|| o.person_name.clone());
    }
    if let Some(contact) = &app.contact {
        a.person_id = record_id(&contact.person_id);
        if let Some(pid) = &a.person_id {
            let row = sqlx::query("SELECT company_id FROM persons WHERE id = $1")
                .bind(pid)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(row) = row {
                a.company_id = store::opt_text(&row, "company_id")?;
            }
        }
    }
    a.updated_at = fmt_instant(store::now());
    Ok(())
}

/// Replaces the participants and occurrences of a received appointment by
/// the engine's view (`fresh`: the appointment was just inserted and has
/// none yet).
async fn write_attendees(
    conn: &mut AnyConnection,
    a: &Appointment,
    app: &policy::Appointment,
    fresh: bool,
) -> StoreResult<()> {
    if !fresh {
        sqlx::query("DELETE FROM participants WHERE appointment_id = $1").bind(&a.id).execute(&mut *conn).await?;
    }
    for at in &app.attendees {
        if at.is_user {
            continue;
        }
        let party = &at.party;
        let kind = if party.associate_id.is_some() {
            "associate_contact"
        } else if party.person_id.is_some() {
            "person"
        } else {
            "email"
        };
        // Associates of a received meeting are recorded by address: their
        // own diaries get the meeting from their own mailboxes.
        let kind = if kind == "associate_contact" { "email" } else { kind };
        let mut p = blank_participant(&a.id, kind, partstat_status(at.partstat.as_str()));
        p.person_id = record_id(&party.person_id);
        p.email = Some(party.email.clone());
        p.name = party.name.clone().or_else(|| party.person_name.clone()).or_else(|| party.associate_name.clone());
        store::appointments::insert_participant(conn, &p).await?;
    }
    if let Some(occurrences) = &app.occurrences {
        if !fresh {
            sqlx::query("DELETE FROM occurrences WHERE appointment_id = $1").bind(&a.id).execute(&mut *conn).await?;
        }
        for o in occurrences.iter().take(10_000) {
            let status = match o.status.as_deref() {
                Some(s) if s.eq_ignore_ascii_case("CANCELLED") => "cancelled",
                _ => "active",
            };
            sqlx::query(
                "INSERT INTO occurrences (appointment_id, recurrence_id, start_at, end_at, status) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (appointment_id, recurrence_id) DO NOTHING",
            )
            .bind(&a.id)
            .bind(&o.recurrence_id)
            .bind(engine_instant(&o.start))
            .bind(engine_instant(&o.end))
            .bind(status)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

async fn set_ics(conn: &mut AnyConnection, appointment_id: &str, ics: &str) -> StoreResult<()> {
    sqlx::query("UPDATE appointments SET ics = $2, updated_at = $3 WHERE id = $1")
        .bind(appointment_id)
        .bind(ics)
        .bind(fmt_instant(store::now()))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn notice_text(what: &str, attendee: Option<&str>, title: &str) -> String {
    let who = attendee.unwrap_or("an attendee");
    match what {
        "invitation_declined" => format!("{who} declined your invitation to \"{title}\""),
        "appointment_moved" => format!("the organizer moved \"{title}\""),
        "appointment_cancelled" => format!("the organizer cancelled \"{title}\""),
        "refresh_requested" => format!("{who} asks for the latest version of \"{title}\""),
        "counter_declined" => format!("the organizer declined your proposal for \"{title}\""),
        other => format!("{other}: \"{title}\""),
    }
}

fn json_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// What applying a decision did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The appointment concerned, when there is one.
    pub appointment_id: Option<String>,
    /// The messages queued for sending (replies).
    pub outbox: Vec<OutboxMessage>,
}

/// Applies the effects of `decision` for `target`, looked up by the
/// message's `uid`, inside the caller's transaction `conn`: the one place a
/// decision changes the store. An effect the target cannot take (an
/// invitation for the CRM inbox, which has no diary) is refused
/// ([`StoreError::Refused`]); the caller rolls back what came before it.
pub async fn apply(conn: &mut AnyConnection, target: &Target, uid: &str, decision: &Decision) -> StoreResult<Applied> {
    let mut current = target.existing.clone();
    let mut queued = Vec::new();
    for effect in &decision.effects {
        match effect {
            Effect::CreateAppointment(app) => {
                let Some(owner) = &target.owner else {
                    return Err(StoreError::invalid(
                        "the CRM inbox has no diary: deliver invitations to a user's mailbox",
                    ));
                };
                let existing = match &current {
                    Some(a) => Some(a.clone()),
                    // The target's lookup by this `UID` found none.
                    None if app.uid == uid => None,
                    None => store::appointments::find_by_uid(conn, &owner.id, &app.uid).await?,
                };
                let now = fmt_instant(store::now());
                let mut a = existing.clone().unwrap_or_else(|| Appointment {
                    recurring: decision.recurring,
                    ..Appointment::new(store::new_id(), &owner.id, "email", app.uid.clone(), &now)
                });
                fill(conn, &mut a, app, decision.sequence).await?;
                a.recurring = decision.recurring;
                if existing.is_some() {
                    store::appointments::update(conn, &a).await?;
                } else {
                    store::appointments::insert(conn, &a).await?;
                }
                write_attendees(conn, &a, app, existing.is_none()).await?;
                current = Some(a);
            }
            Effect::UpdateAppointment(update) => {
                let Some(mut a) = current.clone() else { continue };
                fill(conn, &mut a, &update.appointment, decision.sequence).await?;
                a.moved = a.moved || update.moved;
                store::appointments::update(conn, &a).await?;
                if a.origin != "crm" {
                    write_attendees(conn, &a, &update.appointment, false).await?;
                }
                current = Some(a);
            }
            Effect::CancelAppointment { ics, .. } => {
                let Some(mut a) = current.clone() else { continue };
                a.status = appointments::status::CANCELLED.to_owned();
                if let Some(ics) = ics {
                    a.ics = Some(ics.clone());
                }
                a.sequence = a.sequence.max(decision.sequence);
                a.updated_at = fmt_instant(store::now());
                store::appointments::update(conn, &a).await?;
                current = Some(a);
            }
            Effect::CancelOccurrence { recurrence_id, ics, .. } => {
                let Some(a) = current.clone() else { continue };
                sqlx::query(
                    "UPDATE occurrences SET status = 'cancelled' WHERE appointment_id = $1 AND recurrence_id = $2",
                )
                .bind(&a.id)
                .bind(recurrence_id)
                .execute(&mut *conn)
                .await?;
                set_ics(conn, &a.id, ics).await?;
                current = store::appointments::find(conn, &a.id).await?;
            }
            Effect::SetAttendeeStatus { attendee, partstat, recurrence_id, party, ics, .. } => {
                let Some(a) = current.clone() else { continue };
                set_ics(conn, &a.id, ics).await?;
                if recurrence_id.is_none() {
                    let address = email_of(attendee);
                    let participants = store::appointments::participants(conn, &a.id).await?;
                    let found = participants.iter().find(|p| {
                        p.email.as_deref().is_some_and(|e| invitelink::ical::value::same_address(e, &address))
                    });
                    let status = partstat_status(partstat);
                    match found {
                        Some(p) if p.kind == "associate" => {}
                        Some(p) => store::appointments::set_participant_status(conn, &p.id, status).await?,
                        None => {
                            let kind = if party.person_id.is_some() { "person" } else { "email" };
                            let mut p = blank_participant(&a.id, kind, status);
                            p.person_id = record_id(&party.person_id);
                            p.email = Some(address);
                            p.name = party.name.clone().or_else(|| party.person_name.clone());
                            store::appointments::insert_participant(conn, &p).await?;
                        }
                    }
                }
                current = store::appointments::find(conn, &a.id).await?;
            }
            Effect::SendReply { partstat, to, from, ics } => {
                let title = current.as_ref().map(|a| a.title.clone()).unwrap_or_default();
                let word = match partstat.to_ascii_uppercase().as_str() {
                    "ACCEPTED" => "Accepted",
                    "DECLINED" => "Declined",
                    _ => "Tentative",
                };
                queued.push(
                    store::outbox::queue(
                        conn,
                        NewMessage {
                            appointment_id: current.as_ref().map(|a| a.id.clone()),
                            associate_id: target.owner.as_ref().map(|o| o.id.clone()),
                            method: "REPLY".to_owned(),
                            sender: email_of(from),
                            recipient: email_of(to),
                            reply_to: None,
                            subject: format!("{word}: {title}"),
                            ics: ics.clone(),
                        },
                    )
                    .await?,
                );
            }
            Effect::Notify { what, attendee } => {
                let Some(owner) = &target.owner else { continue };
                let title = current.as_ref().map(|a| a.title.clone()).unwrap_or_default();
                let what = json_name(what);
                let who = match (attendee, &current) {
                    (Some(address), Some(a)) => store::appointments::participants(conn, &a.id)
                        .await?
                        .into_iter()
                        .find(|p| p.email.as_deref().is_some_and(|e| invitelink::ical::value::same_address(e, address)))
                        .and_then(|p| p.name)
                        .or_else(|| Some(address.clone())),
                    (attendee, _) => attendee.clone(),
                };
                let message = notice_text(&what, who.as_deref(), &title);
                store::notifications::add(
                    conn,
                    &owner.id,
                    &what,
                    current.as_ref().map(|a| a.id.as_str()),
                    None,
                    &message,
                )
                .await?;
            }
            Effect::CounterProposal { attendee, start, end, .. } => {
                let Some(owner) = &target.owner else { continue };
                let title = current.as_ref().map(|a| a.title.clone()).unwrap_or_default();
                let message = format!(
                    "{attendee} proposes another time for \"{title}\": {} to {}",
                    start.as_deref().unwrap_or("?"),
                    end.as_deref().unwrap_or("?")
                );
                store::notifications::add(
                    conn,
                    &owner.id,
                    "counter_proposal",
                    current.as_ref().map(|a| a.id.as_str()),
                    None,
                    &message,
                )
                .await?;
            }
            Effect::SuggestContact { .. } => {}
        }
    }
    Ok(Applied { appointment_id: current.map(|a| a.id), outbox: queued })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::directory;
    use crate::store::Store;
    use invitelink::ical::{ParseOptions, parse_calendar};
    use invitelink::message::{InputLimits, read_message};

    const ADA: &str = "ada@ourcompany.example";

    fn message(method: &str, status: &str) -> String {
        format!(
            "From: Bob Berg <bob@acme.example>\r\nTo: {ADA}\r\nSubject: Visit\r\n\
             Content-Type: text/calendar; method={method}\r\n\r\n\
             BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:{method}\r\nBEGIN:VEVENT\r\n\
             UID:effects-test@acme.example\r\nSEQUENCE:{seq}\r\nDTSTAMP:20291201T08000{seq}Z\r\n\
             DTSTART:20300115T090000Z\r\nDTEND:20300115T100000Z\r\nSUMMARY:Visit\r\nSTATUS:{status}\r\n\
             ORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
             ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{ADA}\r\n\
             ATTENDEE;PARTSTAT=ACCEPTED:mailto:carl@acme.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            seq = if method == "CANCEL" { 1 } else { 0 }
        )
    }

    /// The engine's decision on `raw` for Ada, who knows Bob, with the
    /// stored copy `existing`.
    fn decide(raw: &str, existing: Option<&str>) -> Decision {
        let envelope = read_message(raw.as_bytes(), &InputLimits::default()).unwrap();
        let calendar = parse_calendar(&envelope.calendar, &ParseOptions::default()).unwrap();
        let mut ctx = invitelink::policy::parse_context(&format!(
            r#"{{"mailbox": "{ADA}", "now": "2029-12-01T09:00:00Z", "authenticated": true,
                "contacts": [{{"email": "bob@acme.example", "name": "Bob Berg"}}]}}"#
        ))
        .unwrap();
        ctx.existing = existing.map(str::to_owned);
        invitelink::policy::decide(&envelope, &calendar, &ctx).unwrap()
    }

    async fn store(name: &str) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("invitelink-effects-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.join("t.sqlite").display())).await.unwrap();
        crate::demo::seed(&store).await.unwrap();
        (store, dir)
    }

    #[tokio::test]
    async fn a_decision_is_applied_to_a_real_file_without_http() {
        let (store, dir) = store("apply").await;
        let mut conn = store.read().await.unwrap();
        let ada = directory::associate_by_email(&mut conn, ADA).await.unwrap().unwrap();
        drop(conn);
        let uid = "effects-test@acme.example";
        let target = |existing| Target {
            mailbox: ADA.to_owned(),
            owner: Some(ada.clone()),
            existing,
            mailbox_key: ADA.to_owned(),
        };

        // The invitation: a tentative appointment with Bob's other attendee.
        let invitation = decide(&message("REQUEST", "CONFIRMED"), None);
        let mut tx = store.write().await.unwrap();
        let applied = apply(tx.conn(), &target(None), uid, &invitation).await.unwrap();
        tx.commit().await.unwrap();
        let id = applied.appointment_id.expect("an appointment");
        assert!(applied.outbox.is_empty());
        let mut conn = store.read().await.unwrap();
        let a = store::appointments::get(&mut conn, &id).await.unwrap();
        assert_eq!((a.title.as_str(), a.status.as_str(), a.owner_id.as_str()), ("Visit", "tentative", ada.id.as_str()));
        assert_eq!((a.start.as_str(), a.end.as_str()), ("2030-01-15T09:00:00Z", "2030-01-15T10:00:00Z"));
        assert_eq!(a.organizer_email.as_deref(), Some("bob@acme.example"));
        let people = store::appointments::participants(&mut conn, &id).await.unwrap();
        let carl = people.iter().find(|p| p.email.as_deref() == Some("carl@acme.example")).expect("Carl recorded");
        assert_eq!(carl.status, invitation::ACCEPTED);
        assert!(people.iter().all(|p| p.email.as_deref() != Some(ADA)), "the user is not a participant of her own");

        // The organizer cancels it: the same row, cancelled.
        let stored = store::appointments::find_by_uid(&mut conn, &ada.id, uid).await.unwrap();
        drop(conn);
        let cancel = decide(&message("CANCEL", "CANCELLED"), stored.as_ref().and_then(|a| a.ics.as_deref()));
        let mut tx = store.write().await.unwrap();
        let applied = apply(tx.conn(), &target(stored), uid, &cancel).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(applied.appointment_id.as_deref(), Some(id.as_str()));
        let mut conn = store.read().await.unwrap();
        assert_eq!(store::appointments::get(&mut conn, &id).await.unwrap().status, appointments::status::CANCELLED);
        drop(conn);
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn an_invitation_for_the_crm_inbox_is_refused_by_kind_and_writes_nothing() {
        let (store, dir) = store("refused").await;
        let invitation = decide(&message("REQUEST", "CONFIRMED"), None);
        let crm = Target {
            mailbox: ADA.to_owned(),
            owner: None,
            existing: None,
            mailbox_key: "crm@ourcompany.example".to_owned(),
        };
        let mut tx = store.write().await.unwrap();
        let err = apply(tx.conn(), &crm, "effects-test@acme.example", &invitation).await.unwrap_err();
        drop(tx);
        assert!(matches!(&err, StoreError::Refused { code: "invalid_input", .. }), "{err}");
        assert!(!err.is_transient(), "refused, not worth trying again");
        let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM appointments WHERE uid = $1")
            .bind("effects-test@acme.example")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(n.0, 0);
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
