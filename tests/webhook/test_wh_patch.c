/* SPDX-License-Identifier: Apache-2.0 */
/* test_wh_patch.c - the binding annotation's JSON Patch: absent metadata, absent or
 * non-object annotations, new key, other value, same value (no patch), escaping of
 * '/' and '~', and that applying each patch gives the expected object. */
#include "webhook/wh.h"
#include "tests/support/wh_jsonpatch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

/* Builds the patch for object_json, applies it, and compares with want_json. */
static void check(const char *object_json, const char *key, const char *value,
                  const char *want_json, const char *want_patch)
{
    cJSON *obj = cJSON_Parse(object_json);
    cJSON *want = cJSON_Parse(want_json);
    struct cm_buf patch;
    struct cm_err err;
    bool changed = false;

    assert_non_null(obj);
    assert_non_null(want);
    cm_buf_init(&patch, 1 << 16);
    assert_int_equal(wh_patch_annotation(obj, key, value, &patch, &changed), 0);
    assert_true(changed);
    if (want_patch != NULL)
        assert_string_equal(patch.ptr, want_patch);
    assert_int_equal(wht_jsonpatch_apply(obj, patch.ptr, patch.len, &err), 0);
    assert_true(cJSON_Compare(obj, want, 1));
    cm_buf_free(&patch);
    cJSON_Delete(obj);
    cJSON_Delete(want);
}

static void test_annotations_absent(void **state)
{
    (void)state;
    check("{\"metadata\":{\"name\":\"a\"}}", "lockwarden.io/backup-policy", "gold",
          "{\"metadata\":{\"name\":\"a\",\"annotations\":{\"lockwarden.io/backup-policy\":"
          "\"gold\"}}}",
          "[{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":"
          "{\"lockwarden.io/backup-policy\":\"gold\"}}]");
    /* annotations: null is not a map either. */
    check("{\"metadata\":{\"annotations\":null}}", "k", "v",
          "{\"metadata\":{\"annotations\":{\"k\":\"v\"}}}", NULL);
}

static void test_metadata_absent(void **state)
{
    (void)state;
    check("{\"kind\":\"Deployment\"}", "k", "v",
          "{\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{\"k\":\"v\"}}}", NULL);
}

static void test_new_key_and_other_value(void **state)
{
    (void)state;
    check("{\"metadata\":{\"annotations\":{\"x\":\"1\"}}}", "lockwarden.io/backup-policy", "gold",
          "{\"metadata\":{\"annotations\":{\"x\":\"1\",\"lockwarden.io/backup-policy\":\"gold\"}}}",
          "[{\"op\":\"add\",\"path\":\"/metadata/annotations/lockwarden.io~1backup-policy\","
          "\"value\":\"gold\"}]");
    check("{\"metadata\":{\"annotations\":{\"lockwarden.io/backup-policy\":\"silver\"}}}",
          "lockwarden.io/backup-policy", "gold",
          "{\"metadata\":{\"annotations\":{\"lockwarden.io/backup-policy\":\"gold\"}}}",
          "[{\"op\":\"replace\",\"path\":\"/metadata/annotations/lockwarden.io~1backup-policy\","
          "\"value\":\"gold\"}]");
}

static void test_escaping(void **state)
{
    (void)state;
    /* RFC 6901: '~' -> ~0 first, '/' -> ~1; "~1" in a key must not become "/". */
    check("{\"metadata\":{\"annotations\":{}}}", "a~1b/c~", "\"quoted\"",
          "{\"metadata\":{\"annotations\":{\"a~1b/c~\":\"\\\"quoted\\\"\"}}}",
          "[{\"op\":\"add\",\"path\":\"/metadata/annotations/a~01b~1c~0\",\"value\":"
          "\"\\\"quoted\\\"\"}]");
}

static void test_same_value_no_patch(void **state)
{
    cJSON *obj = cJSON_Parse("{\"metadata\":{\"annotations\":{\"k\":\"v\"}}}");
    struct cm_buf patch;
    bool changed = true;

    (void)state;
    cm_buf_init(&patch, 1024);
    assert_int_equal(wh_patch_annotation(obj, "k", "v", &patch, &changed), 0);
    assert_false(changed);
    assert_int_equal(patch.len, 0);
    cm_buf_free(&patch);
    cJSON_Delete(obj);
}

static void test_not_an_object(void **state)
{
    cJSON *arr = cJSON_Parse("[1]");
    struct cm_buf patch;
    bool changed = true;

    (void)state;
    cm_buf_init(&patch, 1024);
    assert_int_equal(wh_patch_annotation(arr, "k", "v", &patch, &changed), CM_EINVAL);
    assert_false(changed);
    assert_int_equal(wh_patch_annotation(NULL, "k", "v", &patch, &changed), CM_EINVAL);
    cm_buf_free(&patch);
    cJSON_Delete(arr);
}

static void test_output_cap(void **state)
{
    cJSON *obj = cJSON_Parse("{\"metadata\":{}}");
    struct cm_buf patch;
    bool changed = false;

    (void)state;
    cm_buf_init(&patch, 16); /* far too small */
    assert_int_equal(wh_patch_annotation(obj, "key", "value", &patch, &changed), CM_ETOOBIG);
    assert_false(changed);
    assert_null(patch.ptr);
    cm_buf_free(&patch);
    cJSON_Delete(obj);
}

static void test_pointer_escape(void **state)
{
    struct cm_buf b;

    (void)state;
    cm_buf_init(&b, 64);
    assert_int_equal(wh_pointer_escape("~/x", 3, &b), 0);
    assert_string_equal(b.ptr, "~0~1x");
    cm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_annotations_absent),
        cmocka_unit_test(test_metadata_absent),
        cmocka_unit_test(test_new_key_and_other_value),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_same_value_no_patch),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_pointer_escape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
