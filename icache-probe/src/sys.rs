//! The OS-specific parts: memory mappings (read-write, and
//! read-write-execute for `--verify`) and pinning threads to CPUs.

/// A private anonymous mapping, unmapped on drop.
pub struct Region {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a plain memory region; the probe coordinates all access to it
// (atomics and joins order every write before the reads of other threads).
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

impl Region {
    /// `len` bytes, read-write (or read-write-execute with `exec`), every
    /// page already touched, so that no page fault lands in a measurement.
    /// `None` if the OS refuses (W^X policies refuse `exec`).
    pub fn map(len: usize, exec: bool) -> Option<Region> {
        let ptr = map_raw(len, exec)?;
        for page in (0..len).step_by(4096) {
            // SAFETY: inside the fresh writable mapping.
            unsafe { ptr.add(page).write_volatile(0) };
        }
        Some(Region { ptr, len })
    }

    /// The first byte.
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// Bytes mapped.
    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(unix)]
fn map_raw(len: usize, exec: bool) -> Option<*mut u8> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let populate = libc::MAP_POPULATE;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let populate = 0;
    let prot = libc::PROT_READ | libc::PROT_WRITE | if exec { libc::PROT_EXEC } else { 0 };
    // SAFETY: a new anonymous private mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | populate,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p.cast())
}

#[cfg(windows)]
fn map_raw(len: usize, exec: bool) -> Option<*mut u8> {
    use windows_sys::Win32::System::Memory::{
        VirtualAlloc, MEM_COMMIT, MEM_RESERVE, PAGE_EXECUTE_READWRITE, PAGE_READWRITE,
    };
    let prot = if exec {
        PAGE_EXECUTE_READWRITE
    } else {
        PAGE_READWRITE
    };
    // SAFETY: a new private allocation; no existing memory is affected.
    let p = unsafe { VirtualAlloc(core::ptr::null(), len, MEM_COMMIT | MEM_RESERVE, prot) };
    (!p.is_null()).then_some(p.cast())
}

#[cfg(not(any(unix, windows)))]
fn map_raw(_len: usize, _exec: bool) -> Option<*mut u8> {
    None
}

impl Drop for Region {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: our own mapping; no thread uses it any more (its users are
        // joined before the region is dropped).
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
        #[cfg(windows)]
        // SAFETY: as above; MEM_RELEASE takes size 0 and the base address.
        unsafe {
            use windows_sys::Win32::System::Memory::{VirtualFree, MEM_RELEASE};
            VirtualFree(self.ptr.cast(), 0, MEM_RELEASE);
        }
    }
}

/// The page size (4096 where the OS does not say).
pub fn page_size() -> usize {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if p > 0 {
            return p as usize;
        }
    }
    4096
}

/// Pinning threads to CPUs: Linux and Android only.
pub const CAN_PIN: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// The CPUs this process may run on, in order (Linux: its affinity mask;
/// elsewhere `0..available_parallelism`, not pinnable).
pub fn allowed_cpus() -> Vec<usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(set) = get_affinity() {
        let cpus: Vec<usize> = (0..SETSIZE)
            // SAFETY: `set` is an initialised cpu_set_t; `c` is in range.
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .collect();
        if !cpus.is_empty() {
            return cpus;
        }
    }
    (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
}

/// The calling thread's affinity mask, to restore with [`Affinity::restore`].
pub struct Affinity {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    set: Option<libc::cpu_set_t>,
}

impl Affinity {
    /// The calling thread's current mask.
    pub fn save() -> Affinity {
        Affinity {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            set: get_affinity(),
        }
    }

    /// Puts the calling thread back on the saved mask.
    pub fn restore(&self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(set) = &self.set {
            // SAFETY: a valid cpu_set_t for the calling thread (pid 0).
            unsafe { libc::sched_setaffinity(0, core::mem::size_of_val(set), set) };
        }
    }
}

/// CPUs a `cpu_set_t` holds.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SETSIZE: usize = 8 * core::mem::size_of::<libc::cpu_set_t>();

#[cfg(any(target_os = "linux", target_os = "android"))]
fn get_affinity() -> Option<libc::cpu_set_t> {
    // SAFETY: cpu_set_t is plain data; all zeros is the empty set.
    let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
    // SAFETY: `set` is writable and its size is passed.
    let r = unsafe { libc::sched_getaffinity(0, core::mem::size_of_val(&set), &mut set) };
    (r == 0).then_some(set)
}

/// Pins the calling thread to `cpu`. `false` where pinning is not
/// implemented (not Linux) or the kernel refused.
pub fn pin_to(cpu: usize) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: cpu_set_t is plain data; all zeros is the empty set.
        let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
        if cpu >= SETSIZE {
            return false;
        }
        // SAFETY: `cpu` < CPU_SETSIZE (checked above).
        unsafe { libc::CPU_SET(cpu, &mut set) };
        // SAFETY: a valid cpu_set_t for the calling thread (pid 0).
        unsafe { libc::sched_setaffinity(0, core::mem::size_of_val(&set), &set) == 0 }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = cpu;
        false
    }
}
