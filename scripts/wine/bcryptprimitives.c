/* A stand-in for Windows' bcryptprimitives.dll, which Wine 8 (Debian 12) lacks and Rust's std (1.78+) imports
 * for ProcessPrng. Only for running the sandbox's Windows tests under Wine (scripts/test-windows-sandbox.sh);
 * it forwards to RtlGenRandom (advapi32's SystemFunction036), which Wine has. */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
