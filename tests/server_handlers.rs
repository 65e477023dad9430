#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The API's handlers called in-process through the router
//! (`app(state).oneshot(request)`): no socket and no server thread, the real
//! store (a SQLite file, or PostgreSQL when `INVITELINK_TEST_DATABASE` names
//! one). The real server on loopback keeps its own tests (`server_*.rs`).

#[path = "server_support/mod.rs"]
mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use invitelink_server::mail::Authenticator;
use invitelink_server::{AppState, app, demo, store::Store};
use serde_json::{Value, json};
use support::{ADA, BEN, CARA, TestDb, temp_dir};
use tower::ServiceExt;

/// Runs `test` with a router on a fresh, seeded store named `name`. The
/// database is made and dropped outside the test's runtime (on PostgreSQL
/// that takes a runtime of its own).
fn with_router<F, Fut>(name: &str, test: F)
where
    F: FnOnce(Router, Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = TestDb::new(name);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let store = Store::open(db.url()).await.unwrap();
        demo::seed(&store).await.unwrap();
        let state = AppState::new(store.clone(), temp_dir(name), Authenticator::off(), None);
        test(app(state), store.clone()).await;
        store.close().await;
    });
    drop(runtime);
    drop(db);
}

/// Sends `request` and returns the status and the JSON body (`Null` when
/// the body is not JSON).
async fn send(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn get(uri: &str, token: &str) -> Request<Body> {
    Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()
}

fn post(uri: &str, token: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

async fn sign_in(app: &Router, (email, password): (&str, &str)) -> String {
    let body = json!({"email": email, "password": password}).to_string();
    let request =
        Request::post("/api/signin").header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).unwrap();
    let (status, json) = send(app, request).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    json["token"].as_str().unwrap().to_owned()
}

/// An invitation from Bob (a known contact) to Cara.
fn invitation(uid: &str) -> String {
    format!(
        "From: Bob Berg <bob@acme.example>\r\nTo: cara@ourcompany.example\r\nMessage-ID: <{uid}>\r\nSubject: Review\r\n\
         Content-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n\
         METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:0\r\nDTSTAMP:20291201T080000Z\r\n\
         DTSTART:20300110T090000Z\r\nDTEND:20300110T100000Z\r\nSUMMARY:Quarterly review\r\n\
         ORGANIZER;CN=Bob Berg:mailto:bob@acme.example\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:cara@ourcompany.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[test]
fn an_invitation_delivered_through_the_router_lands_in_the_diary_once() {
    with_router("handlers-inbox", |app, _store| async move {
        let cara = sign_in(&app, CARA).await;
        let message = invitation("handlers-1@acme.example");
        let (status, first) = send(&app, post("/api/inbox", &cara, "message/rfc822", message.clone())).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(first["decision"]["kind"], "invitation");
        assert_eq!(first["duplicate"], false);
        let id = first["appointment_id"].as_str().unwrap().to_owned();

        let (status, again) = send(&app, post("/api/inbox", &cara, "message/rfc822", message)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((again["duplicate"].clone(), again["appointment_id"].clone()), (json!(true), json!(id)));

        let (status, diary) =
            send(&app, get("/api/diary?from=2030-01-01T00:00:00Z&until=2030-02-01T00:00:00Z", &cara)).await;
        assert_eq!(status, StatusCode::OK);
        let entries: Vec<&Value> =
            diary.as_array().unwrap().iter().filter(|e| e["appointment_id"] == id.as_str()).collect();
        assert_eq!(entries.len(), 1, "{diary}");
        assert_eq!(entries[0]["title"], "Quarterly review");
    });
}

#[test]
fn the_inbox_answers_by_kind_forbidden_invalid_unauthorized_and_a_failed_store_hides_its_detail() {
    with_router("handlers-errors", |app, store| async move {
        let ben = sign_in(&app, BEN).await;
        let ada = sign_in(&app, ADA).await;
        let message = invitation("handlers-2@acme.example");

        // Another user's mailbox: only an administrator may deliver there.
        let uri = "/api/inbox?mailbox=cara@ourcompany.example";
        let (status, body) = send(&app, post(uri, &ben, "message/rfc822", message.clone())).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{body}");
        // An address that is no associate's nor the CRM inbox, even for an administrator.
        let uri = "/api/inbox?mailbox=nobody@elsewhere.example";
        let (status, body) = send(&app, post(uri, &ada, "message/rfc822", message.clone())).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_input")));
        // A calendar the engine cannot read: its code, with the line.
        let broken = message.replace("END:VEVENT\r\n", "");
        let (status, body) = send(&app, post("/api/inbox", &ben, "message/rfc822", broken)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("parse_error")));
        // No token.
        let request = Request::post("/api/inbox").body(Body::from(message.clone())).unwrap();
        assert_eq!(send(&app, request).await.0, StatusCode::UNAUTHORIZED);

        // The database goes away: a 500 that says nothing of it.
        store.close().await;
        let (status, body) = send(&app, post("/api/inbox", &ben, "message/rfc822", message)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert_eq!(body["error"]["message"], "internal error");
        assert!(!body.to_string().to_lowercase().contains("pool"), "{body}");
    });
}

#[test]
fn a_follow_up_that_does_not_exist_is_not_found_and_unknown_routes_answer_json() {
    with_router("handlers-missing", |app, _store| async move {
        let cara = sign_in(&app, CARA).await;
        let (status, body) = send(&app, get("/api/followups/no-such-id", &cara)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("no-such-id"));
        let (status, body) = send(&app, get("/api/no-such-route", &cara)).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    });
}
