//! The iCalendar model (RFC 5545): a lossless tree of components and properties.
//!
//! Architecture Invariant: reading and writing loses nothing. Every property
//! and parameter the engine does not interpret (`X-MICROSOFT-*`, `X-GOOGLE-*`,
//! IANA extensions) is kept in order, so what we store and send back is what
//! we received, but for the properties we change on purpose.

mod parse;
pub mod value;
pub(crate) mod write;

pub use parse::{ParseOptions, parse_calendar, parse_components};
pub use write::{fold_line_into, write_component};

use std::borrow::Cow;

/// A component (`VCALENDAR`, `VEVENT`, `VTIMEZONE`, `VALARM`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Component<'a> {
    /// Upper-case name, as in `BEGIN:<name>`.
    pub name: Cow<'a, str>,
    /// Properties in the order read.
    pub properties: Vec<Property<'a>>,
    /// Sub-components in the order read.
    pub components: Vec<Component<'a>>,
    /// 1-based line of `BEGIN`, 0 for components built in memory.
    pub line: u32,
}

/// One property (content line).
#[derive(Debug, Clone, Default)]
pub struct Property<'a> {
    /// Upper-case name.
    pub name: Cow<'a, str>,
    /// Parameters in the order read.
    pub params: Vec<Param<'a>>,
    /// The raw value, unfolded but still escaped as RFC 5545 3.3.11 says for TEXT.
    pub value: Cow<'a, str>,
    /// 1-based line where the content line starts, 0 when built in memory.
    pub line: u32,
    /// The content line exactly as read, folds and CRLF included, when the
    /// reader was asked to keep it ([`ParseOptions::keep_raw`]) and writing
    /// the property gives back these very octets (but for a CR or NUL in
    /// the value, which the writer checks). Only the stored copy's
    /// writer uses it ([`write::write_filtered`] with splicing), copying
    /// the line instead of writing it again. The changing methods
    /// (`set_param`, `prop_mut`, ...) drop it; code that changes a field
    /// directly must set it to `None`. Not part of equality.
    pub raw: Option<&'a str>,
}

impl PartialEq for Property<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.params == other.params && self.value == other.value && self.line == other.line
    }
}

impl Eq for Property<'_> {}

/// One parameter; `values` are unquoted, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Param<'a> {
    /// Upper-case name.
    pub name: Cow<'a, str>,
    /// Values without their DQUOTEs. Nearly every parameter has one value,
    /// held without a heap allocation of its own.
    pub values: ParamValues<'a>,
}

/// The values of a parameter: one held inline, more on the heap. Reads as
/// a slice. (Our own type rather than a small-vector crate's: the tree must
/// stay covariant in its lifetime, and an associated-type array is not.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParamValues<'a>(Values<'a>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Values<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl Default for Values<'_> {
    fn default() -> Self {
        Values::Many(Vec::new())
    }
}

impl<'a> ParamValues<'a> {
    /// No values.
    pub fn new() -> Self {
        ParamValues(Values::Many(Vec::new()))
    }

    /// One value.
    pub fn one(value: impl Into<Cow<'a, str>>) -> Self {
        ParamValues(Values::One(value.into()))
    }

    /// Appends a value.
    pub fn push(&mut self, value: Cow<'a, str>) {
        match &mut self.0 {
            Values::Many(list) if list.is_empty() => self.0 = Values::One(value),
            Values::Many(list) => list.push(value),
            Values::One(_) => {
                let Values::One(first) = std::mem::take(&mut self.0) else { return };
                self.0 = Values::Many(vec![first, value]);
            }
        }
    }
}

impl<'a> std::ops::Deref for ParamValues<'a> {
    type Target = [Cow<'a, str>];

    fn deref(&self) -> &Self::Target {
        match &self.0 {
            Values::One(v) => std::slice::from_ref(v),
            Values::Many(list) => list,
        }
    }
}

impl<'a> FromIterator<Cow<'a, str>> for ParamValues<'a> {
    fn from_iter<I: IntoIterator<Item = Cow<'a, str>>>(iter: I) -> Self {
        let mut values = ParamValues::new();
        for v in iter {
            values.push(v);
        }
        values
    }
}

impl ParamValues<'_> {
    /// The values with their own text.
    pub fn into_owned(self) -> ParamValues<'static> {
        let own = |v: Cow<'_, str>| Cow::Owned(v.into_owned());
        ParamValues(match self.0 {
            Values::One(v) => Values::One(own(v)),
            Values::Many(list) => Values::Many(list.into_iter().map(own).collect()),
        })
    }

    /// A copy with its own text.
    pub fn to_static(&self) -> ParamValues<'static> {
        let own = |v: &Cow<'_, str>| Cow::Owned(v.as_ref().to_owned());
        ParamValues(match &self.0 {
            Values::One(v) => Values::One(own(v)),
            Values::Many(list) => Values::Many(list.iter().map(own).collect()),
        })
    }
}

/// A component that owns all of its text.
pub type OwnedComponent = Component<'static>;

