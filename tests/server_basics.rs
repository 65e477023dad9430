#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The backend's basics: health, sign-in, errors, the OpenAPI document, the
//! body limit, static files, and a restart on the same database file.

#[path = "server_support/mod.rs"]
mod support;

use serde_json::json;
use support::*;

const INVITE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
UID:restart-1@acme.example\r\nDTSTAMP:20291201T120000Z\r\nDTSTART:20300110T100000Z\r\nDTEND:20300110T110000Z\r\n\
SUMMARY:Before the restart\r\nORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ben@ourcompany.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

#[test]
fn health_sign_in_errors_and_openapi() {
    let (server, _db) = TestServer::demo("basics");
    let anon = server.client();

    let r = anon.get("/health");
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "ok");

    // Missing and wrong tokens.
    let r = anon.get("/api/me");
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "unauthorized");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(anon.with_token(Some("nope")).get("/api/me").status, 401);

    // Wrong password, then the right one.
    let r = anon.post("/api/signin", &json!({"email": BEN.0, "password": "wrong"}));
    assert_eq!(r.status, 401);
    let (ben, ben_id) = server.sign_in(BEN.0, BEN.1);
    let r = ben.get("/api/me");
    assert_eq!(r.status, 200);
    assert_eq!(r.json["id"], ben_id.as_str());
    assert_eq!(r.json["role"], "user");

    // Bad JSON is 400 or 422 with a JSON error; unknown routes 404; wrong methods 405.
    let r = ben.post_raw("/api/followups", "application/json", b"{not json");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.code(), "bad_request");
    let r = ben.post("/api/followups", &json!({"title": 5}));
    assert_eq!(r.status, 422, "{}", r.text());
    let r = ben.get("/api/nothing-here");
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
    assert_eq!(ben.delete("/api/me").status, 405);

    // Too large: a JSON error with code too_large.
    let big = vec![b'a'; invitelink_server::MAX_BODY_BYTES + 1024];
    let r = ben.post_raw("/api/inbox", "message/rfc822", &big);
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.code(), "too_large");
    // Over the engine's e-mail limit but under the body limit: the engine says too_large.
    let big = vec![b'a'; 11 * 1024 * 1024];
    let r = ben.post_raw("/api/inbox", "message/rfc822", &big);
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.code(), "too_large");

    // Sign-out forgets the token.
    let (other, _) = server.sign_in(BEN.0, BEN.1);
    assert_eq!(other.post("/api/signout", &json!({})).status, 204);
    assert_eq!(other.get("/api/me").status, 401);
    assert_eq!(ben.get("/api/me").status, 200);
}

/// Every route of the router is described in /openapi.json, and nothing else.
#[test]
fn openapi_covers_every_endpoint() {
    let (server, _db) = TestServer::demo("openapi");
    let r = server.client().get("/openapi.json");
    assert_eq!(r.status, 200);
    let paths = r.json["paths"].as_object().unwrap();
    let expected = [
        ("get", "/health"),
        ("get", "/ready"),
        ("get", "/openapi.json"),
        ("post", "/api/signin"),
        ("post", "/api/signout"),
        ("get", "/api/me"),
        ("put", "/api/me/password"),
        ("post", "/api/signout/all"),
        ("put", "/api/associates/{id}/password"),
        ("post", "/api/associates/{id}/signout"),
        ("get", "/api/associates"),
        ("get", "/api/companies"),
        ("get", "/api/persons"),
        ("post", "/api/persons"),
        ("get", "/api/contacts"),
        ("get", "/api/persons/{id}"),
        ("get", "/api/persons/{id}/activities"),
        ("get", "/api/resources"),
        ("get", "/api/projects"),
        ("get", "/api/sales"),
        // Contacts and companies (server/src/contacts.rs).
        ("post", "/api/companies"),
        ("get", "/api/companies/{id}"),
        ("put", "/api/companies/{id}"),
        ("delete", "/api/companies/{id}"),
        ("put", "/api/persons/{id}"),
        ("delete", "/api/persons/{id}"),
        ("post", "/api/contacts/import/preview"),
        ("post", "/api/contacts/import"),
        ("post", "/api/followups"),
        ("get", "/api/followups/{id}"),
        ("delete", "/api/followups/{id}"),
        ("post", "/api/followups/{id}/reschedule"),
        ("post", "/api/followups/{id}/assign"),
        ("post", "/api/followups/{id}/reassign"),
        ("post", "/api/followups/{id}/participants"),
        ("delete", "/api/followups/{id}/participants/{participant_id}"),
        ("get", "/api/invitations"),
        ("post", "/api/invitations/{id}/seen"),
        ("post", "/api/invitations/{id}/accept"),
        ("post", "/api/invitations/{id}/decline"),
        ("get", "/api/notifications"),
        ("post", "/api/notifications/{id}/got-it"),
        ("get", "/api/diary"),
        ("get", "/api/freebusy"),
        ("get", "/api/first-available"),
        ("get", "/api/preferences"),
        ("put", "/api/preferences"),
        ("get", "/api/settings"),
        ("put", "/api/settings"),
        ("post", "/api/inbox"),
        ("post", "/api/inbox/actions"),
        ("get", "/api/inbox/messages"),
        ("post", "/api/inbox/context"),
        ("get", "/api/calendar"),
        ("post", "/api/archive"),
        ("get", "/api/archive"),
        ("get", "/api/archive/suggestions"),
        ("get", "/api/outbox"),
        ("post", "/api/outbox/{id}/sent"),
        ("post", "/api/outbox/{id}/retry"),
        ("post", "/api/associates"),
        ("patch", "/api/associates/{id}"),
        ("post", "/api/associates/{id}/password-link"),
        ("get", "/api/password-links/{secret}"),
        ("post", "/api/password-links/{secret}"),
        ("get", "/api/admin/associates"),
        ("get", "/api/admin/resources"),
        ("get", "/api/admin/mail"),
        ("post", "/api/resources"),
        ("patch", "/api/resources/{id}"),
        ("get", "/api/me/feed"),
        ("post", "/api/me/feed"),
        ("delete", "/api/me/feed"),
        ("get", "/feeds/{file}"),
    ];
    let mut count = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(expected.contains(&(method.as_str(), path.as_str())), "undocumented route {method} {path}");
            count += 1;
        }
    }
    assert_eq!(count, expected.len(), "documented: {paths:?}");
    // Path parameters are in the path, the others in the query.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let place = if path.contains(&format!("{{{name}}}")) { "path" } else { "query" };
                assert_eq!(p["in"], place, "{method} {path} parameter {name}");
                if place == "query" && name != "from" && name != "until" && name != "addresses" {
                    assert_eq!(p["required"], false, "{method} {path} parameter {name}");
                }
            }
        }
    }
    // And every documented route answers (not the router's 404).
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    for (method, path) in expected {
        let path = path.replace("{id}", "unknown");
        let r = ben.request(&method.to_uppercase(), &path, Some("application/json"), b"{}");
        assert!(
            !(r.status == 404 && r.json["error"]["message"] == "no such endpoint") && r.status != 405,
            "{method} {path}: {} {}",
            r.status,
            r.text()
        );
    }
    assert!(r.json["components"]["securitySchemes"]["bearer"].is_object());
}

