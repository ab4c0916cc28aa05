/*
 * Host tests for the strict UTF-8 decoder (lib/text/utf8.c): what it takes,
 * where it says the first bad sequence starts, and the code points it
 * decodes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "text/utf8.h"

static void ok(const char *s)
{
    size_t n = strlen(s);
    cr_assert_eq(utf8_check(s, n), n, "\"%s\" is UTF-8", s);
}

static void bad_at(const char *s, size_t at, const char *why)
{
    cr_assert_eq(utf8_check(s, strlen(s)), at, "%s: the first bad byte is at %zu", why, at);
}

Test(utf8, accepts_text)
{
    ok("");
    ok("plain ascii ~\x7f");
    ok("op\xc3\xa9 p\xc3\xa4ssw\xc3\xb6rd");
    ok("\xe2\x82\xac \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91");
    ok("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80"
       "\xf4\x8f\xbf\xbf");
}

Test(utf8, refuses_invalid_bytes)
{
    bad_at("ab\x80", 2, "a stray continuation byte");
    bad_at("a\xc0\x80", 1, "C0 (overlong NUL)");
    bad_at("a\xc1\xbf", 1, "C1");
    bad_at("a\xf5\x80\x80\x80", 1, "F5");
    bad_at("a\xff", 1, "FF");
    bad_at("op\xe9 ", 2, "a Latin-1 byte");
}

Test(utf8, refuses_overlong_and_surrogates)
{
    bad_at("\xe0\x80\xaf", 0, "overlong 3-byte");
    bad_at("\xe0\x9f\xbf", 0, "overlong U+07FF");
    bad_at("\xf0\x8f\xbf\xbf", 0, "overlong U+FFFF");
    bad_at("x\xed\xa0\x80", 1, "U+D800");
    bad_at("x\xed\xbf\xbf", 1, "U+DFFF");
    bad_at("\xf4\x90\x80\x80", 0, "U+110000");
}

Test(utf8, refuses_truncated_sequences)
{
    bad_at("ok\xc3", 2, "2-byte cut at the end");
    bad_at("ok\xe2\x82", 2, "3-byte cut at the end");
    bad_at("ok\xf0\x9f\x94", 2, "4-byte cut at the end");
    bad_at("\xe2\x82z", 0, "3-byte cut by ASCII");
}

Test(utf8, decodes_code_points)
{
    struct utf8_dec d;
    utf8_reset(&d);
    const uint8_t euro[] = {0xe2, 0x82, 0xac};
    cr_assert_eq(utf8_feed(&d, euro[0]), UTF8_MORE);
    cr_assert_eq(utf8_feed(&d, euro[1]), UTF8_MORE);
    cr_assert_eq(utf8_feed(&d, euro[2]), UTF8_CHAR);
    cr_assert_eq(d.cp, 0x20ac);
    const uint8_t key[] = {0xf0, 0x9f, 0x94, 0x91};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(utf8_feed(&d, key[i]), UTF8_MORE);
    cr_assert_eq(utf8_feed(&d, key[3]), UTF8_CHAR);
    cr_assert_eq(d.cp, 0x1f511);
    /* A byte that cuts a character short is not part of it. */
    cr_assert_eq(utf8_feed(&d, 0xc3), UTF8_MORE);
    cr_assert_eq(utf8_feed(&d, 'a'), UTF8_BAD_AGAIN);
    cr_assert_eq(utf8_feed(&d, 'a'), UTF8_CHAR);
    cr_assert_eq(d.cp, 'a');
}

Test(utf8, counts_characters)
{
    cr_assert_eq(utf8_count("caf\xc3\xa9", 5), 4);
    cr_assert_eq(utf8_count("\xf0\x9f\x94\x91\xe2\x82\xac", 7), 2);
    cr_assert_eq(utf8_count("", 0), 0);
}
