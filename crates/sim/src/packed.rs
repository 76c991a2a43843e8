//! Scenarios packed into bytes: the form in which the page ships its
//! presets.
//!
//! The page never reads TOML from its user: it only opens the presets that
//! are compiled in. Reading them in the browser would take a TOML parser,
//! the schema walk of [`crate::file`] and the override machinery of the
//! lesson comparisons, about a fifth of the page's WebAssembly. So the
//! page's build script reads each preset with [`crate::parse_scenario`] (and
//! its comparison with [`crate::lesson::variant`]) on the build machine,
//! then [`pack`]s the resulting [`Scenario`]; the page [`unpack`]s it with
//! serde, through the same `Deserialize` implementations as a file.
//!
//! What is packed is the scenario itself, serialized, not the file's text:
//! every default is written out and nothing is left to interpret, so the
//! unpacked scenario is equal to the one the file reads as (the tests check
//! it for every preset), and a seeded run gives the same figures.
//!
//! The format is a tree of self-describing values, because the scenario's
//! serde shape needs one (internally tagged enums read their fields before
//! they know their variant). Each value is a tag byte and
//! its payload:
//!
//! | tag | value | payload |
//! |---|---|---|
//! | 0, 1 | false, true | none |
//! | 2 | integer | LEB128 varint of the zigzag-encoded `i64` |
//! | 3 | float | the `f64`'s 8 bytes, little-endian (bit for bit) |
//! | 4 | string | varint byte length, UTF-8 bytes |
//! | 5 | array | varint item count, the items |
//! | 6 | table | varint entry count, then per entry a key (as a string payload, without tag) and a value |
//!
//! A field that is absent reads as its default, as in a file: `None` and
//! empty optional tables are simply not written.

use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, Error};
use serde::de::{self, DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::scenario::Scenario;

const FALSE: u8 = 0;
const TRUE: u8 = 1;
const INTEGER: u8 = 2;
const FLOAT: u8 = 3;
const STRING: u8 = 4;
const ARRAY: u8 = 5;
const TABLE: u8 = 6;

/// Why a scenario cannot be packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackError(String);

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PackError {}

/// Packs a scenario into bytes that [`unpack`] reads back as an equal
/// scenario.
///
/// The scenario is serialized through TOML's value tree, so it packs
/// exactly when it could be written as a file: a seed above `i64::MAX`
/// cannot (nor can a non-finite float, which validation refuses anyway).
pub fn pack(scenario: &Scenario) -> Result<Vec<u8>, PackError> {
    let value = toml::Value::try_from(scenario).map_err(|e| PackError(e.to_string()))?;
    let mut out = Vec::new();
    write_value(&mut out, &value)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, value: &toml::Value) -> Result<(), PackError> {
    match value {
        toml::Value::Boolean(b) => out.push(if *b { TRUE } else { FALSE }),
        toml::Value::Integer(i) => {
            out.push(INTEGER);
            // Zigzag: small negative numbers stay short too.
            write_varint(out, ((*i << 1) ^ (*i >> 63)) as u64);
        }
        toml::Value::Float(x) => {
            out.push(FLOAT);
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        toml::Value::String(s) => {
            out.push(STRING);
            write_str(out, s);
        }
        toml::Value::Array(items) => {
            out.push(ARRAY);
            write_varint(out, items.len() as u64);
            for item in items {
                write_value(out, item)?;
            }
        }
        toml::Value::Table(table) => {
            out.push(TABLE);
            write_varint(out, table.len() as u64);
            for (key, item) in table {
                write_str(out, key);
                write_value(out, item)?;
            }
        }
        toml::Value::Datetime(d) => {
            return Err(PackError(format!("a scenario holds no dates, found {d}")));
        }
    }
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a scenario that [`pack`] wrote. `Err` only for bytes that `pack`
/// did not write (or wrote for another version of the scenario's types).
///
/// The scenario is not validated again: it was valid when it was packed.
//
// `#[inline]` so that this function, and with it the serde code it
// instantiates for every type of the scenario (most of its size), is
// compiled in the calling crate: the page builds itself for size but this
// crate for speed (Cargo.toml, `profile.web`), and reading presets is not
// where speed matters.
#[inline]
pub fn unpack(bytes: &[u8]) -> Result<Scenario, Error> {
    let mut reader = Reader { bytes };
    let scenario = Scenario::deserialize(&mut reader)?;
    if !reader.bytes.is_empty() {
        return Err(Error::custom("trailing bytes after the scenario"));
    }
    Ok(scenario)
}

/// A serde deserializer over packed bytes; `bytes` is what is left to read.
struct Reader<'de> {
    bytes: &'de [u8],
}

impl<'de> Reader<'de> {
    fn take(&mut self, n: usize) -> Result<&'de [u8], Error> {
        if self.bytes.len() < n {
            return Err(Error::custom("packed scenario cut short"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(n);
            }
        }
        Err(Error::custom("varint too long"))
    }

    fn len(&mut self) -> Result<usize, Error> {
        usize::try_from(self.varint()?).map_err(|_| Error::custom("length too large"))
    }

    fn str(&mut self) -> Result<&'de str, Error> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| Error::custom("string is not UTF-8"))
    }

    /// Reads a value's tag, which must be `want`: the type being read
    /// knows what it was written as. Not generic, so the check and its
    /// error are compiled once rather than in every visitor's reader.
    fn tag(&mut self, want: u8) -> Result<(), Error> {
        let tag = self.byte()?;
        if tag == want {
            Ok(())
        } else {
            Err(Error::custom(format_args!("tag {tag} where {want} was expected")))
        }
    }

    /// An integer's payload, tag read.
    fn integer(&mut self) -> Result<i64, Error> {
        let z = self.varint()?;
        Ok((z >> 1) as i64 ^ -((z & 1) as i64))
    }

    /// A float's payload, tag read.
    fn float(&mut self) -> Result<f64, Error> {
        let mut bits = [0; 8];
        bits.copy_from_slice(self.take(8)?);
        Ok(f64::from_bits(u64::from_le_bytes(bits)))
    }
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.byte()? {
            FALSE => visitor.visit_bool(false),
            TRUE => visitor.visit_bool(true),
            INTEGER => visitor.visit_i64(self.integer()?),
            FLOAT => visitor.visit_f64(self.float()?),
            STRING => visitor.visit_borrowed_str(self.str()?),
            ARRAY => {
                let left = self.len()?;
                visitor.visit_seq(Items { reader: self, left })
            }
            TABLE => {
                let left = self.len()?;
                visitor.visit_map(Items { reader: self, left })
            }
            tag => Err(Error::custom(format_args!("unknown tag {tag}"))),
        }
    }

    // A type that says what it expects is read as that alone, rather than
    // through `deserialize_any`: each of these is compiled once per visitor,
    // and `deserialize_any` would pass every visitor every kind of value.
    // A derived struct's visitor, for one, reads a table but also has a
    // reader for the same struct as a sequence, which only `visit_seq`
    // reaches; not calling it drops that code from the page's WebAssembly.
    // The scenario packs each type always as the same kind of value (the
    // one TOML writes it as), so bytes that `pack` wrote read the same.

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.byte()? {
            FALSE => visitor.visit_bool(false),
            TRUE => visitor.visit_bool(true),
            tag => Err(Error::custom(format_args!("tag {tag} where a boolean was expected"))),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.tag(INTEGER)?;
        visitor.visit_i64(self.integer()?)
    }

    /// A float field packed as an integer reads too, as serde's own readers
    /// allow (`pack` writes floats as floats, so only hand-made bytes do).
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.byte()? {
            FLOAT => visitor.visit_f64(self.float()?),
            INTEGER => visitor.visit_i64(self.integer()?),
            tag => Err(Error::custom(format_args!("tag {tag} where a number was expected"))),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.tag(STRING)?;
        visitor.visit_borrowed_str(self.str()?)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.tag(ARRAY)?;
        let left = self.len()?;
        visitor.visit_seq(Items { reader: self, left })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.tag(TABLE)?;
        let left = self.len()?;
        visitor.visit_map(Items { reader: self, left })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    /// A `None` is never written, so an option that is there is `Some`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// The scenario's externally tagged enums are all unit-only: each is
    /// written as its variant's name (the others are internally tagged
    /// tables, which serde reads through `deserialize_any`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.byte()? {
            STRING => visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(self.str()?)),
            _ => Err(Error::custom("an enum is packed as its variant's name")),
        }
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct ignored_any
    }
}

