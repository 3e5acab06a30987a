//! Rows decoded into structs by column name: `stmt.query_row(params, row::decode)` fills each
//! field from the column of its (serde) name, as `r.get::<_, T>(i)` would have: booleans and
//! strings by rusqlite's own conversions (an integer is a boolean, non-zero true), numbers by
//! their stored type, and a NULL only into an `Option` (anywhere else it is an error, as is a
//! text where a number is wanted). The SELECT names its
//! columns after the fields (`type AS memory_type`) and says in SQL what a column defaults to
//! (`COALESCE(pinned, 0) AS pinned`). Columns no field names are ignored; a required field
//! no column names is an error (an `Option` one is `None`, as serde reads a missing field).

use std::fmt;

use rusqlite::Row;
use rusqlite::types::{FromSql, ValueRef};
use serde::de::{self, DeserializeOwned, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

/// The row as a `T`.
pub(crate) fn decode<T: DeserializeOwned>(row: &Row<'_>) -> rusqlite::Result<T> {
    T::deserialize(Columns { row, next: 0 }).map_err(|e| e.0)
}

/// A decoding error: rusqlite's own, or a field without its column.
#[derive(Debug)]
struct Error(rusqlite::Error);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Self(rusqlite::Error::InvalidColumnName(msg.to_string()))
    }
}

/// The row as a map from column name to value.
struct Columns<'r, 's> {
    row: &'r Row<'s>,
    next: usize,
}

impl<'de> de::Deserializer<'de> for Columns<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for Columns<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let statement = self.row.as_ref();
        if self.next == statement.column_count() {
            return Ok(None);
        }
        let name = statement.column_name(self.next).map_err(Error)?;
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let column = Column {
            row: self.row,
            index: self.next,
        };
        self.next += 1;
        seed.deserialize(column)
    }
}

/// One column's value.
struct Column<'r, 's> {
    row: &'r Row<'s>,
    index: usize,
}

impl Column<'_, '_> {
    fn get<T: FromSql>(&self) -> Result<T, Error> {
        self.row.get(self.index).map_err(Error)
    }
}

impl<'de> de::Deserializer<'de> for Column<'_, '_> {
    type Error = Error;

    /// By the stored type: numbers (serde narrows an integer to the field's width, or widens
    /// it to a float, as rusqlite does), blobs, free-form targets.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.row.get_ref(self.index).map_err(Error)? {
            ValueRef::Null => visitor.visit_unit(),
            ValueRef::Integer(i) => visitor.visit_i64(i),
            ValueRef::Real(f) => visitor.visit_f64(f),
            ValueRef::Text(_) => visitor.visit_string(self.get()?),
            ValueRef::Blob(b) => visitor.visit_byte_buf(b.to_vec()),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_bool(self.get()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.get()?)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.row.get_ref(self.index).map_err(Error)? {
            ValueRef::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use serde::Deserialize;

    use super::decode;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Sample {
        id: String,
        #[serde(rename = "type")]
        kind: String,
        pinned: bool,
        importance: f64,
        count: usize,
        tags: Option<String>,
    }

    fn one(sql: &str) -> rusqlite::Result<Sample> {
        let conn = Connection::open_in_memory().unwrap();
        conn.query_row(sql, [], decode)
    }

    #[test]
    fn fields_read_their_columns_by_name_with_rusqlite_conversions() {
        let s = one(
            "SELECT 7 AS count, 'a' AS id, 'fact' AS type, 2 AS pinned, 1 AS importance, \
             NULL AS tags, 'x' AS unused",
        )
        .unwrap();
        let want = Sample {
            id: "a".into(),
            kind: "fact".into(),
            pinned: true,
            importance: 1.0,
            count: 7,
            tags: None,
        };
        assert_eq!(s, want);
    }

    #[test]
    fn a_missing_column_or_a_wrong_type_is_an_error() {
        let missing =
            "SELECT 'a' AS id, 'fact' AS type, 0 AS pinned, 0.5 AS importance, NULL AS tags";
        assert!(one(missing).unwrap_err().to_string().contains("count"));
        let null = "SELECT 'a' AS id, 'fact' AS type, NULL AS pinned, 0.5 AS importance, \
             1 AS count, NULL AS tags";
        assert!(matches!(
            one(null),
            Err(rusqlite::Error::InvalidColumnType(..))
        ));
    }
}
