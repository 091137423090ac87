//! Crypto-PAn: keyed, prefix-preserving pseudonyms for IPv4 and IPv6
//! addresses (J. Xu, J. Fan, M. Ammar, S. Moon, "Prefix-Preserving IP
//! Address Anonymization", ICNP 2002), over AES-128 as in the reference
//! implementation: two addresses that share their first n bits get
//! pseudonyms that share their first n bits, and nothing more.
//!
//! The 32-byte key is split: the first 16 bytes key AES, the last 16 are
//! encrypted with it to make the pad. Bit i of the pseudonym is bit i of
//! the address XOR the top bit of AES(the address's first i bits followed
//! by the pad's remaining bits). IPv6 uses the same construction over
//! 128 bits (as the Go and Python implementations do). Pure.

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;

/// A Crypto-PAn instance for one key.
#[derive(Clone)]
pub struct CryptoPan {
    aes: Aes128,
    pad: [u8; 16],
}

impl std::fmt::Debug for CryptoPan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CryptoPan { .. }")
    }
}

impl CryptoPan {
    /// An instance for `key` (AES key, then pad secret).
    pub fn new(key: &[u8; 32]) -> CryptoPan {
        let aes = Aes128::new(GenericArray::from_slice(&key[..16]));
        let mut pad = GenericArray::clone_from_slice(&key[16..]);
        aes.encrypt_block(&mut pad);
        let mut p = [0u8; 16];
        p.copy_from_slice(&pad);
        CryptoPan { aes, pad: p }
    }

    /// The top bit of AES(block).
    fn prf_bit(&self, block: [u8; 16]) -> u8 {
        self.prf_byte(block) >> 7
    }

    /// AES(block) under this key.
    pub fn prf_block(&self, block: [u8; 16]) -> [u8; 16] {
        let mut b = GenericArray::from(block);
        self.aes.encrypt_block(&mut b);
        let mut out = [0u8; 16];
        out.copy_from_slice(&b);
        out
    }

    /// The first byte of AES(block) under this key (for other keyed
    /// pseudonyms of the same run, such as ports).
    pub fn prf_byte(&self, block: [u8; 16]) -> u8 {
        let mut b = GenericArray::from(block);
        self.aes.encrypt_block(&mut b);
        b[0]
    }

    /// The pseudonym of an IPv4 address (as a big-endian number).
    pub fn v4(&self, addr: u32) -> u32 {
        let pad4 = u32::from_be_bytes([self.pad[0], self.pad[1], self.pad[2], self.pad[3]]);
        let mut block = self.pad;
        let mut flips = 0u32;
        for pos in 0..32u32 {
            // The address's first `pos` bits, then the pad's bits.
            let keep = u32::MAX.checked_shl(32 - pos).unwrap_or(0);
            let input = (addr & keep) | (pad4 & !keep);
            block[..4].copy_from_slice(&input.to_be_bytes());
            flips |= u32::from(self.prf_bit(block)) << (31 - pos);
        }
        addr ^ flips
    }

    /// The pseudonym of an IPv6 address (as a big-endian number).
    pub fn v6(&self, addr: u128) -> u128 {
        let pad = u128::from_be_bytes(self.pad);
        let mut flips = 0u128;
        for pos in 0..128u32 {
            let keep = u128::MAX.checked_shl(128 - pos).unwrap_or(0);
            let input = (addr & keep) | (pad & !keep);
            flips |= u128::from(self.prf_bit(input.to_be_bytes())) << (127 - pos);
        }
        addr ^ flips
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// The key of the reference implementation's sample trace.
    const KEY: [u8; 32] = [
        21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131,
        121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
    ];

    #[test]
    fn reference_ipv4_vectors() {
        // From sample_trace_raw.dat / sample_trace_sanitized.dat of the
        // Crypto-PAn reference distribution.
        let vectors = [
            ("128.11.68.132", "135.242.180.132"),
            ("129.118.74.4", "134.136.186.123"),
            ("130.132.252.244", "133.68.164.234"),
            ("141.223.7.43", "141.167.8.160"),
            ("141.233.145.108", "141.129.237.235"),
            ("152.163.225.39", "151.140.114.167"),
            ("156.29.3.236", "147.225.12.42"),
            ("165.247.96.84", "162.9.99.234"),
            ("166.107.77.190", "160.132.178.185"),
            ("192.102.249.13", "252.138.62.131"),
            ("192.215.32.125", "252.43.47.189"),
            ("192.233.80.103", "252.25.108.8"),
            ("192.41.57.43", "252.222.221.184"),
            ("216.254.18.172", "235.7.16.162"),
            ("24.0.250.221", "100.15.198.226"),
            ("4.3.88.225", "124.60.155.63"),
            ("64.14.118.196", "0.255.183.58"),
            ("10.185.25.118", "117.161.29.118"),
        ];
        let pan = CryptoPan::new(&KEY);
        for (raw, want) in vectors {
            let raw: Ipv4Addr = raw.parse().unwrap();
            let got = Ipv4Addr::from(pan.v4(u32::from(raw)));
            assert_eq!(got.to_string(), want, "{raw}");
        }
    }

    #[test]
    fn ipv6_vectors_of_the_go_implementation() {
        let vectors = [
            ("::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"),
            ("::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"),
            ("::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"),
            ("2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"),
            ("2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"),
        ];
        let pan = CryptoPan::new(&KEY);
        for (raw, want) in vectors {
            let raw: Ipv6Addr = raw.parse().unwrap();
            let got = Ipv6Addr::from(pan.v6(u128::from(raw)));
            assert_eq!(got, want.parse::<Ipv6Addr>().unwrap(), "{raw}");
        }
    }

    #[test]
    fn prefixes_are_preserved() {
        let pan = CryptoPan::new(&[7; 32]);
        let a = pan.v4(0xC633_644D); // 198.51.100.77
        let b = pan.v4(0xC633_6401); // 198.51.100.1
        let c = pan.v4(0xC633_6501); // 198.51.101.1
        assert_eq!(a >> 8, b >> 8);
        assert_eq!(a >> 9, c >> 9, "share 23 bits");
        assert_ne!(a >> 8, c >> 8);
    }
}
