//! Encodings of rows for the state store: memcomparable keys (byte order = SQL order), the
//! compact value encoding, the builder that decoders fill, vnode hashing and the table key
//! layout. See each module for its byte format.

mod buf;
mod builder;
mod memcomparable;
mod table_key;
mod value;
mod view;
mod vnode;

#[cfg(test)]
mod tests;

pub use builder::ColumnBuilder;
pub use memcomparable::{decode_key, encode_key_columns};
pub use table_key::{table_key, table_key_prefix, table_vnode_prefix, TABLE_PREFIX_LEN, VNODE_PREFIX_LEN};
pub use value::{decode_value, encode_value_columns};
pub use vnode::{bitmap_has_vnode, vnode_bitmap, vnode_of_key, vnode_owners, vnode_range, VNODE_BITMAP_BYTES, VNODE_COUNT};
