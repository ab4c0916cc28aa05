/* lib/text/fmt.c: the formatter behind kprintf and the user runtime's printf. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "text/fmt.h"

static char out[128];

static int fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = fmt_vsnprintf(out, sizeof(out), f, ap);
    va_end(ap);
    return n;
}

Test(fmt, integers)
{
    fmt("%d %i %u", -42, 7, 4000000000u);
    cr_assert_str_eq(out, "-42 7 4000000000");
    fmt("%ld %lu", (long)INT64_MIN, (unsigned long)UINT64_MAX);
    cr_assert_str_eq(out, "-9223372036854775808 18446744073709551615");
    fmt("%zu %x %X %lx", (size_t)12, 0xbeefu, 0xbeefu, 0xffff800000000000ul);
    cr_assert_str_eq(out, "12 beef BEEF ffff800000000000");
}

Test(fmt, width_and_flags)
{
    fmt("[%5d][%-5d][%05d][%05d]", 42, 42, 42, -42);
    cr_assert_str_eq(out, "[   42][42   ][00042][-0042]");
    fmt("[%016lx]", 0x1234ul);
    cr_assert_str_eq(out, "[0000000000001234]");
    fmt("[%-6s][%6s][%c]", "ab", "cd", 'z');
    cr_assert_str_eq(out, "[ab    ][    cd][z]");
}

Test(fmt, strings_with_precision)
{
    fmt("%.*s|%.2s|%s", 3, "abcdef", "xyz", (char *)NULL);
    cr_assert_str_eq(out, "abc|xy|(null)");
    /* A counted string need not be terminated within its length. */
    char unterminated[4] = {'w', 'x', 'y', 'z'};
    fmt("%.*s", 4, unterminated);
    cr_assert_str_eq(out, "wxyz");
}

Test(fmt, pointer_and_percent)
{
    fmt("%p %%", (void *)0x1000);
    cr_assert_str_eq(out, "0x0000000000001000 %");
}

Test(fmt, unknown_conversion_is_visible)
{
    fmt("%q%");
    cr_assert_str_eq(out, "%q");
}

static int fmt_into(char *buf, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = fmt_vsnprintf(buf, size, f, ap);
    va_end(ap);
    return n;
}

Test(fmt, truncation_reports_full_length)
{
    char small[5];
    memset(small, 'X', sizeof(small));
    int n = fmt_into(small, sizeof(small), "%s", "0123456789");
    cr_assert_eq(n, 10);
    cr_assert_str_eq(small, "0123");
    /* A zero-sized buffer is never written. */
    char guard = 'G';
    cr_assert_eq(fmt_into(&guard, 0, "%d", 12345), 5);
    cr_assert_eq(guard, 'G');
}
