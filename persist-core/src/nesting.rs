//! How deep a record nests once written as JSON: every store writes records
//! as JSON or a serde format, and serde_json reads back at most 128 levels,
//! so a record nested deeper would be stored and then never read back (and
//! a page of its channel with it). The pipeline refuses such a record
//! before any store sees it.

use serde::ser::{self, Serialize};

/// The deepest a record may nest (objects and arrays, the record itself
/// being level 1): well under serde_json's 128, leaving room for a store
/// that wraps the record (a row, an envelope) in a level or two.
pub const MAX_NESTING: usize = 100;

/// Why a value was refused.
#[derive(Debug)]
pub(crate) struct TooDeep;

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "nested more than {MAX_NESTING} levels deep")
    }
}

impl std::error::Error for TooDeep {}

impl ser::Error for TooDeep {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        TooDeep
    }
}

/// Whether `value`, written as JSON, nests at most [`MAX_NESTING`] levels.
/// Walks the value without writing anything, and stops at the first level
/// too deep.
pub(crate) fn within_limit(value: &impl Serialize) -> bool {
    match value.serialize(Probe { depth: 0 }) {
        Ok(()) => true,
        // Only the probe's own error can come out of a derived Serialize
        // (a custom impl's error is also "not writable").
        Err(TooDeep) => false,
    }
}

/// Whether a mutation nests within the limit; a typed patch is probed
/// field by field (its `Serialize` builds a JSON map).
pub(crate) fn mutation_within_limit(mutation: &crate::Mutation) -> bool {
    match mutation {
        crate::Mutation::Patch(patch) => patch.within_nesting_limit(),
        other => within_limit(other),
    }
}

/// A serializer that only counts levels: `depth` is the number of
/// enclosing objects and arrays.
#[derive(Clone, Copy)]
struct Probe {
    depth: usize,
}

impl Probe {
    fn enter(self) -> Result<Self, TooDeep> {
        if self.depth >= MAX_NESTING {
            Err(TooDeep)
        } else {
            Ok(Self {
                depth: self.depth + 1,
            })
        }
    }
}

macro_rules! leaves {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), TooDeep> { Ok(()) })*
    };
}

impl ser::Serializer for Probe {
    type Ok = ();
    type Error = TooDeep;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    leaves!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    // Ids and timestamps are written as strings through `collect_str`,
    // whose default formats them into a new String: a leaf, nothing to count.
    fn collect_str<T: ?Sized + std::fmt::Display>(self, _: &T) -> Result<(), TooDeep> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), TooDeep> {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), TooDeep> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), TooDeep> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), TooDeep> {
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), TooDeep> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), TooDeep> {
        // JSON writes `{"variant": value}`.
        value.serialize(self.enter()?)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, TooDeep> {
        self.enter()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, TooDeep> {
        self.enter()
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, TooDeep> {
        self.enter()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, TooDeep> {
        self.enter()?.enter()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, TooDeep> {
        self.enter()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, TooDeep> {
        self.enter()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, TooDeep> {
        self.enter()?.enter()
    }
}

/// The compound serializers: each element or field one level down (the
/// level was entered when the compound began).
macro_rules! compound {
    ($($trait:ident :: $method:ident $(($name:ty))?),* $(,)?) => {$(
        impl ser::$trait for Probe {
            type Ok = ();
            type Error = TooDeep;
            fn $method<T: ?Sized + Serialize>(
                &mut self,
                $(_: $name,)?
                value: &T,
            ) -> Result<(), TooDeep> {
                value.serialize(*self)
            }
            fn end(self) -> Result<(), TooDeep> {
                Ok(())
            }
        }
    )*};
}

compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
    SerializeStruct::serialize_field(&'static str),
    SerializeStructVariant::serialize_field(&'static str),
);

impl ser::SerializeMap for Probe {
    type Ok = ();
    type Error = TooDeep;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, _: &T) -> Result<(), TooDeep> {
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), TooDeep> {
        value.serialize(*self)
    }
    fn end(self) -> Result<(), TooDeep> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn nested(levels: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..levels {
            value = json!([value]);
        }
        value
    }

    #[test]
    fn counts_levels_as_json_writes_them() {
        assert!(within_limit(&nested(MAX_NESTING)));
        assert!(!within_limit(&nested(MAX_NESTING + 1)));
        assert!(within_limit(&json!({"a": {"b": [1, 2, {"c": null}]}})));
    }

    #[test]
    fn a_record_with_a_deep_unknown_field_is_too_deep() {
        let mut message = crate::model::Message::default();
        message.extra.insert("deep".into(), nested(127));
        assert!(!within_limit(&message));
        message.extra.insert("deep".into(), nested(10));
        assert!(within_limit(&message));
    }
}
