// SPDX-License-Identifier: GPL-2.0

//! UUIDs as mdev names them: parsed like `guid_parse()` and printed like `%pUl`.
//!
//! C source: [`lib/uuid.c`](srctree/lib/uuid.c).

use core::fmt;
use kernel::prelude::*;

/// Length of a UUID string (`UUID_STRING_LEN`): bytes, without NUL.
pub(crate) const UUID_STRING_LEN: usize = 36;

/// A UUID, kept in the order its string is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Uuid([u8; 16]);

/// Byte offsets of the 16 hex pairs in a UUID string.
const PAIRS: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Uuid {
    /// Parses the first 36 bytes of `s` as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`
    /// in either case, as `uuid_is_valid()` + `guid_parse()` do; bytes after
    /// the 36th are not looked at (the caller bounds the length).
    ///
    /// # Errors
    ///
    /// `EINVAL` when `s` is shorter than 36 bytes or is not a UUID.
    pub fn parse(s: &[u8]) -> Result<Self> {
        let s = s.get(..UUID_STRING_LEN).ok_or(EINVAL)?;
        if [8, 13, 18, 23].iter().any(|&i| s[i] != b'-') {
            return Err(EINVAL);
        }
        let mut out = [0u8; 16];
        for (o, &i) in out.iter_mut().zip(PAIRS.iter()) {
            *o = (hex(s[i]).ok_or(EINVAL)? << 4) | hex(s[i + 1]).ok_or(EINVAL)?;
        }
        Ok(Self(out))
    }
}

impl Uuid {
    /// The 16 bytes, in the order the string writes them.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Returns the string form: lower-case, hyphenated, NUL-terminated (the
    /// sysfs name of an mdev, as `%pUl`).
    pub fn to_cstring(&self) -> UuidString {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [b'-'; UUID_STRING_LEN + 1];
        for (b, &i) in self.0.iter().zip(PAIRS.iter()) {
            buf[i] = HEX[usize::from(b >> 4)];
            buf[i + 1] = HEX[usize::from(b & 0xf)];
        }
        buf[UUID_STRING_LEN] = 0;
        UuidString(buf)
    }
}

impl kernel::fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            self.to_cstring()
                .as_cstr()
                .to_str()
                .map_err(|_| fmt::Error)?,
        )
    }
}

/// A UUID string with its NUL, as [`Uuid::to_cstring`] makes it.
pub struct UuidString([u8; UUID_STRING_LEN + 1]);

impl UuidString {
    /// The string as a C string.
    pub fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_with_nul(&self.0).unwrap_or(c"")
    }
}

#[kernel::macros::kunit_tests(rmdev_mdev_uuid)]
mod tests {
    use super::*;

    const U: &[u8] = b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";

    #[test]
    fn parse_and_print_round_trip() -> Result {
        let u = Uuid::parse(U)?;
        assert_eq!(u.as_bytes()[..4], [0x83, 0xb8, 0xf4, 0xf2]);
        assert_eq!(u.as_bytes()[15], 0x01);
        assert_eq!(u.to_cstring().as_cstr().to_bytes(), U);
        Ok(())
    }

    #[test]
    fn upper_case_parses_and_prints_lower() -> Result {
        let u = Uuid::parse(b"83B8F4F2-509F-382F-3C1E-E6BFE0FA1001")?;
        assert!(u == Uuid::parse(U)?);
        assert_eq!(u.to_cstring().as_cstr().to_bytes(), U);
        Ok(())
    }

    #[test]
    fn bytes_after_the_36th_are_not_looked_at() -> Result {
        assert!(Uuid::parse(b"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001xyz")? == Uuid::parse(U)?);
        Ok(())
    }

    #[test]
    fn malformed_uuids_are_einval() -> Result {
        let bad: [&[u8]; 7] = [
            b"",
            b"83b8f4f2-509f-382f-3c1e-e6bfe0fa100",
            b"83b8f4f2-509f-382f-3c1e-e6bfe0fa100g",
            b"83b8f4f-2509f-382f-3c1e-e6bfe0fa1001",
            b"83b8f4f2_509f_382f_3c1e_e6bfe0fa1001",
            b"{3b8f4f2-509f-382f-3c1e-e6bfe0fa109}",
            b" 83b8f4f2-509f-382f-3c1e-e6bfe0fa100",
        ];
        for s in bad {
            assert!(Uuid::parse(s) == Err(EINVAL));
        }
        Ok(())
    }
}
