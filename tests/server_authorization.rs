#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The authorization matrix: every endpoint, called anonymously, by another
//! user, by the owner of the thing it touches, and by an administrator.

#[path = "server_support/mod.rs"]
mod support;

use serde_json::{Value, json};
use support::*;

struct World {
    anon: Client,
    ben: Client,
    cara: Client,
    dan: Client,
    ada: Client,
    cara_id: String,
    bob: String,
    fjord: String,
}

impl World {
    /// A follow-up of Ben's with Cara invited: (follow-up id, Cara's invitation id).
    fn followup(&self) -> (String, String) {
        let r = self.ben.post(
            "/api/followups",
            &json!({"title": "Matrix", "start": at(0, 9, 0), "end": at(0, 10, 0), "associates": [self.cara_id]}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let id = r.json["id"].as_str().unwrap().to_owned();
        let inv = r.json["participants"].as_array().unwrap().iter().find(|p| p["name"] == "Cara Dahl").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (id, inv)
    }

    /// A notification of Ben's (Cara declined).
    fn notification(&self) -> String {
        let (id, inv) = self.followup();
        self.cara.post(&format!("/api/invitations/{inv}/decline"), &json!({}));
        let notes = self.ben.get("/api/notifications").json;
        notes.as_array().unwrap().iter().find(|n| n["appointment_id"] == id.as_str()).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

const INVITE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
UID:matrix-1@acme.example\r\nDTSTAMP:20291201T120000Z\r\nDTSTART:20300110T100000Z\r\nDTEND:20300110T110000Z\r\n\
SUMMARY:Matrix invite\r\nORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:cara@ourcompany.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

#[derive(Clone, Copy)]
enum Who {
    Anonymous,
    Other,
    Owner,
    Admin,
}

/// One row: what to call and the status expected for anonymous, another
/// user, the owner and an administrator.
fn check(
    w: &World,
    name: &str,
    expected: [u16; 4],
    call: &dyn Fn(&Client, Who) -> u16,
    owner: &Client,
    other: &Client,
) {
    for (who, want) in [Who::Anonymous, Who::Other, Who::Owner, Who::Admin].into_iter().zip(expected) {
        let client = match who {
            Who::Anonymous => &w.anon,
            Who::Other => other,
            Who::Owner => owner,
            Who::Admin => &w.ada,
        };
        let got = call(client, who);
        let label = match who {
            Who::Anonymous => "anonymous",
            Who::Other => "other user",
            Who::Owner => "owner",
            Who::Admin => "admin",
        };
        assert_eq!(got, want, "{name} as {label}");
    }
}

#[test]
fn every_endpoint_for_every_caller() {
    let (server, _db) = TestServer::demo("authz");
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let (cara, cara_id) = server.sign_in(CARA.0, CARA.1);
    let (dan, _) = server.sign_in(DAN.0, DAN.1);
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let bob = id_where(&ben.get("/api/persons?q=bob").json, "name", "Bob Berg");
    let fjord = id_where(&ben.get("/api/resources").json, "name", "Room Fjord");
    let w = World { anon: server.client(), ben, cara, dan, ada, cara_id, bob, fjord };
    let get = |path: String| move |c: &Client, _: Who| c.get(&path).status;
    let post = |path: String, body: Value| move |c: &Client, _: Who| c.post(&path, &body).status;

    // Readable by every signed-in user.
    for path in [
        "/api/me".to_owned(),
        "/api/associates".to_owned(),
        "/api/companies".to_owned(),
        "/api/persons".to_owned(),
        "/api/contacts".to_owned(),
        format!("/api/persons/{}", w.bob),
        format!("/api/persons/{}/activities", w.bob),
        "/api/resources".to_owned(),
        "/api/projects".to_owned(),
        "/api/sales".to_owned(),
        "/api/invitations".to_owned(),
        "/api/invitations?responses=true".to_owned(),
        "/api/notifications".to_owned(),
        format!("/api/diary?from={}&until={}", at(0, 0, 0), at(7, 0, 0)),
        format!("/api/calendar?from={}&until={}", at(0, 0, 0), at(7, 0, 0)),
        "/api/inbox/messages".to_owned(),
        format!("/api/freebusy?resources={}&from={}&until={}", w.fjord, at(0, 0, 0), at(7, 0, 0)),
        format!("/api/first-available?resources={}&after={}", w.fjord, at(0, 0, 0)),
        "/api/preferences".to_owned(),
        "/api/settings".to_owned(),
        "/api/archive".to_owned(),
        "/api/archive/suggestions?addresses=bob@acme.example".to_owned(),
        "/api/outbox".to_owned(),
    ] {
        check(&w, &path, [401, 200, 200, 200], &get(path.clone()), &w.ben, &w.dan);
    }
    check(&w, "health", [200, 200, 200, 200], &get("/health".to_owned()), &w.ben, &w.dan);
    check(&w, "openapi", [200, 200, 200, 200], &get("/openapi.json".to_owned()), &w.ben, &w.dan);
    check(
        &w,
        "signin",
        [200, 200, 200, 200],
        &post("/api/signin".to_owned(), json!({"email": BEN.0, "password": BEN.1})),
        &w.ben,
        &w.dan,
    );

    check(
        &w,
        "POST persons",
        [401, 201, 201, 201],
        &|c, who| {
            let n = match who {
                Who::Anonymous => 0,
                Who::Other => 1,
                Who::Owner => 2,
                Who::Admin => 3,
            };
            c.post("/api/persons", &json!({"name": "New", "emails": [format!("new{n}@x.example")]})).status
        },
        &w.ben,
        &w.dan,
    );

    // Contacts and companies (server/src/contacts.rs): the directory is the
    // company's, so every user adds and edits persons and companies, whoever
    // entered them ("owner": Ben, who created them); our own company,
    // deleting and importing are an administrator's.
    let made = w.ben.post("/api/persons", &json!({"name": "Matrix Person", "emails": ["matrix@x.example"]}));
    assert_eq!(made.status, 201, "{}", made.text());
    let person = made.json["id"].as_str().unwrap().to_owned();
    let company = w.ben.post("/api/companies", &json!({"name": "Matrix AS", "domain": "matrix.example"}));
    assert_eq!(company.status, 201, "{}", company.text());
    let company = company.json["id"].as_str().unwrap().to_owned();
    let ours = w.ben.get("/api/companies").json.as_array().unwrap().iter().find(|c| c["ours"] == true).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    check(&w, "GET companies/{id}", [401, 200, 200, 200], &get(format!("/api/companies/{company}")), &w.ben, &w.dan);
    check(
        &w,
        "POST companies",
        [401, 201, 201, 201],
        &|c, who| c.post("/api/companies", &json!({"name": format!("Matrix {}", who as u8)})).status,
        &w.ben,
        &w.dan,
    );
    check(
        &w,
        "PUT persons/{id}",
        [401, 200, 200, 200],
        &post_put(
            format!("/api/persons/{person}"),
            json!({"name": "Matrix Person", "emails": ["matrix@x.example", "matrix2@x.example"], "phone": "+47 1"}),
        ),
        &w.ben,
        &w.dan,
    );
    check(
        &w,
        "PUT companies/{id}",
        [401, 200, 200, 200],
        &post_put(format!("/api/companies/{company}"), json!({"name": "Matrix AS", "domain": "matrix.example"})),
        &w.ben,
        &w.dan,
    );
    check(
        &w,
        "PUT companies/{ours}",
        [401, 403, 403, 200],
        &post_put(format!("/api/companies/{ours}"), json!({"name": "Our Company", "domain": "ourcompany.example"})),
        &w.ben,
        &w.dan,
    );
    let file = invitelink::base64::encode(b"Name,E-mail Address\nMatrix Import,matrix-import@x.example\n");
    check(
        &w,
        "POST contacts/import/preview",
        [401, 403, 403, 200],
        &post("/api/contacts/import/preview".to_owned(), json!({"content": file})),
        &w.ben,
        &w.dan,
    );
    check(
        &w,
        "POST contacts/import",
        [401, 403, 403, 200],
        &post("/api/contacts/import".to_owned(), json!({"content": file})),
        &w.ben,
        &w.dan,
    );
    let delete = |path: String| move |c: &Client, _: Who| c.delete(&path).status;
    check(&w, "DELETE persons/{id}", [401, 403, 403, 204], &delete(format!("/api/persons/{person}")), &w.ben, &w.dan);
    check(
        &w,
        "DELETE companies/{id}",
        [401, 403, 403, 204],
        &delete(format!("/api/companies/{company}")),
        &w.ben,
        &w.dan,
    );

    // Own data only: settings change for the caller alone.
    check(
        &w,
        "PUT settings",
        [401, 200, 200, 200],
        &|c, _| c.put("/api/settings", &json!({"import_tentative": true})).status,
        &w.ben,
        &w.dan,
    );
    let s = w.dan.put("/api/settings", &json!({"import_tentative": false})).json;
    assert_eq!(s["import_tentative"], false);
    assert_eq!(w.ben.get("/api/settings").json["import_tentative"], true);

    // System preferences: administrators only.
    check(
        &w,
        "PUT preferences",
        [401, 403, 403, 200],
        &|c, _| c.put("/api/preferences", &json!({"incoming": "enable_all"})).status,
        &w.ben,
        &w.dan,
    );

    // Follow-ups: create (own), read (owner, participants, admin), change (owner).
    check(
        &w,
        "POST followups",
        [401, 201, 201, 201],
        &post("/api/followups".to_owned(), json!({"title": "x", "start": at(0, 9, 0), "end": at(0, 10, 0)})),
        &w.ben,
        &w.dan,
    );
    check(
        &w,
        "POST followups for someone else",
        [401, 403, 403, 201],
        &|c, _| {
            let ben_id = w.ben.get("/api/me").json["id"].as_str().unwrap().to_owned();
            c.post(
                "/api/followups",
                &json!({"owner_id": ben_id, "title": "x", "start": at(0, 9, 0), "end": at(0, 10, 0)}),
            )
            .status
        },
        &w.cara,
        &w.dan,
    );
    let (fid, _) = w.followup();
    check(&w, "GET followup", [401, 403, 200, 200], &get(format!("/api/followups/{fid}")), &w.ben, &w.dan);
    assert_eq!(w.cara.get(&format!("/api/followups/{fid}")).status, 200, "an invitee sees the follow-up");
    assert_eq!(w.ben.get("/api/followups/unknown").status, 404);
    let body = json!({"start": at(1, 9, 0), "end": at(1, 10, 0)});
    check(
        &w,
        "reschedule",
        [401, 403, 200, 403],
        &|c, _| c.post(&format!("/api/followups/{}/reschedule", w.followup().0), &body).status,
        &w.ben,
        &w.dan,
    );
    check(
        &w,
        "delete followup",
        [401, 403, 200, 403],
        &|c, _| c.delete(&format!("/api/followups/{}", w.followup().0)).status,
        &w.ben,
        &w.dan,
    );
    let dan_id = w.dan.get("/api/me").json["id"].as_str().unwrap().to_owned();
    check(
        &w,
        "assign",
        [401, 403, 200, 403],
        &|c, _| c.post(&format!("/api/followups/{}/assign", w.followup().0), &json!({"associate_id": dan_id})).status,
        &w.ben,
        &w.cara,
    );
    check(
        &w,
        "reassign without a declined assignment",
        [401, 403, 409, 403],
        &|c, _| c.post(&format!("/api/followups/{}/reassign", w.followup().0), &json!({"associate_id": dan_id})).status,
        &w.ben,
        &w.dan,
    );
    assert_eq!(w.ben.post("/api/followups/unknown/reschedule", &body).status, 404);
    let bob = w.bob.clone();
    check(
        &w,
        "add participants",
        [401, 403, 200, 403],
        &|c, _| c.post(&format!("/api/followups/{}/participants", w.followup().0), &json!({"persons": [bob]})).status,
        &w.ben,
        &w.cara,
    );
    check(
        &w,
        "remove a participant",
        [401, 403, 200, 403],
        &|c, _| {
            let (fid, inv) = w.followup();
            c.delete(&format!("/api/followups/{fid}/participants/{inv}")).status
        },
        &w.ben,
        &w.cara,
    );
    assert_eq!(w.ben.post("/api/followups/unknown/participants", &json!({})).status, 404);
    assert_eq!(w.ben.delete(&format!("/api/followups/{fid}/participants/unknown")).status, 404);

    // Invitations: only the invited associate answers.
    for action in ["seen", "accept", "decline"] {
        check(
            &w,
            &format!("invitation {action}"),
            [401, 403, 200, 403],
            &|c, _| c.post(&format!("/api/invitations/{}/{action}", w.followup().1), &json!({})).status,
            &w.cara,
            &w.dan,
        );
        assert_eq!(w.cara.post(&format!("/api/invitations/unknown/{action}"), &json!({})).status, 404);
    }

    // Notifications: only their associate presses Got it.
    check(
        &w,
        "got it",
        [401, 403, 200, 403],
        &|c, _| c.post(&format!("/api/notifications/{}/got-it", w.notification()), &json!({})).status,
        &w.ben,
        &w.dan,
    );
    assert_eq!(w.ben.post("/api/notifications/unknown/got-it", &json!({})).status, 404);

    // Inbox: one's own mailbox; administrators for any mailbox.
    check(
        &w,
        "inbox to Cara's mailbox",
        [401, 403, 200, 200],
        &|c, _| c.post_raw("/api/inbox?mailbox=cara@ourcompany.example", "text/calendar", INVITE.as_bytes()).status,
        &w.cara,
        &w.dan,
    );
    check(
        &w,
        "inbox action for Cara's mailbox",
        [401, 403, 200, 200],
        &|c, _| {
            c.post(
                "/api/inbox/actions",
                &json!({"message": INVITE, "mailbox": "cara@ourcompany.example", "action": {"type": "tentative", "notify": false}}),
            )
            .status
        },
        &w.cara,
        &w.dan,
    );

    // The received e-mails of Cara's mailbox (the web client's Inbox page),
    // and the engine's context for a message in it: hers and administrators'.
    check(
        &w,
        "received e-mails of Cara's mailbox",
        [401, 403, 200, 200],
        &|c, _| c.get("/api/inbox/messages?mailbox=cara@ourcompany.example").status,
        &w.cara,
        &w.dan,
    );
    let received = w.cara.get("/api/inbox/messages").json;
    assert!(
        received.as_array().unwrap().iter().any(|m| m["subject"] == "" && m["raw"] == INVITE),
        "a delivered message is kept for the inbox page: {received}"
    );
    assert!(w.dan.get("/api/inbox/messages").json.as_array().unwrap().is_empty(), "nobody sees another's mail");
    check(
        &w,
        "engine context for Cara's mailbox",
        [401, 403, 200, 200],
        &post("/api/inbox/context".to_owned(), json!({"message": INVITE, "mailbox": "cara@ourcompany.example"})),
        &w.cara,
        &w.dan,
    );
    let context = w.cara.post("/api/inbox/context", &json!({"message": INVITE})).json;
    assert_eq!(context["mailbox"], "cara@ourcompany.example");
    assert!(context["existing"].as_str().unwrap().contains("matrix-1@acme.example"), "{context}");
    assert_eq!(context["contacts"][0]["email"], "bob@acme.example");

    // Archive and the outbox.
    check(
        &w,
        "archive",
        [401, 201, 201, 201],
        &post("/api/archive".to_owned(), json!({"message": "From: a@b.example\r\nSubject: hi\r\n\r\nhello"})),
        &w.ben,
        &w.dan,
    );
    let mid = {
        let r = w.ben.post(
            "/api/followups",
            &json!({"title": "m", "start": at(0, 9, 0), "end": at(0, 10, 0), "persons": [w.bob]}),
        );
        r.json["outbox"][0]["id"].as_str().unwrap().to_owned()
    };
    check(&w, "outbox sent", [401, 403, 403, 200], &post(format!("/api/outbox/{mid}/sent"), json!({})), &w.ben, &w.dan);
    assert_eq!(w.ada.post("/api/outbox/unknown/sent", &json!({})).status, 404);

    // Administration: administrators only. The "owner" of an associate's
    // record is that associate (Eve, made here), who may not change it either.
    for path in ["/api/admin/associates", "/api/admin/resources", "/api/admin/mail"] {
        check(&w, path, [401, 403, 403, 200], &get(path.to_owned()), &w.ben, &w.dan);
    }
    check(
        &w,
        "POST associates",
        [401, 403, 403, 201],
        &|c, who| {
            let n = who as u8;
            c.post("/api/associates", &json!({"name": "New", "email": format!("new{n}@ourcompany.example")})).status
        },
        &w.ben,
        &w.dan,
    );
    let r = w.ada.post(
        "/api/associates",
        &json!({"name": "Eve Ek", "email": "eve@ourcompany.example", "password": "eve's own passphrase"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let eve_id = r.json["associate"]["id"].as_str().unwrap().to_owned();
    let sign_in_eve = || {
        let r =
            w.anon.post("/api/signin", &json!({"email": "eve@ourcompany.example", "password": "eve's own passphrase"}));
        assert_eq!(r.status, 200, "{}", r.text());
        w.anon.with_token(r.json["token"].as_str())
    };
    let eve = sign_in_eve();
    check(
        &w,
        "PATCH associates/{id}",
        [401, 403, 403, 200],
        &|c, _| c.patch(&format!("/api/associates/{eve_id}"), &json!({"name": "Eve Ek", "role": "user"})).status,
        &eve,
        &w.dan,
    );
    // Disabled mid-session: refused on the next call.
    assert_eq!(eve.get("/api/me").status, 200);
    assert_eq!(w.ada.patch(&format!("/api/associates/{eve_id}"), &json!({"active": false})).status, 200);
    assert_eq!(eve.get("/api/me").status, 401);
    assert_eq!(w.ada.patch(&format!("/api/associates/{eve_id}"), &json!({"active": true})).status, 200);
    let eve = sign_in_eve();
    check(
        &w,
        "POST associates/{id}/password-link",
        [401, 403, 403, 201],
        &post(format!("/api/associates/{eve_id}/password-link"), json!({})),
        &eve,
        &w.dan,
    );
    // The link is the credential: anyone holding it may use it, once.
    let link = || {
        let r = w.ada.post(&format!("/api/associates/{eve_id}/password-link"), &json!({}));
        r.json["secret"].as_str().unwrap().to_owned()
    };
    check(
        &w,
        "GET password-links/{secret}",
        [200, 200, 200, 200],
        &|c, _| c.get(&format!("/api/password-links/{}", link())).status,
        &w.ben,
        &w.dan,
    );
    check(
        &w,
        "POST password-links/{secret}",
        [204, 204, 204, 204],
        &|c, _| {
            c.post(&format!("/api/password-links/{}", link()), &json!({"new_password": "eve's own passphrase"})).status
        },
        &w.ben,
        &w.dan,
    );
    check(
        &w,
        "POST resources",
        [401, 403, 403, 201],
        &post("/api/resources".to_owned(), json!({"name": "Projector", "kind": "equipment"})),
        &w.ben,
        &w.dan,
    );
    check(
        &w,
        "PATCH resources/{id}",
        [401, 403, 403, 200],
        &|c, _| c.patch(&format!("/api/resources/{}", w.fjord), &json!({"name": "Room Fjord"})).status,
        &w.ben,
        &w.dan,
    );
    // The message is sent (above): retrying it is refused, to administrators with 409.
    check(
        &w,
        "outbox retry",
        [401, 403, 403, 409],
        &post(format!("/api/outbox/{mid}/retry"), json!({})),
        &w.ben,
        &w.dan,
    );
    assert_eq!(w.ada.post(&format!("/api/outbox/{mid}/retry"), &json!({})).code(), "not_failed");

    // The calendar feed: each user their own; the feed's URL is the credential.
    check(&w, "GET me/feed", [401, 200, 200, 200], &get("/api/me/feed".to_owned()), &w.ben, &w.dan);
    check(&w, "POST me/feed", [401, 201, 201, 201], &post("/api/me/feed".to_owned(), json!({})), &w.ben, &w.dan);
    check(&w, "DELETE me/feed", [401, 204, 204, 204], &|c, _| c.delete("/api/me/feed").status, &w.ben, &w.dan);
    let feed = w.ben.post("/api/me/feed", &json!({})).json["path"].as_str().unwrap().to_owned();
    check(&w, "GET feeds/{secret}", [200, 200, 200, 200], &get(feed.clone()), &w.ben, &w.dan);
    assert_eq!(w.dan.delete("/api/me/feed").status, 204);
    assert_eq!(w.anon.get(&feed).status, 200, "revoking one's own feed leaves the others'");
    assert_eq!(w.ben.delete("/api/me/feed").status, 204);
    check(&w, "GET revoked feed", [404, 404, 404, 404], &get(feed.clone()), &w.ben, &w.dan);

    // A user's lists never show another user's things.
    let (fid, _) = w.followup();
    for c in [&w.dan, &w.ada] {
        let list = c.get("/api/invitations").json;
        assert!(list.as_array().unwrap().iter().all(|i| i["appointment"]["id"] != fid.as_str()));
        let outbox = c.get("/api/outbox").json;
        let _ = outbox;
    }
    let dan_outbox = w.dan.get("/api/outbox").json;
    assert!(dan_outbox.as_array().unwrap().iter().all(|m| m["sender"] != "ben@ourcompany.example"));

    // A person's Activities: another user's appointment as the group view
    // shows it (busy, no title) unless the caller owns it, takes part in it
    // or is an administrator; archived items for who archived them and
    // administrators.
    let r = w.ben.post(
        "/api/followups",
        &json!({"title": "Secret pricing talk", "start": at(2, 9, 0), "end": at(2, 10, 0),
            "associates": [w.cara_id], "person_id": w.bob}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let secret = r.json["id"].as_str().unwrap().to_owned();
    let r = w.ben.post(
        "/api/archive",
        &json!({"message": "From: bob@acme.example\r\nSubject: Confidential offer\r\n\r\nhello",
            "links": [{"kind": "person", "id": w.bob}]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let archived = r.json["id"].as_str().unwrap().to_owned();
    let activities = |c: &Client| {
        let r = c.get(&format!("/api/persons/{}/activities", w.bob));
        assert_eq!(r.status, 200, "{}", r.text());
        r.json.as_array().unwrap().clone()
    };
    let find = |list: &[Value], id: &str| list.iter().find(|a| a["id"] == id).cloned();
    for (who, c, sees_title, sees_archive) in [
        ("owner", &w.ben, true, true),
        ("attendee", &w.cara, true, false),
        ("another user", &w.dan, false, false),
        ("administrator", &w.ada, true, true),
    ] {
        let list = activities(c);
        let a = find(&list, &secret).unwrap_or_else(|| panic!("{who}: the appointment is listed"));
        if sees_title {
            assert_eq!(a["title"], "Secret pricing talk", "{who}");
            assert_eq!(a["private"], false, "{who}");
        } else {
            assert_eq!(a["title"], "", "{who}");
            assert_eq!(a["status"], "busy", "{who}");
            assert_eq!(a["private"], true, "{who}");
            assert!(!serde_json::to_string(&list).unwrap().contains("Secret"), "{who}");
        }
        assert_eq!(find(&list, &archived).is_some(), sees_archive, "{who}: the archived e-mail");
        if !sees_archive {
            assert!(!serde_json::to_string(&list).unwrap().contains("Confidential"), "{who}");
        }
    }
    assert_eq!(w.anon.get(&format!("/api/persons/{}/activities", w.bob)).status, 401);

    check(
        &w,
        "signout",
        [401, 204, 204, 204],
        &|c, _| {
            // A fresh token per call, so the others stay signed in.
            match c.token {
                None => c.post("/api/signout", &json!({})).status,
                Some(_) => {
                    let me = c.get("/api/me").json;
                    let email = me["email"].as_str().unwrap().to_owned();
                    let password = [ADA, BEN, CARA, DAN].iter().find(|u| u.0 == email).unwrap().1;
                    let r = w.anon.post("/api/signin", &json!({"email": email, "password": password}));
                    let fresh = w.anon.with_token(r.json["token"].as_str());
                    fresh.post("/api/signout", &json!({})).status
                }
            }
        },
        &w.ben,
        &w.dan,
    );

    // Accounts. A weak new password gets as far as the password check, and
    // changes nothing.
    check(
        &w,
        "PUT me/password",
        [401, 422, 422, 422],
        &|c, _| {
            let email = c.get("/api/me").json["email"].as_str().unwrap_or_default().to_owned();
            let current = [ADA, BEN, CARA, DAN].iter().find(|u| u.0 == email).map_or("x", |u| u.1);
            c.put("/api/me/password", &json!({"current_password": current, "new_password": "short"})).status
        },
        &w.ben,
        &w.dan,
    );
    // Administrators set another user's password (the owner here is Cara
    // herself, who must use PUT /api/me/password) and sign users out.
    let ben_id = w.ben.get("/api/me").json["id"].as_str().unwrap().to_owned();
    let new_password = json!({"new_password": "a long and unusual passphrase"});
    check(
        &w,
        "PUT associates/{id}/password",
        [401, 403, 403, 204],
        &post_put(format!("/api/associates/{}/password", w.cara_id), new_password.clone()),
        &w.cara,
        &w.dan,
    );
    assert_eq!(w.cara.get("/api/me").status, 401, "a reset ends the user's sessions");
    let (cara, _) = {
        let anon = w.anon.clone();
        let r = anon.post("/api/signin", &json!({"email": CARA.0, "password": "a long and unusual passphrase"}));
        assert_eq!(r.status, 200, "{}", r.text());
        (anon.with_token(r.json["token"].as_str()), ())
    };
    check(
        &w,
        "POST associates/{id}/signout",
        [401, 403, 403, 204],
        &post(format!("/api/associates/{ben_id}/signout"), json!({})),
        &w.ben,
        &cara,
    );
    assert_eq!(w.ben.get("/api/me").status, 401, "signed out by an administrator");
    assert_eq!(cara.get("/api/me").status, 200);
    // Everyone signs themselves out everywhere (last: it ends their sessions).
    check(
        &w,
        "POST signout/all",
        [401, 204, 204, 204],
        &|c, _| c.post("/api/signout/all", &json!({})).status,
        &cara,
        &w.dan,
    );
    assert_eq!(w.dan.get("/api/me").status, 401);
    assert_eq!(cara.get("/api/me").status, 401);
    assert_eq!(w.ada.get("/api/me").status, 401);
}

/// A PUT with a JSON body, as a matrix call.
fn post_put(path: String, body: Value) -> impl Fn(&Client, Who) -> u16 {
    move |c: &Client, _: Who| c.put(&path, &body).status
}