/// Without demo data, the first start creates an administrator whose
/// password is shown once; the next start creates nothing.
#[test]
fn first_start_without_demo_creates_an_administrator() {
    let db = TestDb::new("first-admin");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let opts = |demo| invitelink_server::ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db.url().to_owned(),
        demo,
        static_root: repo_root(),
        mail: None,
    };
    let password = rt.block_on(async {
        let server = invitelink_server::bind(&opts(false)).await.unwrap();
        let password = server.first_admin_password.clone().unwrap();
        server.run(async {}).await.unwrap();
        password
    });
    let server = TestServer::start_on(&db, false);
    let (admin, _) = server.sign_in("admin@invitelink.example", &password);
    assert_eq!(admin.get("/api/me").json["role"], "admin");
    assert_eq!(admin.get("/api/associates").json.as_array().unwrap().len(), 1);
    server.stop();
    let again = rt.block_on(async { invitelink_server::bind(&opts(true)).await.unwrap().first_admin_password });
    assert!(again.is_none());
}

#[test]
fn static_files_are_served() {
    let root = support::repo_root();
    let (server, _db) = TestServer::demo("static");
    let r = server.client().get("/addin/does-not-exist.html");
    assert_eq!(r.status, 404);
    // Every file at the top of addin/: served when the allow-list names it
    // (the pane, its style sheet, the help page, the XML manifest), 404 for
    // the rest (README, lint configuration, the unified manifest).
    let files: Vec<String> = std::fs::read_dir(root.join("addin"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for name in &files {
        let r = server.client().get(&format!("/addin/{name}"));
        let public = invitelink_server::static_files::ADDIN_PUBLIC.contains(&name.as_str());
        assert_eq!(r.status, if public { 200 } else { 404 }, "/addin/{name}");
    }
    if !files.is_empty() {
        assert!(files.iter().any(|n| n == "taskpane.html"), "addin/ has no taskpane.html: {files:?}");
    }
}

/// Stop the server, start it again on the same file: everything is still there.
#[test]
fn restart_keeps_the_data() {
    let db = TestDb::new("restart");
    let server = TestServer::start_on(&db, true);
    let (ben, _) = server.sign_in(BEN.0, BEN.1);
    let r =
        ben.post("/api/followups", &json!({"title": "Survives a restart", "start": at(0, 12, 0), "end": at(0, 13, 0)}));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    let token = ben.token.clone();
    // A message applied before the restart.
    let r = ben.post_raw("/api/inbox", "text/calendar", INVITE.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["duplicate"], false);
    let appointment = r.json["appointment_id"].as_str().unwrap().to_owned();
    // SQLite runs in WAL mode.
    if let Some(file) = db.sqlite_file() {
        assert!(file.with_extension("sqlite-wal").exists(), "no WAL file next to the database");
    }
    server.stop();
    if let Some(file) = db.sqlite_file() {
        assert!(std::fs::read(file).unwrap().len() > 100);
    }

    // Started again with --demo: the data is not seeded twice, the token still works.
    let server = TestServer::start_on(&db, true);
    let ben = server.client().with_token(token.as_deref());
    let r = ben.get(&format!("/api/followups/{id}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json["title"], "Survives a restart");
    // The same message after the restart changes nothing.
    let r = ben.post_raw("/api/inbox", "text/calendar", INVITE.as_bytes());
    assert_eq!(r.json["duplicate"], true);
    assert_eq!(r.json["appointment_id"], appointment.as_str());
    let (ada, _) = server.sign_in(ADA.0, ADA.1);
    let r = ada.get("/api/associates");
    assert_eq!(r.json.as_array().unwrap().len(), 4);
    server.stop();
}
