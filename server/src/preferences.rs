//! System preferences (administrators change them) and each user's own
//! settings (SPEC 3.3).

use super::AppState;
use super::auth::CurrentUser;
use super::error::{ApiError, ApiResult, Json};
use super::store;
use axum::extract::State;
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

/// The preferences as stored, for the other handlers.
pub use super::store::preferences::{load, load_user};
use utoipa::ToSchema;

/// "Manage incoming invitations" (SPEC 3.3): the engine's own type.
pub use invitelink::policy::Incoming;

/// The system preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Preferences {
    /// "Manage incoming invitations" (default `enable_all`).
    pub incoming: Incoming,
    /// "Include request for reply in outgoing e-mail invitations" (default true).
    pub request_reply: bool,
    /// "Synchronizer active" for every user (default false).
    pub synchronizer: bool,
    /// The CRM inbox address: `Reply-To` of outgoing invitations, and the
    /// mailbox whose replies apply to any follow-up organized in the CRM.
    pub crm_inbox: String,
    /// Start of working hours, `HH:MM` (default `08:00`), for first available.
    pub working_hours_start: String,
    /// End of working hours, `HH:MM` (default `16:00`).
    pub working_hours_end: String,
    /// IANA time zone of the working hours (default `UTC`).
    pub time_zone: String,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            incoming: Incoming::EnableAll,
            request_reply: true,
            synchronizer: false,
            crm_inbox: "crm@invitelink.example".to_owned(),
            working_hours_start: "08:00".to_owned(),
            working_hours_end: "16:00".to_owned(),
            time_zone: "UTC".to_owned(),
        }
    }
}

/// A change to the system preferences: fields left out keep their value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PreferencesChange {
    /// See [`Preferences`].
    pub incoming: Option<Incoming>,
    /// See [`Preferences`].
    pub request_reply: Option<bool>,
    /// See [`Preferences`].
    pub synchronizer: Option<bool>,
    /// See [`Preferences`].
    pub crm_inbox: Option<String>,
    /// See [`Preferences`].
    pub working_hours_start: Option<String>,
    /// See [`Preferences`].
    pub working_hours_end: Option<String>,
    /// See [`Preferences`].
    pub time_zone: Option<String>,
}

impl Preferences {
    /// Working hours as times of day.
    pub fn working_hours(&self) -> (NaiveTime, NaiveTime) {
        let start = NaiveTime::parse_from_str(&self.working_hours_start, "%H:%M")
            .unwrap_or(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default());
        let end = NaiveTime::parse_from_str(&self.working_hours_end, "%H:%M")
            .unwrap_or(NaiveTime::from_hms_opt(16, 0, 0).unwrap_or_default());
        (start, end)
    }

    /// The time zone of the working hours.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
}

/// The system preferences (every signed-in user may read them).
#[utoipa::path(get, path = "/api/preferences", tag = "preferences", security(("bearer" = [])),
    responses((status = 200, body = Preferences), (status = 401, body = super::error::ErrorBody)))]
pub async fn get_preferences(State(state): State<AppState>, _user: CurrentUser) -> ApiResult<Json<Preferences>> {
    let mut conn = state.store.read().await?;
    Ok(Json(load(&mut conn).await?))
}

