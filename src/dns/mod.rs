//! DNS wire format: a read-only view of messages (`wire`), names (`name`),
//! type and class mnemonics (`types`), query construction (`build`) and
//! transaction signatures (`tsig`).
//!
//! Nothing here does I/O. Parsing never panics: every malformed input is a
//! [`WireError`] that names the byte offset where parsing stopped.

pub mod build;
pub mod name;
pub mod tsig;
pub mod types;
pub mod wire;
pub mod xfr;

/// Why a DNS message (or part of one) could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The data ended before the item that starts or continues at `offset`.
    #[error("message truncated at byte {offset}")]
    Truncated {
        /// Byte offset (from the start of the message) where more data was needed.
        offset: usize,
    },
    /// A compression pointer points at or beyond itself, or out of the message.
    #[error("bad compression pointer at byte {offset}")]
    BadPointer {
        /// Offset of the pointer.
        offset: usize,
    },
    /// A name that follows more compression pointers than any legal name
    /// needs ([`name::MAX_POINTERS`]).
    #[error("more than {max} compression pointers in the name at byte {offset}", max = name::MAX_POINTERS)]
    PointerChain {
        /// Offset where the name started.
        offset: usize,
    },
    /// A label type other than a normal label or a pointer (RFC 6891 §5).
    #[error("unsupported label type 0x{label:02x} at byte {offset}")]
    LabelType {
        /// Offset of the label length byte.
        offset: usize,
        /// The length byte.
        label: u8,
    },
    /// A name longer than 255 octets in wire form (RFC 1035 §3.1).
    #[error("name longer than 255 bytes at byte {offset}")]
    NameTooLong {
        /// Offset where the name started.
        offset: usize,
    },
    /// RDATA whose content does not fit its type.
    #[error("malformed {rtype} rdata at byte {offset}")]
    BadRdata {
        /// Offset of the start of the RDATA.
        offset: usize,
        /// Type mnemonic, for the message.
        rtype: String,
    },
}
