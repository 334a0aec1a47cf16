//! What the JIT tests (`tests/jit.rs`, `tests/load.rs`) share: machine
//! code for a function returning a constant, on every architecture the crate
//! executes on, and a `memfd` dual mapping.

#![allow(dead_code)] // not every includer uses everything

/// Machine code for `extern "C" fn() -> u32 { value }`, `value < 2048`.
pub fn return_const(value: u32) -> Vec<u8> {
    assert!(value < 2048, "fits every encoding below");
    #[cfg(target_arch = "x86_64")]
    let code = {
        // mov eax, imm32; ret
        let mut c = vec![0xb8];
        c.extend_from_slice(&value.to_le_bytes());
        c.push(0xc3);
        c
    };
    #[cfg(target_arch = "aarch64")]
    let code = [0x5280_0000 | (value << 5), 0xd65f_03c0] // movz w0, #value; ret
        .iter()
        .flat_map(|w: &u32| w.to_le_bytes())
        .collect();
    #[cfg(target_arch = "arm")]
    let code = [0xe300_0000 | value, 0xe12f_ff1e] // movw r0, #value (A32); bx lr
        .iter()
        .flat_map(|w: &u32| w.to_le_bytes())
        .collect();
    #[cfg(target_arch = "riscv64")]
    let code = [0x0000_0513 | (value << 20), 0x0000_8067] // addi a0, zero, value; ret
        .iter()
        .flat_map(|w: &u32| w.to_le_bytes())
        .collect();
    #[cfg(target_arch = "s390x")]
    let code = {
        // lghi %r2, value; br %r14
        let v = (value as u16).to_be_bytes();
        vec![0xa7, 0x29, v[0], v[1], 0x07, 0xfe]
    };
    code
}

/// A dual mapping of one memfd: a writable alias and an executable alias,
/// as hardened JITs use (never writable and executable at one address).
pub struct DualMapping {
    /// The writable alias.
    pub rw: *mut u8,
    /// The executable alias.
    pub rx: *mut u8,
    /// Bytes in each.
    pub len: usize,
}

// SAFETY: raw pointers to a shared mapping; all access is coordinated below.
unsafe impl Send for DualMapping {}
// SAFETY: as above.
unsafe impl Sync for DualMapping {}

impl DualMapping {
    /// A new memfd of `len` bytes, mapped RW and RX.
    pub fn new(len: usize) -> DualMapping {
        // SAFETY: the name is a valid C string; the fd is ours and closed below.
        let fd =
            unsafe { libc::memfd_create(c"icache-coherence-test".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(fd >= 0, "memfd_create");
        // SAFETY: fd is a valid memfd.
        assert_eq!(unsafe { libc::ftruncate(fd, len as libc::off_t) }, 0);
        let map = |prot| {
            // SAFETY: a new shared mapping of our memfd.
            let p =
                unsafe { libc::mmap(core::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd, 0) };
            assert_ne!(p, libc::MAP_FAILED, "mmap");
            p.cast::<u8>()
        };
        let rw = map(libc::PROT_READ | libc::PROT_WRITE);
        let rx = map(libc::PROT_READ | libc::PROT_EXEC);
        // SAFETY: the mappings keep the memory alive; the fd is no longer needed.
        unsafe { libc::close(fd) };
        DualMapping { rw, rx, len }
    }
}

impl Drop for DualMapping {
    fn drop(&mut self) {
        // SAFETY: our own mappings, no longer used by any thread.
        unsafe {
            libc::munmap(self.rw.cast(), self.len);
            libc::munmap(self.rx.cast(), self.len);
        }
    }
}