/// Changes the system preferences (administrators only).
#[utoipa::path(put, path = "/api/preferences", tag = "preferences", security(("bearer" = [])),
    request_body = PreferencesChange,
    responses((status = 200, body = Preferences), (status = 401, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn put_preferences(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(change): Json<PreferencesChange>,
) -> ApiResult<Json<Preferences>> {
    user.require_admin()?;
    let mut tx = state.store.write().await?;
    let mut p = load(tx.conn()).await?;
    if let Some(v) = change.incoming {
        p.incoming = v;
    }
    if let Some(v) = change.request_reply {
        p.request_reply = v;
    }
    if let Some(v) = change.synchronizer {
        p.synchronizer = v;
    }
    if let Some(v) = change.crm_inbox {
        super::input::address("crm_inbox", &v)?;
        let v = v.trim().to_lowercase();
        if !v.contains('@') {
            return Err(ApiError::invalid(format!("`crm_inbox` must be an e-mail address, not `{v}`")));
        }
        p.crm_inbox = v;
    }
    for (field, value, target) in [
        ("working_hours_start", change.working_hours_start, &mut p.working_hours_start),
        ("working_hours_end", change.working_hours_end, &mut p.working_hours_end),
    ] {
        if let Some(v) = value {
            if NaiveTime::parse_from_str(&v, "%H:%M").is_err() {
                return Err(ApiError::invalid(format!("`{field}` must be `HH:MM`, not `{v}`")));
            }
            *target = v;
        }
    }
    let (start, end) = p.working_hours();
    if start >= end {
        return Err(ApiError::invalid("working hours must start before they end"));
    }
    if let Some(v) = change.time_zone {
        if v.parse::<chrono_tz::Tz>().is_err() {
            return Err(ApiError::invalid(format!("`time_zone` must be an IANA time zone, not `{v}`")));
        }
        p.time_zone = v;
    }
    store::preferences::save(tx.conn(), &p).await?;
    tx.commit().await?;
    Ok(Json(p))
}

/// A user's own settings, and what they amount to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Settings {
    /// "Import incoming invitations as tentative appointments" (default true).
    pub import_tentative: bool,
    /// A calendar synchronizer is active for this user.
    pub synchronizer: bool,
    /// Whether tentative import actually happens (off while a synchronizer,
    /// the user's or the system's, is active).
    pub import_tentative_effective: bool,
    /// Whether the toggle can be changed.
    pub import_tentative_enabled: bool,
    /// Why the toggle is disabled, for a person.
    pub disabled_reason: Option<String>,
}

/// A change to the user's settings: fields left out keep their value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SettingsChange {
    /// See [`Settings`].
    pub import_tentative: Option<bool>,
    /// See [`Settings`].
    pub synchronizer: Option<bool>,
}

async fn settings_of(conn: &mut AnyConnection, associate_id: &str) -> ApiResult<Settings> {
    let (import_tentative, synchronizer) = load_user(conn, associate_id).await?;
    let prefs = load(conn).await?;
    let reason = if synchronizer {
        Some("a calendar synchronizer is active for you: it brings invitations into the CRM".to_owned())
    } else if prefs.synchronizer {
        Some("a calendar synchronizer is active for everyone: it brings invitations into the CRM".to_owned())
    } else {
        None
    };
    Ok(Settings {
        import_tentative,
        synchronizer,
        import_tentative_effective: import_tentative && reason.is_none(),
        import_tentative_enabled: reason.is_none(),
        disabled_reason: reason,
    })
}

/// The signed-in user's settings.
#[utoipa::path(get, path = "/api/settings", tag = "preferences", security(("bearer" = [])),
    responses((status = 200, body = Settings), (status = 401, body = super::error::ErrorBody)))]
pub async fn get_settings(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Settings>> {
    let mut conn = state.store.read().await?;
    Ok(Json(settings_of(&mut conn, &user.id).await?))
}

/// Changes the signed-in user's settings.
#[utoipa::path(put, path = "/api/settings", tag = "preferences", security(("bearer" = [])),
    request_body = SettingsChange,
    responses((status = 200, body = Settings), (status = 401, body = super::error::ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(change): Json<SettingsChange>,
) -> ApiResult<Json<Settings>> {
    let mut tx = state.store.write().await?;
    let (mut import_tentative, mut synchronizer) = load_user(tx.conn(), &user.id).await?;
    if let Some(v) = change.import_tentative {
        import_tentative = v;
    }
    if let Some(v) = change.synchronizer {
        synchronizer = v;
    }
    store::preferences::save_user(tx.conn(), &user.id, import_tentative, synchronizer).await?;
    let settings = settings_of(tx.conn(), &user.id).await?;
    tx.commit().await?;
    Ok(Json(settings))
}
