//! [`SortedMap`]: a small map keyed by name, in one vector sorted by key;
//! a resource's [`Tags`] and inline policies.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use litemap::LiteMap;
use litemap::store::StoreIterable;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A map keyed by name, sorted by key, with most of a `BTreeMap`'s API
/// through [`LiteMap`] (`get`, `insert`, `remove`, `iter`, `keys`, ...;
/// no `range`, and `map[&key]` takes a `&String`). One sorted vector, because a resource has a
/// handful of tags or inline policies and a `BTreeMap` allocates a node for
/// eleven (about 540 bytes for tags): a stack of 200,000 tagged roles and
/// profiles held 100 MB of them.
///
/// Serialised as a map, as a `BTreeMap` is, even when empty (`LiteMap`
/// writes an empty map as a list in JSON); read only from a map, the last
/// of a repeated key winning.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SortedMap<V>(LiteMap<String, V>);

/// Tags of one resource, sorted by key.
pub type Tags = SortedMap<String>;

impl<V> Default for SortedMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> SortedMap<V> {
    pub const fn new() -> Self {
        SortedMap(LiteMap::new())
    }

    // Inherent, so that `Tags::is_empty` names a function (serde's
    // `skip_serializing_if`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// As a `BTreeMap` shows itself: `{"key": "value"}`.
impl<V: fmt::Debug> fmt::Debug for SortedMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl<V> Deref for SortedMap<V> {
    type Target = LiteMap<String, V>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<V> DerefMut for SortedMap<V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<V> FromIterator<(String, V)> for SortedMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        SortedMap(iter.into_iter().collect())
    }
}

impl<V> Extend<(String, V)> for SortedMap<V> {
    fn extend<I: IntoIterator<Item = (String, V)>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<'a, V: 'a> IntoIterator for &'a SortedMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = <Vec<(String, V)> as StoreIterable<'a, String, V>>::KeyValueIter;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<V> IntoIterator for SortedMap<V> {
    type Item = (String, V);
    type IntoIter = <LiteMap<String, V> as IntoIterator>::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<V: Serialize> Serialize for SortedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SortedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = SortedMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Self::Value, A::Error> {
                let mut map = SortedMap::new();
                while let Some((key, value)) = entries.next_entry::<String, V>()? {
                    map.0.insert(key, value);
                }
                Ok(map)
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::{SortedMap, Tags};

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn serialises_as_a_sorted_map_even_when_empty() {
        assert_eq!(serde_json::to_string(&Tags::new()).unwrap(), "{}");
        let tags = tags(&[("b", "2"), ("a", "1")]);
        assert_eq!(
            serde_json::to_string(&tags).unwrap(),
            r#"{"a":"1","b":"2"}"#
        );
    }

    #[test]
    fn reads_a_map_only_and_the_last_repeated_key_wins() {
        let read: Tags = serde_json::from_str(r#"{"b":"2","a":"1","b":"3"}"#).unwrap();
        assert_eq!(read, tags(&[("a", "1"), ("b", "3")]));
        assert!(serde_json::from_str::<Tags>(r#"[["a","1"]]"#).is_err());
    }

    #[test]
    fn a_map_of_other_values_round_trips() {
        let numbers: SortedMap<u32> = [("b".to_string(), 2), ("a".to_string(), 1)]
            .into_iter()
            .collect();
        let text = serde_json::to_string(&numbers).unwrap();
        assert_eq!(text, r#"{"a":1,"b":2}"#);
        assert_eq!(
            serde_json::from_str::<SortedMap<u32>>(&text).unwrap(),
            numbers
        );
    }

    #[test]
    fn shows_itself_as_a_map_does() {
        assert_eq!(format!("{:?}", tags(&[("k", "v")])), r#"{"k": "v"}"#);
    }

    #[test]
    fn collecting_keeps_key_order_and_the_last_of_a_repeated_key() {
        let collected = tags(&[("z", "1"), ("a", "2"), ("z", "3")]);
        let pairs: Vec<_> = collected.iter().collect();
        assert_eq!(
            pairs,
            [
                (&"a".to_string(), &"2".to_string()),
                (&"z".to_string(), &"3".to_string())
            ]
        );
    }
}
