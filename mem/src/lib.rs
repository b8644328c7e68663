//! `memcpy`, `memmove`, `memset` and `memcmp` for the contracts' Wasm.
//!
//! ink_env 5 links the crate `rlibc` 1.0.0 on wasm32, whose functions copy one byte per loop turn (and, being
//! strong symbols, win over compiler-builtins' word-wise ones): about 17 Wasm instructions per byte,
//! ≈ 40 k ps of ref_time per byte copied under pallet-contracts 31's weights. Every decode, clone and move of a
//! voucher, sub-account or account id goes through them. This crate takes rlibc's place (.cargo/config.toml
//! patches `rlibc` to it) and copies 32 bytes per turn with unaligned 64-bit loads and stores (Wasm allows any
//! alignment), then 8, then the tail byte by byte. The C symbols exist on wasm32 only; the routines behind them
//! are plain functions, tested natively against `core`'s copies.
//!
//! `no_builtins`: LLVM must not recognise the loops below as a memcpy and call them back.
#![no_std]
#![no_builtins]

const WORD: usize = 8;

/// Eight bytes from `src` to `dest`, any alignment.
#[inline(always)]
unsafe fn copy_word(dest: *mut u8, src: *const u8) {
    core::ptr::write_unaligned(dest as *mut u64, core::ptr::read_unaligned(src as *const u64));
}

/// Copies `n` bytes forward. Safe for overlapping regions when `dest <= src`.
///
/// # Safety
/// Both regions valid for `n` bytes.
#[inline(always)]
pub unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
    let mut i = 0usize;
    // 32 bytes per turn (an account id, a hash), then 8, then single bytes. `i` is a multiple of 32 in the
    // first loop, so `i | 8` is `i + 8`.
    while n.wrapping_sub(i) >= 4 * WORD {
        copy_word(dest.add(i), src.add(i));
        copy_word(dest.add(i | 8), src.add(i | 8));
        copy_word(dest.add(i | 16), src.add(i | 16));
        copy_word(dest.add(i | 24), src.add(i | 24));
        i = i.wrapping_add(4 * WORD);
    }
    while n.wrapping_sub(i) >= WORD {
        copy_word(dest.add(i), src.add(i));
        i = i.wrapping_add(WORD);
    }
    while i < n {
        *dest.add(i) = *src.add(i);
        i = i.wrapping_add(1);
    }
}

/// Copies `n` bytes where the regions may overlap.
///
/// # Safety
/// Both regions valid for `n` bytes.
#[inline(always)]
pub unsafe fn copy_overlapping(dest: *mut u8, src: *const u8, n: usize) {
    if (dest as usize) <= (src as usize) || (dest as usize) >= (src as usize).wrapping_add(n) {
        copy_forward(dest, src, n);
    } else {
        // dest overlaps the end of src: from the end, eight bytes at a time (each word is read whole before
        // it is written, and lies above everything still to be read), then the head.
        let mut i = n;
        while i >= WORD {
            i = i.wrapping_sub(WORD);
            copy_word(dest.add(i), src.add(i));
        }
        while i > 0 {
            i = i.wrapping_sub(1);
            *dest.add(i) = *src.add(i);
        }
    }
}

/// Sets `n` bytes to `b`.
///
/// # Safety
/// The region valid for `n` bytes.
#[inline(always)]
pub unsafe fn set(dest: *mut u8, b: u8, n: usize) {
    let w = u64::from_ne_bytes([b; 8]);
    let mut i = 0usize;
    while n.wrapping_sub(i) >= WORD {
        core::ptr::write_unaligned(dest.add(i) as *mut u64, w);
        i = i.wrapping_add(WORD);
    }
    while i < n {
        *dest.add(i) = b;
        i = i.wrapping_add(1);
    }
}

/// Compares `n` bytes: negative, zero or positive as C's `memcmp`.
///
/// # Safety
/// Both regions valid for `n` bytes.
#[inline(always)]
pub unsafe fn compare(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0usize;
    while i < n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return i32::from(x).wrapping_sub(i32::from(y));
        }
        i = i.wrapping_add(1);
    }
    0
}

#[cfg(target_arch = "wasm32")]
mod c {
    /// # Safety
    /// The C contract of `memcpy`.
    #[no_mangle]
    pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        super::copy_forward(dest, src, n);
        dest
    }

    /// # Safety
    /// The C contract of `memmove`.
    #[no_mangle]
    pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        super::copy_overlapping(dest, src, n);
        dest
    }

    /// # Safety
    /// The C contract of `memset` (C passes the byte as an int).
    #[no_mangle]
    pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
        super::set(dest, c.to_le_bytes()[0], n);
        dest
    }

    /// # Safety
    /// The C contract of `memcmp`.
    #[no_mangle]
    pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        super::compare(a, b, n)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i.wrapping_mul(31) ^ (i >> 3)) as u8).collect()
    }

    #[test]
    fn copies_every_length_and_alignment() {
        for n in 0..140 {
            for (so, d_o) in [(0, 0), (1, 0), (0, 3), (5, 7), (7, 1)] {
                let src = pattern(n + 8);
                let mut dest = std::vec![0xEEu8; n + 16];
                unsafe { super::copy_forward(dest.as_mut_ptr().add(d_o), src.as_ptr().add(so), n) };
                assert_eq!(&dest[d_o..d_o + n], &src[so..so + n], "n {n} offsets {so}/{d_o}");
                assert!(dest[..d_o].iter().chain(&dest[d_o + n..]).all(|&b| b == 0xEE), "wrote outside");
            }
        }
    }

    #[test]
    fn moves_overlapping_regions_like_copy_within() {
        for n in 0..100 {
            for (from, to) in [(0, 1), (1, 0), (0, 9), (9, 0), (3, 35), (35, 3), (0, 0), (4, 12)] {
                let mut ours = pattern(n + 40);
                let mut std_ = ours.clone();
                std_.copy_within(from..from + n, to);
                let p = ours.as_mut_ptr();
                unsafe { super::copy_overlapping(p.add(to), p.add(from), n) };
                assert_eq!(ours, std_, "n {n} from {from} to {to}");
            }
        }
    }

    #[test]
    fn sets_and_compares() {
        for n in 0..70 {
            let mut v = std::vec![1u8; n + 2];
            unsafe { super::set(v.as_mut_ptr().add(1), 0xAB, n) };
            assert_eq!(v[0], 1);
            assert!(v[1..=n].iter().all(|&b| b == 0xAB));
            assert_eq!(v[n + 1], 1);
            let a = pattern(n);
            let mut b = a.clone();
            assert_eq!(unsafe { super::compare(a.as_ptr(), b.as_ptr(), n) }, 0);
            if n > 0 {
                b[n - 1] = b[n - 1].wrapping_add(1);
                let c = unsafe { super::compare(a.as_ptr(), b.as_ptr(), n) };
                assert_eq!(c.signum(), i32::from(a[n - 1]).cmp(&i32::from(b[n - 1])) as i32);
            }
        }
    }
}
