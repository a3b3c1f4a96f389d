/*
 * __fprintf_chk for a static musl link. Debian's LLVM libunwind (the
 * unwinder Rust's standard library links on musl) was built against glibc
 * with _FORTIFY_SOURCE and calls glibc's checked fprintf, which musl lacks.
 * This forwards it to vfprintf (the check is glibc's; it guards a format
 * string that is a constant in libunwind).
 */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *stream, int flag, const char *format, ...)
{
    va_list ap;
    int n;
    (void)flag;
    va_start(ap, format);
    n = vfprintf(stream, format, ap);
    va_end(ap);
    return n;
}
