//! Keys: big-endian ids, so byte order is numeric order and a scope's keys
//! are one contiguous range.

/// A key of one id.
pub fn one(a: u64) -> [u8; 8] {
    a.to_be_bytes()
}

/// A key of a scope and an id.
pub fn two(a: u64, b: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&a.to_be_bytes());
    key[8..].copy_from_slice(&b.to_be_bytes());
    key
}

/// Every key of scope `a`, from id `from` (inclusive) to `to` (exclusive), as a byte range.
pub fn scope(a: u64, from: u64, to: Option<u64>) -> (Vec<u8>, Vec<u8>) {
    let start = two(a, from).to_vec();
    let end = match to {
        Some(to) => two(a, to).to_vec(),
        // Past every key of the scope: the next scope's first key, or the end.
        None => match a.checked_add(1) {
            Some(next) => two(next, 0).to_vec(),
            None => vec![0xff; 17],
        },
    };
    (start, end)
}

/// The first id of a key.
pub fn first(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(..8)?.try_into().ok()?))
}

/// The second id of a two-id key.
pub fn second(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(8..16)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_is_numeric_order() {
        assert!(two(1, u64::MAX) < two(2, 0));
        assert!(one(255) < one(256));
        let (start, end) = scope(7, 0, None);
        assert!(
            start.as_slice() <= two(7, 0).as_slice()
                && two(7, u64::MAX).as_slice() < end.as_slice()
        );
        assert!(two(8, 0).as_slice() >= end.as_slice());
        let (_, end) = scope(u64::MAX, 0, None);
        assert!(two(u64::MAX, u64::MAX).as_slice() < end.as_slice());
        assert_eq!((first(&two(3, 4)), second(&two(3, 4))), (Some(3), Some(4)));
    }
}
