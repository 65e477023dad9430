//! The vocabulary of scheduling: methods (RFC 5546 1.4, 3), participation
//! status (RFC 5545 3.2.12), roles (3.2.16), calendar user types (3.2.3) and
//! scheduling agents (RFC 6638 7.1). Each is a closed enum of the values the
//! RFC defines, with an `Other` escape for the extension values the RFC allows
//! (`x-name` and `iana-token`). Names compare case-insensitively and are
//! written in upper case.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Defines a vocabulary enum: `parse`, `as_str`, `Display`, and serde as the
/// upper-case name.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// An extension value (`x-name` or `iana-token`), upper-cased.
            Other(Box<str>),
        }

        impl $name {
            /// Reads a value; unknown names become `Other` (upper-cased).
            pub fn parse(text: &str) -> $name {
                let t = crate::ical::value::trim(text);
                // As written (upper-case) nearly always: compared whole first.
                $( if t == $text { return $name::$variant; } )+
                $( if t.eq_ignore_ascii_case($text) { return $name::$variant; } )+
                $name::Other(t.to_ascii_uppercase().into())
            }

            /// The value as written in iCalendar.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::parse(&s))
            }
        }
    };
}

vocabulary! {
    /// An iTIP method (RFC 5546 section 1.4), the `METHOD` of a scheduling message.
    Method {
        /// `REQUEST` (RFC 5546 3.2.2): an invitation, or an update of one.
        Request => "REQUEST",
        /// `REPLY` (3.2.3): an attendee's answer.
        Reply => "REPLY",
        /// `CANCEL` (3.2.5): the organizer cancels the event or some instances.
        Cancel => "CANCEL",
        /// `ADD` (3.2.4): the organizer adds instances to a recurring event.
        Add => "ADD",
        /// `REFRESH` (3.2.6): an attendee asks for the latest version.
        Refresh => "REFRESH",
        /// `COUNTER` (3.2.7): an attendee proposes a change.
        Counter => "COUNTER",
        /// `DECLINECOUNTER` (3.2.8): the organizer turns a proposal down.
        DeclineCounter => "DECLINECOUNTER",
        /// `PUBLISH` (3.2.1): an event published without scheduling.
        Publish => "PUBLISH",
    }
}

vocabulary! {
    /// Participation status of an attendee (`PARTSTAT`, RFC 5545 3.2.12, for
    /// `VEVENT`). Serialized as written in iCalendar (`"ACCEPTED"`).
    #[derive(Default)]
    PartStat {
        /// `NEEDS-ACTION`, the default.
        #[default]
        NeedsAction => "NEEDS-ACTION",
        /// `ACCEPTED`.
        Accepted => "ACCEPTED",
        /// `DECLINED`.
        Declined => "DECLINED",
        /// `TENTATIVE`.
        Tentative => "TENTATIVE",
        /// `DELEGATED`.
        Delegated => "DELEGATED",
    }
}

vocabulary! {
    /// Role of an attendee (`ROLE`, RFC 5545 3.2.16).
    #[derive(Default)]
    Role {
        /// `CHAIR`.
        Chair => "CHAIR",
        /// `REQ-PARTICIPANT`, the default.
        #[default]
        ReqParticipant => "REQ-PARTICIPANT",
        /// `OPT-PARTICIPANT`.
        OptParticipant => "OPT-PARTICIPANT",
        /// `NON-PARTICIPANT`.
        NonParticipant => "NON-PARTICIPANT",
    }
}

vocabulary! {
    /// Calendar user type (`CUTYPE`, RFC 5545 3.2.3).
    #[derive(Default)]
    CuType {
        /// `INDIVIDUAL`, the default.
        #[default]
        Individual => "INDIVIDUAL",
        /// `GROUP`.
        Group => "GROUP",
        /// `RESOURCE`.
        Resource => "RESOURCE",
        /// `ROOM`.
        Room => "ROOM",
        /// `UNKNOWN`.
        Unknown => "UNKNOWN",
    }
}

vocabulary! {
    /// Who delivers scheduling messages for a calendar user (`SCHEDULE-AGENT`,
    /// RFC 6638 7.1).
    #[derive(Default)]
    ScheduleAgent {
        /// `SERVER`, the default: this engine sends the messages.
        #[default]
        Server => "SERVER",
        /// `CLIENT`: the user's own client sends them; we send nothing.
        Client => "CLIENT",
        /// `NONE`: nobody sends them.
        None => "NONE",
    }
}

/// The code of a status (`REQUEST-STATUS`, RFC 5545 3.8.8.3, or
/// `SCHEDULE-STATUS`, RFC 6638 7.3): the text before the first `;`
/// (`"2.0;Success"` -> `"2.0"`). A status without `;` is returned as it is;
/// no status gives `None`.
pub fn status_code(status: Option<&str>) -> Option<&str> {
    let s = status?;
    let code = s.split(';').next().unwrap_or(s).trim();
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_case_insensitively_and_keep_extensions() {
        assert_eq!(Method::parse("declinecounter"), Method::DeclineCounter);
        assert_eq!(Method::parse("x-foo").as_str(), "X-FOO");
        assert_eq!(PartStat::parse(" Accepted "), PartStat::Accepted);
        assert_eq!(Role::parse("CHAIR"), Role::Chair);
        assert_eq!(CuType::parse("room"), CuType::Room);
        assert_eq!(ScheduleAgent::parse("client"), ScheduleAgent::Client);
        assert_eq!(PartStat::default(), PartStat::NeedsAction);
    }

    #[test]
    fn serde_uses_the_icalendar_names() {
        assert_eq!(serde_json::to_string(&PartStat::Tentative).unwrap(), "\"TENTATIVE\"");
        let p: PartStat = serde_json::from_str("\"declined\"").unwrap();
        assert_eq!(p, PartStat::Declined);
        assert_eq!(serde_json::to_string(&Method::Other("X-A".into())).unwrap(), "\"X-A\"");
    }

    #[test]
    fn status_codes_are_the_text_before_the_first_semicolon() {
        assert_eq!(status_code(None), None);
        assert_eq!(status_code(Some("1.2;Delivered")), Some("1.2"));
        assert_eq!(status_code(Some("9.9.9")), Some("9.9.9"));
    }
}
