#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Administration, passwords and the calendar feed (docs/administration.md):
//! a company set up from nothing, associates disabled mid-session, one-time
//! password links, resources retired, the mail status with a failing inbox
//! and SMTP server, and the feed with its ETag and its revocation.

#[path = "server_support/mod.rs"]
mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::*;

const ADMIN: &str = "admin@invitelink.example";
const STRONG: &str = "a quiet harbour at dawn";

fn created(r: &Response) -> &Value {
    assert_eq!(r.status, 201, "{}", r.text());
    &r.json
}

#[test]
fn a_company_is_set_up_from_nothing() {
    let db = TestDb::new("admin-fresh");
    let server = TestServer::start_on(&db, false);
    let first = server.first_admin_password.clone().expect("a first start prints the administrator's password");
    let (admin, admin_id) = server.sign_in(ADMIN, &first);
    assert_eq!(admin.get("/api/me").json["role"], "admin");

    // Passwords (NIST SP 800-63B): the current one is required; a short or
    // common one is refused whatever its case; no composition rule.
    let change = |current: &str, new: &str| {
        admin.put("/api/me/password", &json!({"current_password": current, "new_password": new}))
    };
    assert_eq!(change("not the password", STRONG).status, 403);
    for weak in ["short", "Basketball", "QWERTYUIOP", "1q2w3e4r5t", "password123"] {
        let r = change(&first, weak);
        assert_eq!((r.status, r.code()), (422, "weak_password"), "{weak}: {}", r.text());
    }
    assert_eq!(change(&first, STRONG).status, 204);
    assert_eq!(server.client().post("/api/signin", &json!({"email": ADMIN, "password": first})).status, 401);
    assert_eq!(admin.get("/api/me").status, 200, "this session stays");

    // Associates: one with a password, one with a one-time link.
    let r = admin.post(
        "/api/associates",
        &json!({"name": "Ben Holm", "email": " Ben@OurCompany.example ", "password": "ben's long passphrase"}),
    );
    let ben = created(&r);
    assert_eq!(ben["associate"]["email"], "ben@ourcompany.example");
    assert_eq!(ben["associate"]["role"], "user");
    assert_eq!(ben["associate"]["active"], true);
    assert!(ben["password_link"].is_null());
    let ben_id = ben["associate"]["id"].as_str().unwrap().to_owned();
    let r = admin
        .post("/api/associates", &json!({"name": "Cara Dahl", "email": "cara@ourcompany.example", "role": "admin"}));
    let cara = created(&r).clone();
    assert_eq!(cara["associate"]["link_pending"], true);
    let link = &cara["password_link"];
    let secret = link["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert_eq!(link["path"], format!("/#/set-password/{secret}"));
    // Until the link is used, no password signs Cara in.
    for guess in ["", "!unset-", "cara@ourcompany.example"] {
        let r = server.client().post("/api/signin", &json!({"email": "cara@ourcompany.example", "password": guess}));
        assert_eq!(r.status, 401);
    }
    let anon = server.client();
    let info = anon.get(&format!("/api/password-links/{secret}"));
    assert_eq!(info.status, 200, "{}", info.text());
    assert_eq!(info.json["email"], "cara@ourcompany.example");
    assert_eq!(info.json["name"], "Cara Dahl");
    let r = anon.post(&format!("/api/password-links/{secret}"), &json!({"new_password": "qwertyuiop"}));
    assert_eq!((r.status, r.code()), (422, "weak_password"));
    assert_eq!(
        anon.post(&format!("/api/password-links/{secret}"), &json!({"new_password": "cara sets her own"})).status,
        204
    );
    let r = anon.post(&format!("/api/password-links/{secret}"), &json!({"new_password": "and again later"}));
    assert_eq!((r.status, r.code()), (404, "link_not_found"), "a link is used once");
    assert_eq!(anon.get(&format!("/api/password-links/{secret}")).status, 404);
    assert_eq!(anon.get("/api/password-links/unknown").code(), "link_not_found");
    let (cara, _) = server.sign_in("cara@ourcompany.example", "cara sets her own");
    assert_eq!(cara.get("/api/me").json["role"], "admin");

    // Bad input: a clear error with a stable code.
    for (body, status, code) in [
        (json!({"name": "X", "email": "BEN@ourcompany.example", "password": STRONG}), 409, "email_taken"),
        (json!({"name": "X", "email": "not an address"}), 422, "invalid_email"),
        (json!({"name": "X", "email": "x@nodomain"}), 422, "invalid_email"),
        (json!({"name": "  ", "email": "x@ourcompany.example"}), 422, "invalid_input"),
        (json!({"name": "X\r\nBcc: eve@x.example", "email": "x@ourcompany.example"}), 400, "control_character"),
        (json!({"name": "X", "email": "x@ourcompany.example", "password": "short"}), 422, "weak_password"),
        (json!({"name": "X", "email": "x@ourcompany.example", "role": "owner"}), 422, "invalid_input"),
    ] {
        let r = admin.post("/api/associates", &body);
        assert_eq!((r.status, r.code()), (status, code), "{body}: {}", r.text());
    }

    // A room and a projector; then the preferences.
    let room = created(&admin.post("/api/resources", &json!({"name": "Room Fjord", "kind": "room"}))).clone();
    let projector = created(&admin.post("/api/resources", &json!({"name": "Projector", "kind": "equipment"}))).clone();
    let r = admin.post("/api/resources", &json!({"name": "Car", "kind": "vehicle"}));
    assert_eq!((r.status, r.code()), (422, "invalid_kind"));
    let room_id = room["id"].as_str().unwrap().to_owned();
    let r = admin.put(
        "/api/preferences",
        &json!({"incoming": "disable_tentative", "request_reply": false, "synchronizer": false,
            "crm_inbox": "CRM@OurCompany.example"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["crm_inbox"], "crm@ourcompany.example");
    assert_eq!(r.json["incoming"], "disable_tentative");

    // Ben signs in: an empty diary; a follow-up with the room works.
    let (ben, _) = server.sign_in("ben@ourcompany.example", "ben's long passphrase");
    let diary = ben.get(&format!("/api/diary?from={}&until={}", at(-7, 0, 0), at(30, 0, 0)));
    assert_eq!(diary.json, json!([]));
    let r = ben.post(
        "/api/followups",
        &json!({"title": "Kick-off, with coffee; bring slides", "start": at(1, 9, 0), "end": at(1, 10, 0),
            "resources": [room_id]}),
    );
    let followup = created(&r).clone();
    assert!(followup["participants"].as_array().unwrap().iter().any(|p| p["name"] == "Room Fjord"));

    // Rename and retire the projector: no longer offered nor bookable; listed for administrators.
    let pid = projector["id"].as_str().unwrap();
    let r = admin.patch(&format!("/api/resources/{pid}"), &json!({"name": "Projector 2", "active": false}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((r.json["name"].as_str(), r.json["active"].as_bool()), (Some("Projector 2"), Some(false)));
    let names: Vec<String> = ben
        .get("/api/resources")
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Room Fjord"]);
    let r = ben
        .post("/api/followups", &json!({"title": "x", "start": at(2, 9, 0), "end": at(2, 10, 0), "resources": [pid]}));
    assert_eq!(r.status, 422, "a retired resource cannot be booked: {}", r.text());
    let all = admin.get("/api/admin/resources").json;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(admin.patch(&format!("/api/resources/{pid}"), &json!({"active": true})).json["active"], true);
    assert_eq!(admin.patch("/api/resources/unknown", &json!({"name": "x"})).status, 404);

    // Administrators cannot lock themselves out.
    for body in [json!({"active": false}), json!({"role": "user"})] {
        let r = admin.patch(&format!("/api/associates/{admin_id}"), &body);
        assert_eq!((r.status, r.code()), (409, "own_account"), "{body}");
    }
    let list = admin.get("/api/admin/associates").json;
    assert_eq!(list.as_array().unwrap().len(), 3);

    // Disabled mid-session: refused on the next call; cannot sign in; the diary stays.
    assert_eq!(ben.get("/api/me").status, 200);
    let r = admin.patch(&format!("/api/associates/{ben_id}"), &json!({"active": false}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["active"], false);
    assert!(r.json["disabled_at"].is_string());
    assert_eq!(ben.get("/api/me").status, 401, "the token stops working at once");
    let r = server
        .client()
        .post("/api/signin", &json!({"email": "ben@ourcompany.example", "password": "ben's long passphrase"}));
    assert_eq!((r.status, r.code()), (403, "account_disabled"));
    let r = server.client().post("/api/signin", &json!({"email": "ben@ourcompany.example", "password": "a wrong one"}));
    assert_eq!(r.status, 401, "a wrong password says nothing about the account");
    let fid = followup["id"].as_str().unwrap();
    assert_eq!(admin.get(&format!("/api/followups/{fid}")).json["title"], "Kick-off, with coffee; bring slides");
    assert!(admin.get("/api/associates").json.as_array().unwrap().iter().all(|a| a["id"] != ben_id.as_str()));
    let r = admin.patch(&format!("/api/associates/{ben_id}"), &json!({"active": true, "name": "Ben Holm-Berg"}));
    assert_eq!((r.json["active"].as_bool(), r.json["name"].as_str()), (Some(true), Some("Ben Holm-Berg")));
    let (ben, _) = server.sign_in("ben@ourcompany.example", "ben's long passphrase");

    // A reset by link: the old password and every session stop at once.
    let r = admin.post(&format!("/api/associates/{ben_id}/password-link"), &json!({}));
    let secret = created(&r)["secret"].as_str().unwrap().to_owned();
    assert_eq!(ben.get("/api/me").status, 401);
    let r = server
        .client()
        .post("/api/signin", &json!({"email": "ben@ourcompany.example", "password": "ben's long passphrase"}));
    assert_eq!(r.status, 401);
    assert_eq!(
        anon.post(&format!("/api/password-links/{secret}"), &json!({"new_password": "ben starts over"})).status,
        204
    );
    let (ben, _) = server.sign_in("ben@ourcompany.example", "ben starts over");
    // A reset with a password (an administrator's) ends the sessions too.
    assert_eq!(admin.put(&format!("/api/associates/{ben_id}/password"), &json!({"new_password": STRONG})).status, 204);
    assert_eq!(ben.get("/api/me").status, 401);
    assert_eq!(admin.post("/api/associates/unknown/password-link", &json!({})).status, 404);
    assert_eq!(admin.patch("/api/associates/unknown", &json!({"name": "x"})).status, 404);
}

/// The feed of `client`'s user: its path.
fn new_feed(client: &Client) -> String {
    let r = client.post("/api/me/feed", &json!({}));
    created(&r)["path"].as_str().unwrap().to_owned()
}

const SERIES: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n\
BEGIN:VTIMEZONE\r\nTZID:Europe/Oslo\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\n\
TZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:weekly-feed@acme.example\r\n\
DTSTAMP:20291201T120000Z\r\nDTSTART;TZID=Europe/Oslo:20300107T090000\r\nDTEND;TZID=Europe/Oslo:20300107T100000\r\n\
RRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:Weekly with Bob\r\nORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ben@ourcompany.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

const SINGLE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
UID:single-feed@acme.example\r\nDTSTAMP:20291201T120000Z\r\nDTSTART:20300110T100000Z\r\nDTEND:20300110T110000Z\r\n\
SUMMARY:Lunch with Bob\r\nORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ben@ourcompany.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

#[test]
fn the_calendar_feed_serves_the_diary_until_revoked() {
    let (server, _db) = TestServer::demo("admin-feed");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (cara, cara_id) = server.sign_in(CARA.0, CARA.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    assert_eq!(ben.get("/api/me/feed").json["active"], false);
    let path = new_feed(&ben);
    assert!(path.starts_with("/feeds/") && path.ends_with(".ics") && path.len() == "/feeds/.ics".len() + 64, "{path}");
    let status = ben.get("/api/me/feed").json;
    assert_eq!(status["active"], true);
    assert!(status.get("path").is_none(), "the URL is shown once only");

    // A follow-up of Ben's, with a title to escape; Cara's that Ben accepted; a series in a zone.
    let r = ben.post(
        "/api/followups",
        &json!({"title": "Pricing, round 2; final", "location": "Room Fjord", "start": at(1, 9, 0), "end": at(1, 10, 0)}),
    );
    created(&r);
    let r = cara.post(
        "/api/followups",
        &json!({"title": "Cara's workshop", "start": at(2, 13, 0), "end": at(2, 14, 0),
            "associates": [ben.get("/api/me").json["id"]]}),
    );
    let inv = created(&r)["participants"].as_array().unwrap().iter().find(|p| p["name"] == "Ben Holm").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = cara.post(
        "/api/followups",
        &json!({"title": "Not yet answered", "start": at(3, 13, 0), "end": at(3, 14, 0),
            "associates": [ben.get("/api/me").json["id"]]}),
    );
    created(&r);
    let _ = cara_id;
    assert_eq!(ben.post(&format!("/api/invitations/{inv}/accept"), &json!({})).status, 200);
    // The series is created on Accept all; a single invitation from a
    // contact arrives as a tentative appointment.
    let r =
        ben.post("/api/inbox/actions", &json!({"message": SERIES, "action": {"type": "accept_all", "notify": false}}));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = ben.post_raw("/api/inbox", "text/calendar", SINGLE.as_bytes());
    assert!(r.json["appointment_id"].is_string(), "{}", r.text());

    let anon = server.client();
    let feed = anon.get(&path);
    assert_eq!(feed.status, 200, "{}", feed.text());
    assert_eq!(feed.header("content-type"), Some("text/calendar; charset=utf-8"));
    let body = feed.text();
    assert!(body.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"), "{body}");
    assert!(body.ends_with("END:VCALENDAR\r\n"));
    assert!(body.contains("REFRESH-INTERVAL;VALUE=DURATION:PT30M\r\n"), "{body}");
    assert!(body.contains("X-PUBLISHED-TTL:PT30M\r\n"));
    assert!(body.contains("SUMMARY:Pricing\\, round 2\\; final\r\n"), "{body}");
    assert!(body.contains("LOCATION:Room Fjord\r\n"));
    assert!(body.contains("SUMMARY:Cara's workshop\r\n"), "an accepted invitation is in the feed");
    assert!(!body.contains("Not yet answered"), "an unanswered invitation is not");
    // The series keeps its rule and its zone, with the zone's definition.
    assert!(body.contains("RRULE:FREQ=WEEKLY;COUNT=6\r\n"), "{body}");
    assert!(body.contains("DTSTART;TZID=Europe/Oslo:20300107T090000\r\n"), "{body}");
    assert!(body.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Oslo\r\n"), "{body}");
    // It reads back as iCalendar, every line within 75 octets; each event with its status.
    let parsed = invitelink::ical::parse_calendar(&body, &invitelink::ical::ParseOptions::default()).unwrap();
    let event = |summary: &str| {
        parsed
            .components
            .iter()
            .find(|c| c.is("VEVENT") && c.value("SUMMARY") == Some(summary))
            .unwrap_or_else(|| panic!("{summary} in {body}"))
            .clone()
    };
    let series = event("Weekly with Bob");
    assert_eq!(series.value("RRULE"), Some("FREQ=WEEKLY;COUNT=6"));
    assert_eq!(series.value("STATUS"), Some("CONFIRMED"));
    assert_eq!(event("Lunch with Bob").value("STATUS"), Some("TENTATIVE"));
    assert_eq!(event("Cara's workshop").value("STATUS"), Some("CONFIRMED"));
    assert_eq!(event("Pricing\\, round 2\\; final").value("DTSTART"), Some(&*at(1, 9, 0).replace(['-', ':'], "")));
    assert!(body.split("\r\n").all(|l| l.len() <= 75));

    // Conditional GET.
    let etag = feed.header("etag").unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    let again = anon.request_with("GET", &path, None, b"", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(anon.request_with("GET", &path, None, b"", &[("If-None-Match", "\"other\"")]).status, 200);
    let r = ben.post("/api/followups", &json!({"title": "Later", "start": at(4, 9, 0), "end": at(4, 10, 0)}));
    created(&r);
    let changed = anon.request_with("GET", &path, None, b"", &[("If-None-Match", &etag)]);
    assert_eq!(changed.status, 200, "a change gives a new ETag");
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    assert!(ben.get("/api/me/feed").json["last_fetched_at"].is_string());

    // A new feed replaces the old; revoking ends it at once; others' feeds are theirs.
    let cara_path = new_feed(&cara);
    assert!(!anon.get(&cara_path).text().contains("round 2"), "Cara's feed holds Cara's diary");
    let replaced = new_feed(&ben);
    assert_eq!(anon.get(&path).status, 404);
    assert_eq!(anon.get(&replaced).status, 200);
    assert_eq!(ben.delete("/api/me/feed").status, 204);
    assert_eq!(anon.get(&replaced).status, 404);
    assert_eq!(ben.get("/api/me/feed").json["active"], false);
    assert_eq!(anon.get("/feeds/not-a-feed.ics").status, 404);
    assert_eq!(anon.get(&format!("/feeds/{}.ics", "0".repeat(64))).status, 404);
    // A disabled associate's feed stops too.
    let cara_id = cara.get("/api/me").json["id"].as_str().unwrap().to_owned();
    assert_eq!(anon.get(&cara_path).status, 200);
    assert_eq!(ada.patch(&format!("/api/associates/{cara_id}"), &json!({"active": false})).status, 200);
    assert_eq!(anon.get(&cara_path).status, 404);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn mail_status_shows_failing_inboxes_and_failed_messages_are_retried() {
    use invitelink_server::mail::{AuthSettings, Credential, InboxConfig, MailConfig, Mark, Secret, SmtpConfig, Tls};
    let inbox = InboxConfig {
        name: "crm".to_owned(),
        address: "crm@ourcompany.example".to_owned(),
        host: "127.0.0.1".to_owned(),
        port: free_port(),
        tls: Tls::None,
        user: "crm".to_owned(),
        credential: Credential::Password(Secret::new("secret-never-shown")),
        ca_file: None,
        folder: "INBOX".to_owned(),
        processed_folder: "done".to_owned(),
        rejected_folder: "rejected".to_owned(),
        mark: Mark::Move,
        batch: 10,
        max_message_bytes: 1024 * 1024,
        max_attempts: 3,
        authentication: AuthSettings::default(),
    };
    let smtp = SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: free_port(),
        tls: Tls::None,
        user: None,
        password: None,
        ca_file: None,
        hello_name: None,
        timeout: Duration::from_secs(2),
    };
    let mail = MailConfig {
        poll_interval: Duration::from_secs(1),
        smtp: Some(smtp),
        inboxes: vec![inbox],
        ..MailConfig::default()
    };
    let db = TestDb::new("admin-mail");
    let server = TestServer::start_on_with_mail(&db, true, mail);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    assert_eq!(ben.get("/api/admin/mail").status, 403);
    let bob = id_where(&ben.get("/api/persons?q=bob").json, "name", "Bob Berg");
    let r = ben
        .post("/api/followups", &json!({"title": "Mail", "start": at(1, 9, 0), "end": at(1, 10, 0), "persons": [bob]}));
    let message = created(&r)["outbox"][0]["id"].as_str().unwrap().to_owned();

    // The poller cannot reach its server, nor the sender its: both show.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let s = ada.get("/api/admin/mail");
        assert_eq!(s.status, 200, "{}", s.text());
        let inbox_failed = s.json["inboxes"][0]["last_error"].is_string();
        let sent_failed = s.json["failed"].as_array().unwrap().iter().any(|m| m["id"] == message.as_str());
        if inbox_failed && sent_failed {
            break s.json;
        }
        assert!(Instant::now() < deadline, "no failure recorded: {}", s.json);
        std::thread::sleep(Duration::from_millis(300));
    };
    let inbox = &status["inboxes"][0];
    assert_eq!(inbox["name"], "crm");
    assert_eq!(inbox["address"], "crm@ourcompany.example");
    assert!(inbox["last_poll_at"].is_string());
    assert!(inbox["last_success_at"].is_null());
    assert!(!serde_json::to_string(&status).unwrap().contains("secret-never-shown"));
    assert!(status["smtp"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(status["outbox"]["failed"].as_i64().unwrap() >= 1);
    let failed = status["failed"].as_array().unwrap().iter().find(|m| m["id"] == message.as_str()).unwrap();
    assert!(failed["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{failed}");
    assert!(failed["attempts"].as_i64().unwrap() >= 1);

    // Retry: queued again at once, its attempts counted anew.
    let r = ben.post(&format!("/api/outbox/{message}/retry"), &json!({}));
    assert_eq!(r.status, 403);
    let r = ada.post(&format!("/api/outbox/{message}/retry"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((r.json["status"].as_str(), r.json["attempts"].as_i64()), (Some("queued"), Some(0)));
    assert!(r.json["retry_at"].is_null());
    assert_eq!(ada.post("/api/outbox/unknown/retry", &json!({})).status, 404);
}
