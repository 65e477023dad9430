//! Occurrences of the events of a calendar over a window.
