/*
 * bcryptprimitives.dll for Wine 8, which lacks it.
 *
 * Rust's standard library on Windows draws random bytes from ProcessPrng in
 * bcryptprimitives.dll (Windows 10 and later ship it). Wine 8 has no such
 * DLL, so every Rust program fails to start. This one exports ProcessPrng
 * over RtlGenRandom (advapi32's SystemFunction036), which Wine provides.
 * Only for running the Windows build under Wine; never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
