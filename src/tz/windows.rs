//! Windows time-zone names -> IANA, from CLDR's windowsZones table.

/// The IANA zone for a Windows zone name (territory `001`).
pub fn iana_for_windows(_name: &str) -> Option<&'static str> {
    None
}