/// The items of an array, or the entries of a table, still to read.
struct Items<'a, 'de> {
    reader: &'a mut Reader<'de>,
    left: usize,
}

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> MapAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(BorrowedStrDeserializer::<Error>::new(self.reader.str()?)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(&mut *self.reader)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{lesson, parse_scenario, PRESETS};

    #[test]
    fn every_preset_and_its_comparison_unpack_equal_to_the_file() {
        let (mut packed, mut files) = (0, 0);
        for preset in PRESETS {
            let scenario = parse_scenario(preset.toml).unwrap();
            let bytes = pack(&scenario).unwrap();
            assert_eq!(unpack(&bytes).unwrap(), scenario, "{}", preset.id);
            // Smaller than the files in all: no comments. (A terse file
            // that leaves most fields to their defaults, such as crowd's,
            // can pack larger than it reads, as every field is written.)
            (packed, files) = (packed + bytes.len(), files + preset.toml.len());
            if let Some(variant) = lesson::variant(preset.toml).unwrap() {
                assert_eq!(unpack(&pack(&variant).unwrap()).unwrap(), variant, "{}", preset.id);
            }
        }
        assert!(packed < files, "{packed} bytes packed from {files} of files");
    }

    #[test]
    fn integers_and_floats_come_back_bit_for_bit() {
        let mut scenario = Scenario::retry_chain();
        scenario.seed = i64::MAX as u64;
        scenario.duration_s = 0.1 + 0.2;
        scenario.services[0].error_rate = f64::MIN_POSITIVE;
        let back = unpack(&pack(&scenario).unwrap()).unwrap();
        assert_eq!(back.seed, scenario.seed);
        assert_eq!(back.duration_s.to_bits(), scenario.duration_s.to_bits());
        assert_eq!(back, scenario);
    }

    #[test]
    fn what_a_file_cannot_hold_is_refused_and_bad_bytes_are_errors() {
        let mut scenario = Scenario::retry_chain();
        scenario.seed = u64::MAX;
        assert!(pack(&scenario).is_err());
        let bytes = pack(&Scenario::retry_chain()).unwrap();
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert!(unpack(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(unpack(&longer).is_err());
        assert!(unpack(&[9]).is_err());
    }
}