impl<'a> Component<'a> {
    /// An empty component named `name` (upper-cased).
    pub fn new(name: &str) -> Component<'static> {
        Component {
            name: Cow::Owned(name.to_ascii_uppercase()),
            properties: Vec::new(),
            components: Vec::new(),
            line: 0,
        }
    }

    /// The same component, owning all of its text.
    pub fn into_owned(self) -> OwnedComponent {
        Component {
            name: Cow::Owned(self.name.into_owned()),
            properties: self.properties.into_iter().map(Property::into_owned).collect(),
            components: self.components.into_iter().map(Component::into_owned).collect(),
            line: self.line,
        }
    }

    /// An owned copy, made in one pass (`clone().into_owned()` would copy
    /// the tree twice).
    pub fn to_static(&self) -> OwnedComponent {
        Component {
            name: Cow::Owned(self.name.as_ref().to_owned()),
            properties: self.properties.iter().map(Property::to_static).collect(),
            components: self.components.iter().map(Component::to_static).collect(),
            line: self.line,
        }
    }

    /// Whether the component is named `name` (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The first property named `name`.
    pub fn prop(&self, name: &str) -> Option<&Property<'a>> {
        self.properties.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The first property named `name`, mutable.
    pub fn prop_mut(&mut self, name: &str) -> Option<&mut Property<'a>> {
        let p = self.properties.iter_mut().find(|p| p.name.eq_ignore_ascii_case(name))?;
        p.raw = None;
        Some(p)
    }

    /// The value of the first property named `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.prop(name).map(|p| p.value.as_ref())
    }

    /// Every property named `name`.
    pub fn props<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Property<'a>> + 's {
        self.properties.iter().filter(move |p| p.name.eq_ignore_ascii_case(name))
    }

    /// Every property named `name`, mutable.
    pub fn props_mut<'s>(&'s mut self, name: &'s str) -> impl Iterator<Item = &'s mut Property<'a>> + 's {
        self.properties.iter_mut().filter_map(move |p| {
            if !p.name.eq_ignore_ascii_case(name) {
                return None;
            }
            p.raw = None;
            Some(p)
        })
    }

    /// Removes every property named `name`.
    pub fn remove_props(&mut self, name: &str) {
        self.properties.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }

    /// Sets the value of the first property named `name` (its parameters are
    /// kept), or appends a new one.
    pub fn set_value(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.prop_mut(name) {
            Some(p) => p.value = Cow::Owned(value),
            None => self.properties.push(Property::new(name, value)),
        }
    }

    /// Sub-components named `name`.
    pub fn children<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Component<'a>> + 's {
        self.components.iter().filter(move |c| c.name.eq_ignore_ascii_case(name))
    }

    /// The text of this component and its children as iCalendar (CRLF, folded).
    pub fn to_ics(&self) -> String {
        let mut out = String::with_capacity(write::written_len(self));
        write_component(self, &mut out);
        out
    }
}

impl<'a> Property<'a> {
    /// A new property without parameters.
    pub fn new(name: &str, value: impl Into<String>) -> Property<'static> {
        Property {
            name: Cow::Owned(name.to_ascii_uppercase()),
            params: Vec::new(),
            value: Cow::Owned(value.into()),
            line: 0,
            raw: None,
        }
    }

    /// The same property, owning all of its text.
    pub fn into_owned(self) -> Property<'static> {
        Property {
            name: Cow::Owned(self.name.into_owned()),
            params: self.params.into_iter().map(Param::into_owned).collect(),
            value: Cow::Owned(self.value.into_owned()),
            line: self.line,
            raw: None,
        }
    }

    /// An owned copy, made in one pass.
    pub fn to_static(&self) -> Property<'static> {
        Property {
            name: Cow::Owned(self.name.as_ref().to_owned()),
            params: self.params.iter().map(Param::to_static).collect(),
            value: Cow::Owned(self.value.as_ref().to_owned()),
            line: self.line,
            raw: None,
        }
    }

    /// The first value of the parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .and_then(|p| p.values.first())
            .map(|v| v.as_ref())
    }

    /// Whether the parameter `name` is present.
    pub fn has_param(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Sets the parameter `name` to the single value `value`, keeping its
    /// place when present, appending it otherwise.
    pub fn set_param(&mut self, name: &str, value: impl Into<String>) {
        self.raw = None;
        let value = Cow::Owned(value.into());
        match self.params.iter_mut().find(|p| p.name.eq_ignore_ascii_case(name)) {
            Some(p) => p.values = ParamValues::one(value),
            None => {
                self.params.push(Param { name: Cow::Owned(name.to_ascii_uppercase()), values: ParamValues::one(value) })
            }
        }
    }

    /// Removes the parameter `name`.
    pub fn remove_param(&mut self, name: &str) {
        self.raw = None;
        self.params.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }

    /// The value read as TEXT (RFC 5545 3.3.11): escapes resolved.
    pub fn text(&self) -> String {
        value::unescape_text(&self.value)
    }
}

impl<'a> Param<'a> {
    /// The same parameter, owning all of its text.
    pub fn into_owned(self) -> Param<'static> {
        Param { name: Cow::Owned(self.name.into_owned()), values: self.values.into_owned() }
    }

    /// An owned copy, made in one pass.
    pub fn to_static(&self) -> Param<'static> {
        Param { name: Cow::Owned(self.name.as_ref().to_owned()), values: self.values.to_static() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_values_read_as_a_slice_one_or_many() {
        let mut v = ParamValues::new();
        assert!(v.is_empty());
        v.push("a".into());
        assert_eq!(&v[..], ["a"]);
        v.push("b".into());
        v.push("c".into());
        assert_eq!(&v[..], ["a", "b", "c"]);
        let collected: ParamValues<'_> = ["x", "y"].into_iter().map(Cow::Borrowed).collect();
        assert_eq!(collected.first().map(|c| c.as_ref()), Some("x"));
        assert_eq!(&collected.to_static()[..], ["x", "y"]);
        assert_eq!(&ParamValues::one("z").into_owned()[..], ["z"]);
    }
}
