/*
 * Stand-in for Windows' bcryptprimitives.dll, for running Rust test binaries
 * under wine 8 (Debian 12).
 *
 * Why: Rust's std (1.78+) gets its random bytes (HashMap seeds, ...) from
 * ProcessPrng in bcryptprimitives.dll. Wine 8.0 has no such DLL, so the
 * Windows loader refuses every Rust program before main (exit status 53;
 * WINEDEBUG=err+all says "bcryptprimitives.dll ... not found"). Wine 9+
 * ships one; then this file is unnecessary.
 *
 * What: the one export std needs, ProcessPrng, forwarding to
 * SystemFunction036 (RtlGenRandom) from advapi32, which wine implements.
 * Like the real ProcessPrng it never fails: it always returns TRUE.
 *
 * Build (done by .ci/wine-env.sh):
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *       processprng.c processprng.def -ladvapi32
 * The .def file pins the export name to exactly "ProcessPrng" (x86_64 has
 * no stdcall "@8" decoration anyway; check with
 * `x86_64-w64-mingw32-objdump -p bcryptprimitives.dll`).
 *
 * Test use only: not a reviewed CSPRNG shim for production.
 */
#include <windows.h>

/* advapi32's RtlGenRandom; declared here rather than via <ntsecapi.h>. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* SystemFunction036 takes a 32-bit length; feed it in chunks. */
    while (len > 0) {
        ULONG chunk = len > 0x80000000u ? 0x80000000u : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            ExitProcess(0xC0000001u); /* no randomness: do not return junk */
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
